import * as assert from "node:assert";
import { created, ofType, settle, unwrapSecret, valueOf, isWrappedSecret } from "../helpers/mocks";
import { runProgram, stackConfig } from "../helpers/stack";
import * as pulumi from "@pulumi/pulumi";

const TOKEN = /SWMTKN-1-[A-Za-z0-9]{20,}/;

type Exports = Record<string, pulumi.Output<unknown> | string | undefined>;

async function evaluate(stack: string): Promise<Exports> {
  created.length = 0;
  const out = runProgram(stackConfig(stack)) as Exports;
  // The bootstrap's last step resolves only after every resource before it registered.
  await valueOf(pulumi.all([out.managerPrivateIps, out.workerPrivateIps, out.workerJoinToken]) as pulumi.Output<unknown>, 20000);
  await settle();
  return out;
}

const count = (type: string) => ofType(type).length;
const tag = (r: pulumi.runtime.MockResourceArgs, k: string) => (r.inputs.tags as Record<string, string>)[k];

describe("program: dev stack", () => {
  let out: Exports;
  before(async () => {
    out = await evaluate("dev");
  });

  it("builds one manager and one worker with public addresses over two AZs", () => {
    const instances = ofType("aws:ec2/instance:Instance").sort((a, b) => a.name.localeCompare(b.name));
    assert.deepStrictEqual(instances.map((i) => [i.name, tag(i, "swarm:role"), i.inputs.associatePublicIpAddress]), [
      ["swarm-managers-manager-1", "manager", true],
      ["swarm-workers-worker-1", "worker", true],
    ]);
  });

  it("has no NAT gateway and no bastion", () => {
    assert.strictEqual(count("aws:ec2/natGateway:NatGateway"), 0);
    assert.ok(!ofType("aws:ec2/instance:Instance").some((i) => /bastion/.test(i.name)));
  });

  it("creates exactly the bootstrap steps for 1 manager and 1 worker", () => {
    const bootstrap = ofType("command:remote:Command").filter((c) => c.name.startsWith("swarm-swarm-"));
    assert.deepStrictEqual(bootstrap.map((c) => c.name).sort(), [
      "swarm-swarm-control-steps", "swarm-swarm-manager-1-init", "swarm-swarm-manager-1-join", "swarm-swarm-manager-1-member",
      "swarm-swarm-manager-1-steps", "swarm-swarm-manager-token", "swarm-swarm-prune", "swarm-swarm-rebalance",
      "swarm-swarm-worker-1-join", "swarm-swarm-worker-1-member", "swarm-swarm-worker-1-steps", "swarm-swarm-worker-token",
    ]);
  });

  it("has no bootstrap delete hook at all: removal runs on a manager that answers, in label and prune steps", () => {
    const withDelete = ofType("command:remote:Command").filter((c) => c.name.startsWith("swarm-swarm-") && c.inputs.delete !== undefined);
    assert.deepStrictEqual(withDelete.map((c) => c.name), []);
  });

  it("connects to the nodes' public addresses as ec2-user with the generated key", () => {
    const join = ofType("command:remote:Command").find((c) => c.name === "swarm-swarm-worker-1-join")!;
    const conn = unwrapSecret(join.inputs.connection) as Record<string, unknown>;
    assert.strictEqual(conn.user, "ec2-user");
    assert.match(String(conn.host), /^203\.0\.113\./);
    assert.match(String(unwrapSecret(conn.privateKey)), /^mock-openssh-private-key-for-swarm-ssh-key$/);
  });

  it("exports the contract's outputs with tokens and the private key secret", async () => {
    for (const k of ["vpcId", "managerPrivateIps", "workerPrivateIps", "registryBucket", "managerJoinToken", "workerJoinToken", "sshPrivateKey"]) {
      assert.ok(out[k] !== undefined, `missing export ${k}`);
    }
    for (const k of ["managerJoinToken", "workerJoinToken", "sshPrivateKey"]) {
      assert.ok(await pulumi.isSecret(out[k] as pulumi.Output<unknown>), `${k} is not secret`);
    }
    assert.ok(!(await pulumi.isSecret(out.managerPrivateIps as pulumi.Output<unknown>)));
    assert.strictEqual((await valueOf(out.managerPrivateIps as pulumi.Output<string[]>)).length, 1);
  });

  it("puts no token or private key in any tag, user data or command text", () => {
    for (const r of created) {
      const visible = JSON.stringify({ tags: r.inputs.tags, userData: r.inputs.userData, create: r.inputs.create, delete: r.inputs.delete });
      assert.doesNotMatch(visible, TOKEN, r.name);
      assert.doesNotMatch(visible, /PRIVATE KEY|mock-openssh-private-key/, r.name);
    }
  });

  it("requires IMDSv2 with hop limit 2 and encrypted root volumes on every node", () => {
    for (const i of ofType("aws:ec2/instance:Instance")) {
      assert.deepStrictEqual(i.inputs.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 });
      assert.strictEqual((i.inputs.rootBlockDevice as { encrypted: boolean }).encrypted, true);
    }
  });
});

describe("program: prod stack", () => {
  let out: Exports;
  before(async () => {
    out = await evaluate("prod");
  });

  it("spreads three managers over three AZs and three workers likewise", () => {
    const subnetOf = (prefix: string) => ofType("aws:ec2/instance:Instance").filter((i) => i.name.startsWith(prefix)).map((i) => i.inputs.subnetId);
    assert.strictEqual(new Set(subnetOf("swarm-managers-manager-")).size, 3);
    assert.strictEqual(new Set(subnetOf("swarm-workers-worker-")).size, 3);
  });

  it("gives no node a public address and adds one NAT gateway and a bastion", () => {
    const nodes = ofType("aws:ec2/instance:Instance").filter((i) => tag(i, "swarm:role"));
    assert.strictEqual(nodes.length, 6);
    assert.ok(nodes.every((n) => n.inputs.associatePublicIpAddress === false));
    assert.strictEqual(count("aws:ec2/natGateway:NatGateway"), 1);
    assert.strictEqual(ofType("aws:ec2/instance:Instance").filter((i) => /bastion/.test(i.name)).length, 1);
  });

  it("reaches private nodes through the bastion", () => {
    const join = ofType("command:remote:Command").find((c) => c.name === "swarm-swarm-worker-3-join")!;
    const conn = unwrapSecret(join.inputs.connection) as Record<string, unknown>;
    assert.match(String(conn.host), /^10\.0\./);
    assert.ok(conn.proxy, "no proxy through the bastion");
  });

  it("uses the configured instance types per role", () => {
    const types = ofType("aws:ec2/instance:Instance").filter((i) => tag(i, "swarm:role")).map((i) => [tag(i, "swarm:role"), i.inputs.instanceType]);
    assert.deepStrictEqual([...new Set(types.map((t) => t.join(":")))].sort(), ["manager:t3.medium", "worker:t3.large"]);
  });

  it("labels every node with its AZ, role and instance type", () => {
    const labels = ofType("command:remote:Command").filter((c) => c.name.endsWith("-member")).map((c) => String(c.inputs.create).match(/'az=[^']+' 'instance-type=[^']+' 'role=\w+'$/)?.[0]);
    assert.strictEqual(labels.filter(Boolean).length, 6);
  });

  it("keeps join tokens secret", async () => {
    assert.ok(await pulumi.isSecret(out.workerJoinToken as pulumi.Output<unknown>));
    const joins = ofType("command:remote:Command").filter((c) => c.name.endsWith("-join"));
    assert.strictEqual(joins.length, 6);
    assert.ok(joins.every((j) => isWrappedSecret(j.inputs.stdin)));
  });
});

describe("program: the user's own SSH key", () => {
  const saved = process.env.SSH_AUTH_SOCK;
  before(async () => {
    process.env.SSH_AUTH_SOCK = "/tmp/ssh-login-1/agent.42";
    created.length = 0;
    const config = { ...stackConfig("prod"), "aws-swarm:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDzTestOnlyNotAKey me@laptop" };
    const out = runProgram(config) as Exports;
    await valueOf(pulumi.all([out.workerPrivateIps, out.workerJoinToken]) as pulumi.Output<unknown>, 20000);
    await settle();
  });
  after(() => {
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
  });

  it("stores no agent socket path in any command, so a new login re-runs nothing", () => {
    const commands = ofType("command:remote:Command");
    assert.ok(commands.length > 10);
    for (const c of commands) {
      const conn = unwrapSecret(c.inputs.connection) as Record<string, unknown>;
      const proxy = (conn.proxy ?? {}) as Record<string, unknown>;
      assert.deepStrictEqual([conn.agentSocketPath, proxy.agentSocketPath, conn.privateKey], [undefined, undefined, undefined], c.name);
      assert.ok(!JSON.stringify(c.inputs).includes("/tmp/ssh-login-1"), `${c.name} holds the login's socket`);
    }
  });
});

describe("program: bad config", () => {
  it("fails before registering any resource, naming key, value and fix", async () => {
    created.length = 0;
    assert.throws(() => runProgram({ ...stackConfig("dev"), "aws-swarm:managerCount": "4" }),
      /aws-swarm:managerCount is 4; a Swarm manager quorum must be odd and at most 7: use 1, 3, 5 or 7\./);
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
  });
});

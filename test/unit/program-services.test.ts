import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { created, isWrappedSecret, ofType, settle, unwrapSecret, valueOf } from "../helpers/mocks";
import { whenSettled } from "../helpers/policy";
import { runProgram, stackConfig } from "../helpers/stack";

type Exports = Record<string, pulumi.Output<unknown> | string | undefined>;
type Recorded = pulumi.runtime.MockResourceArgs;

const DB_PASSWORD = "s3cr3t-Db-Passw0rd!";
const base64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** The README's example: nginx, 8 replicas on port 80, and an API with a secret. */
const EXAMPLE_SERVICES = [
  { name: "web", image: "nginx:1.27", replicas: 8, ports: [{ published: 80, target: 80 }] },
  {
    name: "api",
    image: "127.0.0.1:5000/api:1.0",
    ports: [{ published: 8080, target: 3000 }],
    env: { DB_HOST: "db" },
    secrets: ["db-password"],
    networks: ["backend"],
  },
];

/** A stack's config plus services, their secret and a directly allowed network. */
function withServices(stack: string): Record<string, string> {
  return {
    ...stackConfig(stack),
    "aws-swarm:services": JSON.stringify(EXAMPLE_SERVICES),
    "aws-swarm:publishedCidrs": JSON.stringify(["192.0.2.0/24"]),
    "aws-swarm-secrets:db-password": DB_PASSWORD,
  };
}

async function evaluate(config: Record<string, string>): Promise<Exports> {
  created.length = 0;
  const out = runProgram(config) as Exports;
  await valueOf(out.workerJoinToken as pulumi.Output<unknown>, 20000);
  await whenSettled(created);
  return out;
}

const named = (name: string): Recorded => {
  const r = created.find((x) => x.name === name);
  assert.ok(r, `no resource ${name}`);
  return r;
};

describe("program: dev stack with services", () => {
  let out: Exports;
  before(async () => {
    out = await evaluate(withServices("dev"));
  });

  it("exports the load balancer's DNS name", async () => {
    const dns = out.loadBalancerDnsName;
    assert.ok(pulumi.Output.isInstance(dns));
    assert.strictEqual(await valueOf(dns), "swarm-lb-nlb.elb.us-east-1.amazonaws.com");
  });

  it("runs nginx with 8 replicas published on port 80", () => {
    const web = named("swarm-services-web").inputs;
    assert.deepStrictEqual([web.name, web.mode], ["web", { replicated: { replicas: 8 } }]);
    assert.deepStrictEqual((web.endpointSpec as { ports: unknown }).ports, [
      { protocol: "tcp", publishMode: "ingress", publishedPort: 80, targetPort: 80 },
    ]);
  });

  it("listens on every published port and registers both nodes", () => {
    assert.deepStrictEqual(ofType("aws:lb/listener:Listener").map((l) => [l.inputs.port, l.inputs.protocol]).sort(), [
      [80, "TCP"], [8080, "TCP"],
    ]);
    assert.deepStrictEqual(ofType("aws:lb/targetGroupAttachment:TargetGroupAttachment").map((a) => a.name).sort(), [
      "swarm-lb-80-tcp-manager-1", "swarm-lb-80-tcp-worker-1", "swarm-lb-8080-tcp-manager-1", "swarm-lb-8080-tcp-worker-1",
    ]);
  });

  it("lets the configured network reach the published ports on the nodes directly", () => {
    const rule = named("swarm-lb-nodes-80-tcp-from-192-0-2-0-24").inputs;
    assert.deepStrictEqual([rule.securityGroupId, rule.cidrIpv4, rule.fromPort], ["swarm-network-nodes-id", "192.0.2.0/24", 80]);
  });

  it("reads the secret from aws-swarm-secrets and hands it to Docker only, wrapped as a secret", () => {
    const data = named("swarm-services-secret-db-password").inputs.data;
    assert.ok(isWrappedSecret(data));
    assert.strictEqual(unwrapSecret(data), base64(DB_PASSWORD));
    for (const r of created) {
      const inputs = r.type === "docker:index/secret:Secret" ? { ...r.inputs, data: undefined } : r.inputs;
      const text = JSON.stringify(inputs);
      assert.ok(!text.includes(DB_PASSWORD) && !text.includes(base64(DB_PASSWORD)), `${r.name} carries the secret`);
    }
  });

  it("talks to the manager's public address as ec2-user with the generated key, by path", () => {
    const provider = named("swarm-services-docker").inputs;
    assert.match(String(provider.host), /^ssh:\/\/ec2-user@203\.0\.113\.\d+:22$/);
    const opts = JSON.parse(String(unwrapSecret(provider.sshOpts))) as string[];
    assert.match(opts[opts.indexOf("-i") + 1], /aws-swarm-test-swarm-services\.key$/);
    assert.ok(!JSON.stringify(provider).includes("mock-openssh-private-key"));
  });

  it("uses Docker only after every node joined and every registry started", () => {
    const at = (name: string) => created.findIndex((r) => r.name === name);
    const before = created.filter((r) => /^swarm-(swarm-.*-member|registry-(manager|worker)-\d+)$/.test(r.name));
    assert.strictEqual(before.length, 4);
    const provider = at("swarm-services-docker");
    for (const r of before) assert.ok(at(r.name) < provider, `${r.name} registered after the provider`);
  });
});

describe("program: prod stack with services", () => {
  before(async () => {
    await evaluate(withServices("prod"));
  });

  it("reaches the private first manager through the bastion", () => {
    const provider = named("swarm-services-docker").inputs;
    assert.match(String(provider.host), /^ssh:\/\/ec2-user@10\.0\.\d+\.\d+:22$/);
    const opts = JSON.parse(String(unwrapSecret(provider.sshOpts))) as string[];
    assert.match(opts[opts.length - 1], /^ProxyCommand='ssh' .* '-W' '%h:%p' 'ec2-user@203\.0\.113\.\d+'$/);
  });

  it("registers all six nodes behind the load balancer in the public subnets", () => {
    assert.strictEqual(ofType("aws:lb/targetGroupAttachment:TargetGroupAttachment").length, 12);
    const lb = ofType("aws:lb/loadBalancer:LoadBalancer")[0].inputs;
    assert.deepStrictEqual(lb.subnets, ["swarm-network-public-1-id", "swarm-network-public-2-id", "swarm-network-public-3-id"]);
  });
});

describe("program: services config", () => {
  it("puts a load balancer in front of publishedPorts even without services", async () => {
    const out = await evaluate({ ...stackConfig("dev"), "aws-swarm:publishedPorts": '[8443, {"port": 53, "protocol": "udp"}]' });
    assert.ok(out.loadBalancerDnsName !== undefined);
    const listeners = ofType("aws:lb/listener:Listener").map((l) => `${l.inputs.port}/${String(l.inputs.protocol).toLowerCase()}`);
    assert.deepStrictEqual(listeners.sort(), ["53/udp", "8443/tcp"]);
    assert.deepStrictEqual(ofType("docker:index/service:Service"), []);
  });

  it("exports no load balancer when nothing is published", async () => {
    const out = await evaluate({ ...stackConfig("dev"), "aws-swarm:services": JSON.stringify([{ name: "w", image: "w:1" }]) });
    assert.strictEqual(out.loadBalancerDnsName, undefined);
    assert.deepStrictEqual(created.filter((r) => r.type.startsWith("aws:lb/")), []);
  });

  it("fails before registering any resource, naming the key, the value and the fix", async () => {
    created.length = 0;
    const services = JSON.stringify([{ name: "web", image: "nginx", ports: [{ published: 2377, target: 80 }] }]);
    assert.throws(
      () => runProgram({ ...stackConfig("dev"), "aws-swarm:services": services }),
      /aws-swarm:services\[0\]\.ports\[0\]\.published is 2377, which is reserved for SSH, the Docker API, Swarm or the registry \(22, 2375, 2376, 2377, 7946, 4789, 5000\); publish the service on another port\./,
    );
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
  });

  it("fails when a listed secret is not set", () => {
    const services = JSON.stringify([{ name: "api", image: "x", secrets: ["db-password"] }]);
    assert.throws(
      () => runProgram({ ...stackConfig("dev"), "aws-swarm:services": services }),
      /aws-swarm:services\[0\]\.secrets\[0\] is "db-password", but that secret has no value; run pulumi config set --secret aws-swarm-secrets:db-password <value>\./,
    );
  });
});

import * as assert from "node:assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ComposeStack } from "../../components/compose";
import { created, isWrappedSecret, ofType, settle, unwrapSecret, valueOf } from "../helpers/mocks";
import { whenSettled } from "../helpers/policy";
import { runProgram, stackConfig } from "../helpers/stack";

const baseDir = path.join(__dirname, "..", "fixtures", "compose");
const manager = { host: "10.0.0.10", user: "root", privateKey: pulumi.secret("KEY") };
const SECRET = "Sup3r-Secret-Value";

/** The deploy step's stdin lines, decoded: ["compose", yaml] and ["secret", name, value]. */
function decoded(stdin: string): string[][] {
  return stdin.trim().split("\n").map((l) => {
    const [kind, ...rest] = l.split(" ");
    return kind === "compose" ? [kind, Buffer.from(rest[0], "base64").toString()] : [kind, rest[0], Buffer.from(rest[1], "base64").toString()];
  });
}

async function deployOf(name: string, secret: string) {
  created.length = 0;
  const stack = new ComposeStack(name, { composeFile: "v3.yml", baseDir, manager, secrets: { "db-password": pulumi.secret(secret) } });
  await valueOf(stack.services);
  // The remove step registers once the deploy it depends on has.
  for (let i = 0; i < 40 && !ofType("command:remote:Command").some((r) => r.name === `${name}-remove`); i++) await settle();
  const cmd = ofType("command:remote:Command").find((r) => r.name === `${name}-deploy`)!;
  return { stack, cmd };
}

describe("ComposeStack under mocks", () => {
  it("deploys with one step on the manager whose secret stdin carries the file and the secret value", async () => {
    const { stack, cmd } = await deployOf("shop", SECRET);
    assert.deepStrictEqual(ofType("command:remote:Command").map((r) => r.name).sort(), ["shop-deploy", "shop-remove"]);
    // The provider re-sends a create's stdin on delete: the delete lives on a step without any.
    assert.strictEqual(cmd.inputs.delete, undefined);
    const remove = ofType("command:remote:Command").find((r) => r.name === "shop-remove")!;
    assert.deepStrictEqual([remove.inputs.stdin, remove.inputs.create], [undefined, undefined]);
    assert.ok(isWrappedSecret(cmd.inputs.stdin));
    const lines = decoded(unwrapSecret(cmd.inputs.stdin) as string);
    assert.deepStrictEqual(lines.map((l) => l[0]), ["compose", "secret"]);
    assert.match(lines[0][1], /name: shop_db-password_[0-9a-f]{12}/);
    assert.deepStrictEqual(lines[1].slice(2), [SECRET]);
    assert.deepStrictEqual(stack.endpoints, [{ port: 8080, protocol: "tcp" }, { port: 9090, protocol: "udp" }]);
    assert.deepStrictEqual(cmd.inputs.triggers, ["shop"]);
  });

  it("keeps the secret and the file out of the command text", async () => {
    const { cmd } = await deployOf("shop", SECRET);
    const remove = ofType("command:remote:Command").find((r) => r.name === "shop-remove")!;
    for (const [k, text] of [["create", String(cmd.inputs.create)], ["delete", String(remove.inputs.delete)]]) {
      assert.ok(!text.includes(SECRET), `${k} has the secret`);
      assert.ok(!text.includes("db-password"), `${k} has the file`);
      assert.match(text, /swarm-compose-(deploy '300'|remove '60') 'shop' '300'$/);
    }
  });

  it("changes stdin, so the deploy re-runs, when the secret changes, and keeps it for the same value", async () => {
    const a = unwrapSecret((await deployOf("shop", SECRET)).cmd.inputs.stdin);
    const b = unwrapSecret((await deployOf("shop", SECRET)).cmd.inputs.stdin);
    const c = unwrapSecret((await deployOf("shop", "other")).cmd.inputs.stdin);
    assert.strictEqual(a, b);
    assert.notStrictEqual(a, c);
  });

  it("rejects a bad file before registering anything", async () => {
    created.length = 0;
    assert.throws(() => new ComposeStack("bad", { composeFile: "bad-ports.yml", baseDir, manager }), /bad-ports\.yml:5: services\.web\.ports\[0\] publishes 2377/);
    assert.throws(() => new ComposeStack("nosecret", { composeFile: "v3.yml", baseDir, manager }),
      /v3\.yml:15: secrets\.db-password has no value; pass its value as secrets\["db-password"\]/);
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.custom), []);
  });
});

describe("program: dev stack with a compose stack", () => {
  before(async () => {
    created.length = 0;
    const out = runProgram({
      ...stackConfig("dev"),
      "aws-swarm:stacks": JSON.stringify([{ name: "shop", composeFile: "test/fixtures/compose/v3.yml" }]),
      "aws-swarm-secrets:db-password": SECRET,
    }) as Record<string, pulumi.Output<unknown>>;
    await valueOf(out.workerJoinToken, 20000);
    await whenSettled(created);
  });

  it("deploys the stack from the manager that answers (manager-1 under mocks) once the swarm is ready", () => {
    const cmd = created.find((r) => r.name === "swarm-stack-shop-deploy");
    assert.ok(cmd, "no deploy step");
    assert.ok(isWrappedSecret(cmd.inputs.stdin));
  });

  it("feeds the stack's published ports to the load balancer", () => {
    const listeners = ofType("aws:lb/listener:Listener").map((l) => `${l.inputs.port}/${String(l.inputs.protocol).toLowerCase()}`);
    assert.deepStrictEqual(listeners.sort(), ["8080/tcp", "9090/udp"]);
  });

  it("fails the config, naming the stack, file and line, before any resource", () => {
    assert.throws(() => runProgram({
      ...stackConfig("dev"),
      "aws-swarm:stacks": JSON.stringify([{ name: "shop", composeFile: "test/fixtures/compose/bad-env.yml" }]),
    }), /aws-swarm:stacks\[0\] \(shop\): test\/fixtures\/compose\/bad-env\.yml:3: services\.web\.image uses \$\{TAG\}/);
  });
});

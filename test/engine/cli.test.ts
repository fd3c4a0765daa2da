import * as assert from "node:assert";
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { SwarmBootstrap } from "../../components/bootstrap";
import { Engine, recorder } from "./engine";

/** A component with a secret output: the smallest program whose lifecycle says something. */
class Probe extends pulumi.ComponentResource {
  readonly secret: pulumi.Output<string>;
  constructor(name: string, value: string) {
    super("aws-swarm:test:Probe", name, {}, {});
    this.secret = pulumi.secret(value);
    this.registerOutputs({ secret: this.secret });
  }
}

describe("real Pulumi engine (CLI built from tools/engine)", function () {
  const engine = new Engine();
  after(() => engine.dispose());

  it("runs up, a no-change up, an export without plaintext secrets and destroy, all offline", async () => {
    const value = `probe-${randomBytes(16).toString("hex")}`;
    const stack = await engine.stack("engine-probe", "t1", async () => ({ secret: new Probe("p", value).secret }));

    const first = await stack.up();
    assert.deepStrictEqual(first.summary.resourceChanges, { create: 2 });
    assert.strictEqual(first.outputs.secret.secret, true);

    const second = await stack.up();
    assert.deepStrictEqual(second.summary.resourceChanges, { same: 2 });

    const exported = await engine.exportState(stack);
    assert.ok(!exported.includes(value), "the secret output is stored in plain text");
    assert.match(exported, /"ciphertext"/);

    await stack.destroy();
    assert.deepStrictEqual((await stack.exportStack()).deployment.resources ?? [], []);
  });

  it("stops SwarmBootstrap with bad Args at preview with its message alone, before any command", async () => {
    const host = (i: number) => ({ name: `manager-${i}`, privateIp: `10.0.0.${i}`, connection: { host: `10.0.0.${i}` } });
    const stack = await engine.stack("engine-bad-args", "t1", async () => {
      new SwarmBootstrap("lab", { managers: [host(1), host(2)] });
    });
    const rec = recorder();
    await assert.rejects(stack.preview({ onEvent: rec.onEvent }));
    const messages = rec.diagnostics().join("\n");
    assert.match(messages, /managers\.length is 2; .*use 1, 3, 5 or 7/);
    assert.doesNotMatch(messages, /^\s+at /m, "a stack trace reached the user");
    assert.deepStrictEqual(rec.stepTypes().filter((t) => t.startsWith("command:")), []);
  });
});

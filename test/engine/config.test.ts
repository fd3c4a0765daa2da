import * as assert from "node:assert";
import * as path from "node:path";
import * as auto from "@pulumi/pulumi/automation";
import { Engine, recorder } from "./engine";
import { REPO, startRunnerHost } from "./runner-host";

const ROOT = path.join(__dirname, "..", "..");

/** The program itself (index.ts), evaluated afresh, as the engine's inline program. */
const program: auto.PulumiFn = async () => {
  for (const mod of ["index.ts", "config.ts"]) delete require.cache[path.join(ROOT, mod)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(ROOT, "index.ts")) as Record<string, unknown>;
};

const plain = (value: string): auto.ConfigValue => ({ value });

/**
 * Stack config problems as the real engine shows them: the Automation API runs index.ts inline
 * against the CLI built from tools/engine, with config and secret keys coming from the engine,
 * not from setMocks. (AWS resources cannot be created here, so only stacks that stop at the door
 * are run.)
 */
describe("the program under the real engine: bad stack config", function () {
  const engine = new Engine();
  after(() => engine.dispose());

  async function preview(name: string, config: auto.ConfigMap) {
    const stack = await engine.stack("aws-swarm", name, program);
    await stack.setAllConfig(config);
    const rec = recorder();
    const error = await stack.preview({ onEvent: rec.onEvent }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const errors = rec.events.flatMap((e) =>
      e.diagnosticEvent?.severity === "error" ? [e.diagnosticEvent.message.trim()] : [],
    );
    return { error, rec, errors, diagnostics: rec.diagnostics().join("\n") };
  }

  it("fails preview with every problem at once, as messages alone, registering nothing", async () => {
    const { error, rec, errors, diagnostics } = await preview("bad", {
      "aws-swarm:managerCount": plain("4"),
      "aws-swarm:workerCount": plain("-1"),
      "aws-swarm:sshAllowedCidrs": plain('["0.0.0.0/1","128.0.0.0/1"]'),
      "aws-swarm:registry": plain('{"image":"--privileged"}'),
    });
    assert.ok(error instanceof Error, "preview succeeded");
    for (const expected of [
      "aws-swarm:managerCount is 4; a Swarm manager quorum must be odd and at most 7: use 1, 3, 5 or 7.",
      "aws-swarm:workerCount is -1; use a whole number of workers from 0 to 1000.",
      'aws-swarm:sshAllowedCidrs[0] is "0.0.0.0/1", wider than /8',
      'aws-swarm:sshAllowedCidrs[1] is "128.0.0.0/1", wider than /8',
      'aws-swarm:registry.image is "--privileged", which is not an image reference',
    ]) {
      assert.ok(diagnostics.includes(expected), `missing ${JSON.stringify(expected)} in:\n${diagnostics}`);
    }
    assert.doesNotMatch(diagnostics, /^\s+at /m, "a stack trace reached the user");
    assert.doesNotMatch(diagnostics, /unhandled exception|ConfigError:/i);
    // Every error the user sees is the one list of problems. (The Automation API's inline runner
    // shows it twice, once logged and once as the run's result; `pulumi preview` of the project
    // directory logs it once and exits: @pulumi/pulumi cmd/run/run.js.)
    assert.ok(errors.length >= 1);
    assert.deepStrictEqual([...new Set(errors)], [errors[0]]);
    assert.strictEqual(errors[0].split("\n").length, 5);
    assert.ok(errors[0].split("\n").every((line) => line.startsWith("- aws-swarm:")), errors[0]);
    assert.deepStrictEqual(rec.stepTypes().filter((t) => t !== "pulumi:pulumi:Stack"), []);
  });

  it("prints every problem once, alone, when the SDK's own runner runs the project (the path of pulumi preview)", async () => {
    const host = await startRunnerHost(REPO);
    try {
      const stack = await engine.stack("aws-swarm", "runner", async () => undefined);
      await stack.setAllConfig({
        "aws-swarm:managerCount": plain("4"),
        "aws-swarm:sshAllowedCidrs": plain('["0.0.0.0/1","128.0.0.0/1"]'),
      });
      const failed = await engine.cli(stack, ["preview", `--client=${host.address}`, "--non-interactive"]).then(
        () => undefined,
        (e: { stdout?: string; stderr?: string }) => e,
      );
      assert.ok(failed, "preview succeeded");
      const shown = `${failed.stdout ?? ""}${failed.stderr ?? ""}`;
      const problems = [
        "aws-swarm:managerCount is 4; a Swarm manager quorum must be odd and at most 7: use 1, 3, 5 or 7.",
        'aws-swarm:sshAllowedCidrs[0] is "0.0.0.0/1", wider than /8, which opens SSH to a large part of the internet; list your office or VPN ranges (IPv4 /8 or longer, IPv6 /32 or longer).',
        'aws-swarm:sshAllowedCidrs[1] is "128.0.0.0/1", wider than /8, which opens SSH to a large part of the internet; list your office or VPN ranges (IPv4 /8 or longer, IPv6 /32 or longer).',
      ];
      // One error in the CLI's summary, holding every problem; no warning (a missing entry point
      // would warn and fall back, see Pulumi.yaml `main`).
      const summary = shown.split(/^Diagnostics:$/m)[1]?.split(/^Resources:$/m)[0] ?? "";
      assert.strictEqual(summary.split("error: ").length - 1, 1, shown);
      assert.doesNotMatch(summary, /warning: /, shown);
      for (const p of problems) assert.strictEqual(summary.split(`- ${p}`).length - 1, 1, `${p}\n${shown}`);
      assert.doesNotMatch(shown, /^\s+at /m, "a stack trace reached the user");
      assert.doesNotMatch(shown, /unhandled exception|ConfigError|exited with non-zero exit code/i);
      assert.deepStrictEqual(host.runs.map((r) => r.exitCode), [32]);
      assert.match(shown, /Resources:\s+\+ 1 to create/);
    } finally {
      host.stop();
    }
  });

  it("refuses a secret set without --secret, by the engine's own secret keys, without its value", async () => {
    const services = plain('[{"name":"db","image":"postgres:16","secrets":["db-password"]}]');
    const base = { "aws-swarm:sshAllowedCidrs": plain('["203.0.113.0/24"]'), "aws-swarm:services": services };
    const { error, rec, diagnostics } = await preview("plain-secret", {
      ...base,
      "aws-swarm-secrets:db-password": plain("hunter2-plain"),
    });
    assert.ok(error instanceof Error, "preview succeeded");
    assert.match(diagnostics, /aws-swarm-secrets:db-password is stored in plain text in the stack file; make it a secret: pulumi config set --secret aws-swarm-secrets:db-password <value>/);
    assert.doesNotMatch(diagnostics, /hunter2/);
    assert.deepStrictEqual(rec.stepTypes().filter((t) => t !== "pulumi:pulumi:Stack"), []);
  });

  it("lets the same secret through when it was set with --secret", async () => {
    // Past the door index.ts would create AWS resources, which need a provider this machine
    // lacks, so this run stops at the door on purpose: config.ts's own loader, then an output.
    const stack = await engine.stack("aws-swarm", "real-secret", async () => {
      delete require.cache[path.join(ROOT, "config.ts")];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { loadStackConfig } = require(path.join(ROOT, "config.ts")) as typeof import("../../config");
      return { services: loadStackConfig().services.map((s) => s.name) };
    });
    await stack.setAllConfig({
      "aws-swarm:sshAllowedCidrs": plain('["203.0.113.0/24"]'),
      "aws-swarm:services": plain('[{"name":"db","image":"postgres:16","secrets":["db-password"]}]'),
      "aws-swarm-secrets:db-password": { value: "hunter2-secret", secret: true },
    });
    const result = await stack.up();
    assert.deepStrictEqual(result.outputs.services.value, ["db"]);
  });
});

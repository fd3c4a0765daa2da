import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Lab } from "./lab";
import { CommandFailed, SwarmHarness } from "./harness";
import { bootstrapProgram, eventually, labHost, nodes, swarmState } from "./cluster";
import { stepCommand } from "../../components/scripts";

/**
 * What goes wrong on real hosts fails with the scripts' own message, and breaks nothing else.
 * h1 is a manager, h2-h3 would-be workers, h4 runs a swarm of its own, h5's daemon is down.
 */
describe("bootstrap failures on real hosts", function () {
  const lab = new Lab({ name: "sft", net: "10.242.0" });
  const harnesses: SwarmHarness[] = [];
  const fresh = () => {
    const h = new SwarmHarness();
    harnesses.push(h);
    return h;
  };
  const failure = async (p: Promise<unknown>, step: string): Promise<CommandFailed> => {
    let caught: unknown;
    await p.catch((e) => (caught = e));
    assert.ok(caught instanceof CommandFailed, `expected ${step} to fail, got ${String(caught)}`);
    assert.strictEqual(caught.command, step);
    return caught;
  };
  /** One join step on lab host `i`, as SwarmBootstrap would run it, with the given stdin. */
  const joinStep = (i: number, managerAddrs: string[], stdin?: string) => () =>
    new command.remote.Command("lab-join", {
      connection: labHost(lab, i, "x").connection,
      create: stepCommand("join", [20, "worker", lab.addr(i), "lab-worker-token", 0, ...managerAddrs]),
      ...(stdin === undefined ? {} : { stdin: pulumi.secret(stdin) }),
      addPreviousOutputInEnv: false,
    }).stdout;

  before(async () => {
    await lab.up(5);
    assert.strictEqual((await lab.exec(4, `docker swarm init --advertise-addr ${lab.addr(4)} >/dev/null`)).code, 0);
    await lab.stopDockerd(5);
  });
  after(async () => {
    harnesses.forEach((h) => h.dispose());
    await lab.down();
  });

  let first: SwarmHarness;

  it("refuses to join a worker that is in another swarm, and joins the rest", async () => {
    const p = bootstrapProgram("lab", { managers: [labHost(lab, 1, "manager-1")], workers: [labHost(lab, 2, "worker-1"), labHost(lab, 4, "worker-2")], dockerWaitSeconds: 20 });
    first = fresh();
    const e = await failure(first.deploy(p.program), "lab-worker-2-join");
    assert.match(e.stderr, /swarm-join: error: sft-h4 is already in another swarm \(managers: 10\.242\.0\.14:2377 \); run 'docker swarm leave --force' on it, then pulumi up again/);
    // What the user reads: the provider's status line, the one-line command, then the step's own error.
    const at = e.message.indexOf("swarm-join: error: sft-h4 is already in another swarm");
    assert.ok(at > 0 && at < 700, `the step's message is buried at ${at}: ${e.message.slice(0, 300)}`);
    assert.doesNotMatch(e.message, /load_info\(\)/, "the script text is in the message");
    const rows = await eventually("h1 and h2 in one swarm", 30000, async () => {
      const r = await nodes(lab, 1);
      return r.length === 2 && r.every((n) => n.status === "Ready") ? r : undefined;
    });
    assert.deepStrictEqual(rows.map((r) => r.hostname).sort(), ["sft-h1", "sft-h2"]);
    assert.deepStrictEqual((await nodes(lab, 4)).map((r) => r.hostname), ["sft-h4"]);
  });

  it("reports a token of another swarm without printing it, and leaves the node clean", async () => {
    const wrong = "SWMTKN-1-" + "3".repeat(50) + "-" + "7".repeat(25);
    const e = await failure(fresh().deploy(joinStep(3, [lab.addr(1)], wrong)), "lab-join");
    assert.match(e.stderr, /10\.242\.0\.11 rejected the worker join token \(.*fingerprint.*\); the stored token was rotated or belongs to another swarm: read it again with 'pulumi up --replace <URN of lab-worker-token>' \(pulumi stack --show-urns lists it\)/);
    assert.ok(!e.message.includes(wrong), "the token was printed");
    assert.strictEqual(await swarmState(lab, 3), "inactive");
    assert.strictEqual((await nodes(lab, 1)).length, 2);
  });

  it("reports a rotated token of this swarm without printing it", async () => {
    const real = (await lab.exec(1, "docker swarm join-token -q worker")).stdout.trim();
    const rotated = real.slice(0, -25) + "0".repeat(25);
    const e = await failure(fresh().deploy(joinStep(3, [lab.addr(1)], rotated)), "lab-join");
    assert.match(e.stderr, /10\.242\.0\.11 rejected the worker join token \(.*\); the stored token was rotated or belongs to another swarm: read it again with .pulumi up --replace <URN of lab-worker-token>./);
    assert.ok(!e.message.includes(rotated) && !e.message.includes(real), "a token was printed");
    assert.strictEqual(await swarmState(lab, 3), "inactive");
  });

  it("reports a missing token", async () => {
    const e = await failure(fresh().deploy(joinStep(3, [lab.addr(1)])), "lab-join");
    assert.match(e.stderr, /no join token on stdin \(read 0 characters\); pass the token as the command's stdin/);
  });

  it("reports a manager that does not answer on 2377", async () => {
    const token = (await lab.exec(1, "docker swarm join-token -q worker")).stdout.trim();
    const e = await failure(fresh().deploy(joinStep(3, [lab.addr(5)], token)), "lab-join");
    assert.match(e.stderr, /no manager answers on 2377 \(tried: 10\.242\.0\.15\) from sft-h3; check that the managers are up and that their security group allows 2377\/tcp/);
    assert.ok(!e.message.includes(token), "the token was printed");
    assert.strictEqual(await swarmState(lab, 3), "inactive");
  });

  it("gives up on a daemon that never starts, with a bounded wait and the fix", async () => {
    const p = bootstrapProgram("lab5", { managers: [labHost(lab, 5, "manager-1")], dockerWaitSeconds: 3 });
    const t0 = Date.now();
    const e = await failure(fresh().deploy(p.program), "lab5-manager-1-init");
    assert.match(e.stderr, /the Docker daemon on sft-h5 did not answer within 3s; check that user data installed and started it/);
    assert.ok(Date.now() - t0 < 60000, "the wait was not bounded");
    assert.strictEqual((await nodes(lab, 1)).length, 2);
  });

  it("destroys without hanging when the swarm is already gone", async () => {
    assert.deepStrictEqual([...first.state.keys()].sort(), [
      "lab-control-steps", "lab-manager-1-init", "lab-manager-1-join", "lab-manager-1-member", "lab-manager-1-steps", "lab-manager-token",
      "lab-worker-1-join", "lab-worker-1-leave", "lab-worker-1-member", "lab-worker-1-steps", "lab-worker-2-steps", "lab-worker-token",
    ]);
    await lab.exec(2, "docker swarm leave --force");
    await lab.exec(1, "docker swarm leave --force");
    const ran = await first.destroy();
    const said = Object.fromEntries(ran.filter((r) => r.commandText).map((r) => [r.name, r.stderr]));
    assert.deepStrictEqual(said, {
      "lab-worker-1-leave": "swarm-leave: sft-h2 is not in a swarm; nothing to do",
      "lab-manager-1-init": "swarm-leave: sft-h1 is not in a swarm; nothing to do",
    });
    assert.strictEqual(first.state.size, 0);
  });
});

import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { Moto } from "./moto";
import { eventually, labHost, swarmState } from "./cluster";
import { prepareHost, reachability, stackKeys, storedKey } from "./ops-lab";
import { SwarmBootstrap } from "../../components/bootstrap";
import { SwarmAutolock } from "../../components/autolock";
import { opsNodeCommands } from "../../components/operations";
import { opsProgramPath, unlockExecStart } from "../../components/ops-scripts";

/** Autolock on a real swarm of three managers, with moto as Secrets Manager and KMS. */
describe("Autolock with unattended unlock on a real swarm", function () {
  const lab = new Lab({ name: "sal", net: "10.254.0" });
  const harness = new SwarmHarness();
  let moto: Moto;
  let secretArn = "";
  const region = "us-east-1";
  const managers = () => [1, 2, 3].map((i) => labHost(lab, i, `manager-${i}`));
  const deploy = (unlockKeyRotation?: string) => {
    let autolock: SwarmAutolock | undefined;
    const program = () => {
      const b = new SwarmBootstrap("lab", { managers: managers(), dockerWaitSeconds: 30 });
      const installs = opsNodeCommands("ops", { hosts: managers(), unlock: { secretId: secretArn, region } });
      autolock = new SwarmAutolock("autolock", { manager: managers()[0], secretId: secretArn, region, unlockKeyRotation, swarmReady: b.ready, dependsOn: installs });
      return pulumi.all([b.ready, autolock.unlockKey]);
    };
    return harness.deploy(program).then((r) => ({ ...r, key: r.value[1], autolock: autolock! }));
  };
  /** Restarts host i's dockerd as a reboot would; the unit's command is not run. */
  const restart = async (i: number) => {
    await lab.stopDockerd(i);
    await lab.start(i);
  };
  const unlock = (i: number, command = unlockExecStart(secretArn, region)) => lab.ssh(i, command);
  let first: Awaited<ReturnType<typeof deploy>>;

  before(async () => {
    await lab.up(3);
    moto = await Moto.start({ host: `${lab.net}.1` });
    for (const i of [1, 2, 3]) await prepareHost(lab, i, moto);
    secretArn = (await stackKeys(moto, "lab-unlock-key")).secretArn;
    first = await deploy();
  });
  after(async () => {
    harness.dispose();
    await moto?.stop();
    await lab.down();
  });

  it("turns autolock on and the manager stores the key itself: the secret, the output and the swarm agree, and no command text holds it", async () => {
    assert.match(first.key, /^SWMKEY-1-\S+$/);
    assert.ok(await pulumi.isSecret(first.autolock.unlockKey));
    assert.strictEqual((await storedKey(moto, secretArn)).key, first.key);
    assert.strictEqual((await lab.exec(2, "docker swarm unlock-key -q")).stdout.trim(), first.key);
    for (const r of harness.log) {
      assert.ok(!r.commandText.includes(first.key) && !r.stderr.includes(first.key), `${r.name} shows the key`);
      assert.ok(!(r.inputs.stdin ?? "").includes(first.key), `${r.name} got the key on stdin`);
    }
    const step = first.ran.find((r) => r.name === "autolock-enable")!;
    assert.match(step.stderr, /autolock is on/);
    assert.strictEqual(step.inputs.logging, "none");
  });

  it("brings a restarted manager back locked, and the unit's command unlocks it with the key from Secrets Manager", async () => {
    await restart(2);
    assert.strictEqual(await swarmState(lab, 2), "locked");
    const r = await unlock(2);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stderr.trim().split("\n").length, 1, `more than one log line: ${r.stderr}`);
    assert.match(r.stderr, /^swarm-unlock: unlocked the swarm on sal-h2 with the key in \S+ \(AWSCURRENT\) after 1 attempt\(s\); state active$/m);
    assert.ok(!r.stderr.includes(first.key) && !r.stdout.includes(first.key));
    await eventually("h2 Reachable", 60000, async () => ((await reachability(lab, 2)) === "reachable" ? true : undefined));
  });

  it("does nothing on a manager that is not locked", async () => {
    const r = await unlock(1);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /is not locked \(state 'active'\); nothing to do/);
  });

  it("rotates on a new unlockKeyRotation, stores the new key before the step ends, keeps the old one as AWSPREVIOUS, and a restart still unlocks", async () => {
    const r = await deploy("2026-12-02");
    assert.notStrictEqual(r.key, first.key);
    assert.deepStrictEqual(r.ran.filter((x) => x.commandText).map((x) => x.name), ["autolock-enable"]);
    assert.match(r.ran.find((x) => x.name === "autolock-enable")!.stderr, /rotated the unlock key/);
    assert.strictEqual((await storedKey(moto, secretArn)).key, r.key);
    assert.strictEqual((await storedKey(moto, secretArn, "AWSPREVIOUS")).key, first.key);
    await eventually("h3 has the new key", 30000, async () =>
      ((await lab.exec(3, "docker swarm unlock-key -q")).stdout.trim() === r.key ? true : undefined));
    await restart(3);
    assert.strictEqual(await swarmState(lab, 3), "locked");
    const u = await unlock(3);
    assert.strictEqual(u.code, 0, u.stderr);
    assert.match(u.stderr, /unlocked the swarm on sal-h3 .*\(AWSCURRENT\)/);
    await eventually("h3 Reachable", 60000, async () => ((await reachability(lab, 3)) === "reachable" ? true : undefined));
    const again = await deploy("2026-12-02");
    assert.deepStrictEqual(again.ran.filter((x) => x.commandText), [], "the same marker ran a step again");
  });

  it("keeps a manager locked when the secret cannot be read, and logs the fix", async () => {
    await restart(2);
    const missing = `${secretArn}-gone`;
    const r = await lab.ssh(2, `${opsProgramPath("unlock")} ${missing} ${region} 2 1`);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /swarm-unlock: error: the swarm on sal-h2 stays locked after 2 attempt\(s\): the secret \S+-gone \(version AWS\w+\) does not exist .*run pulumi up, whose autolock step stores the key, or unlock by hand/);
    assert.strictEqual(await swarmState(lab, 2), "locked");
    const u = await unlock(2);
    assert.strictEqual(u.code, 0, u.stderr);
    assert.strictEqual(await swarmState(lab, 2), "active");
  });
});

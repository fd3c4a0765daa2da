import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { Moto } from "./moto";
import { eventually, labHost, nodes, runningTasks, settled, swarmState } from "./cluster";
import { aws, prepareHost, reachability, stackKeys, storedKey } from "./ops-lab";
import { SwarmBootstrap } from "../../components/bootstrap";
import { opsNodeCommands, restoreCommand } from "../../components/operations";
import { backupExecStart, unlockExecStart } from "../../components/ops-scripts";
import { SwarmAutolock } from "../../components/autolock";
import { recoverBinaryPath, recoverDigest } from "../../components/recover-tool";
import { BACKUPS_PREFIX } from "../../components/operations-config";

/**
 * Raft backups and a restore on real daemons, moto as S3, KMS and Secrets Manager: managers
 * h1-h3, worker h4, and h5, a fresh host the swarm is restored onto; then that swarm, grown to
 * three managers and autolocked, is backed up and restored onto h3.
 */
describe("Raft backups and a restore on a real swarm", function () {
  const lab = new Lab({ name: "sbk", net: "10.243.0" });
  const harness = new SwarmHarness();
  // The restore is a new stack: the old one's state would try to delete steps on lost hosts.
  const restored = new SwarmHarness();
  const region = "us-east-1";
  const bucket = "sbk-registry";
  let moto: Moto;
  let keys: { keyArn: string; secretArn: string };
  let archive = "";
  const host = (i: number, name: string) => labHost(lab, i, name);
  const target = () => ({ bucket, prefix: BACKUPS_PREFIX, kmsKeyId: keys.keyArn, region, secretId: undefined });
  const docker = async (i: number, cmd: string) => {
    const r = await lab.exec(i, cmd);
    assert.strictEqual(r.code, 0, `h${i}: ${cmd}: ${r.stderr}`);
    return r.stdout.trim();
  };

  before(async () => {
    await lab.up(5);
    moto = await Moto.start({ host: `${lab.net}.1` });
    for (const i of [1, 2, 3, 4, 5]) await prepareHost(lab, i, moto);
    keys = await stackKeys(moto, "sbk-unlock-key");
    await aws(moto, ["s3", "mb", `s3://${bucket}`]);
    const managers = [1, 2, 3].map((i) => host(i, `manager-${i}`));
    const r = await harness.deploy(() => {
      const b = new SwarmBootstrap("lab", { managers, workers: [host(4, "worker-1")], dockerWaitSeconds: 30 });
      const installs = opsNodeCommands("ops", { hosts: managers, backup: { ...target(), schedule: "hourly" } });
      return pulumi.all([b.ready, pulumi.all(installs.map((c) => c.stdout))]);
    });
    assert.strictEqual(r.ran.filter((x) => x.name.endsWith("-ops")).length, 3);
    await settled(lab, 1, 4);
    await docker(1, "printf s3cret | docker secret create db-password -");
    await docker(1, "docker network create -d overlay --attachable backnet");
    await docker(1, "docker service create -d --no-resolve-image --name web --endpoint-mode dnsrr --network backnet " +
      "--secret db-password --constraint node.role==worker localhost/busybox:latest sleep 100000");
    await eventually("web runs on the worker", 60000, async () => ((await runningTasks(lab, 1, "web")).length === 1 ? true : undefined));
  });
  after(async () => {
    harness.dispose();
    restored.dispose();
    await moto?.stop();
    await lab.down();
  });

  it("backs up from one non-leader manager, SSE-KMS, with no unlock-key version to record (autolock off), while the swarm keeps a leader throughout", async () => {
    const leader = (await nodes(lab, 1)).find((n) => n.manager === "Leader")!.hostname;
    const leaderIndex = Number(leader.slice(-1));
    let polls = 0;
    const failures: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const p = await lab.exec(leaderIndex, "docker node ls -q >/dev/null");
        polls += 1;
        if (p.code !== 0) failures.push(p.stderr.trim());
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    // Every manager's timer fires; the command is the unit's ExecStart.
    const runs = await Promise.all([1, 2, 3].map((i) => lab.ssh(i, backupExecStart(target()))));
    polling = false;
    await poller;
    runs.forEach((r, i) => assert.strictEqual(r.code, 0, `h${i + 1}: ${r.stderr}`));
    const actors = runs.map((r, i) => ({ i: i + 1, key: r.stdout.trim(), log: r.stderr.trim() })).filter((r) => r.key !== "");
    assert.strictEqual(actors.length, 1, `backups made: ${JSON.stringify(runs.map((r) => r.stderr))}`);
    const [actor] = actors;
    assert.notStrictEqual(actor.i, leaderIndex, "the leader backed itself up");
    for (const r of runs.filter((_, i) => i + 1 !== actor.i)) {
      assert.match(r.stderr.trim(), /^swarm-backup: (manager \S+ takes this run's backup; nothing to do on sbk-h\d|no backup this run: manager\(s\) \S+ are not Reachable.*)$/);
    }
    assert.match(actor.log, new RegExp(`^swarm-backup: backed up \\S+/swarm \\(\\d+ bytes, unlock key version \\S+\\) to s3://${bucket}/${actor.key}; Docker was down \\d+s and sbk-h${actor.i} is Reachable again$`));
    assert.deepStrictEqual(failures, [], "a manager lost the leader during the backup");
    assert.ok(polls >= 3, `only ${polls} polls ran during the backup`);
    assert.strictEqual(await reachability(lab, actor.i), "reachable");
    const head = JSON.parse(await aws(moto, ["s3api", "head-object", "--bucket", bucket, "--key", actor.key, "--output", "json"])) as
      { ServerSideEncryption: string; SSEKMSKeyId: string; Metadata: Record<string, string> };
    assert.strictEqual(head.ServerSideEncryption, "aws:kms");
    assert.strictEqual(head.SSEKMSKeyId, keys.keyArn);
    assert.strictEqual(head.Metadata["unlock-key-version"], "-");
    assert.match(actor.key, /^backups\/\d{8}T\d{6}Z-sbk-h\d\.tar\.gz$/);
    archive = actor.key;
  });

  it("restores every manager's lost state onto a fresh host: the service, the secret and the network are back, and the worker is re-joined", async () => {
    assert.ok(archive, "no backup to restore");
    for (const i of [1, 2, 3]) await lab.stop(i);
    const { rmSync } = await import("node:fs");
    for (const i of [1, 2, 3]) rmSync(`${lab.root}/h${i}/docker/swarm`, { recursive: true, force: true });
    // Runbook: a worker that pointed at the lost managers leaves, and the next up joins it again.
    await docker(4, "docker swarm leave --force >/dev/null");
    const h5 = host(5, "manager-1");
    const r = await restored.deploy(() => {
      const installs = opsNodeCommands("new", { hosts: [h5], backup: { ...target(), schedule: "hourly" } });
      const restore = restoreCommand("new", h5, { wait: 30, bucket, key: BACKUPS_PREFIX, region }, { dependsOn: installs });
      const b = new SwarmBootstrap("new", { managers: [h5], workers: [host(4, "worker-1")], dockerWaitSeconds: 30, initDependsOn: [restore] });
      return b.ready;
    });
    const restore = r.ran.find((x) => x.name === "new-restore")!;
    assert.match(restore.stderr, new RegExp(`restored swarm \\S+ from s3://${bucket}/${archive} onto sbk-h5 \\(10\\.243\\.0\\.15\\), unlock key version -; removed 2 old manager\\(s\\)`));
    // The restored manager has this host's Raft address, not the archived host's.
    assert.strictEqual(await docker(5, "docker node inspect self -f '{{.ManagerStatus.Addr}}'"), `${lab.addr(5)}:2377`);
    assert.strictEqual(await docker(5, "docker info -f '{{.Swarm.Cluster.Spec.Raft.SnapshotInterval}} {{.Swarm.Cluster.Spec.Raft.LogEntriesForSlowFollowers}}'"), "10000 500");
    const init = r.ran.find((x) => x.name === "new-manager-1-init")!;
    assert.ok(init.start >= restore.end, "init ran before the restore");
    assert.match(init.stderr, /already a manager of swarm/);
    assert.strictEqual(await docker(5, "docker secret ls --format '{{.Name}}'"), "db-password");
    assert.strictEqual(await docker(5, "docker network inspect backnet -f '{{.Driver}} {{.Attachable}}'"), "overlay true");
    assert.strictEqual(await docker(5, "docker service inspect web -f '{{.Spec.Name}} {{len .Spec.TaskTemplate.ContainerSpec.Secrets}}'"), "web 1");
    await eventually("web runs on the re-joined worker", 90000, async () =>
      ((await runningTasks(lab, 5, "web")).includes("sbk-h4") ? true : undefined));
    const rows = await nodes(lab, 5);
    assert.deepStrictEqual(rows.filter((n) => n.manager !== "").map((n) => [n.hostname, n.manager]), [["sbk-h5", "Leader"]]);
  });

  it("backs up an autolocked three-manager swarm with its key's version, and restores it onto a fresh host with that key, after a rotation, autolocked again", async () => {
    // Grow the restored swarm to three managers and turn autolock on through the components.
    const managers = [host(5, "manager-1"), host(1, "manager-2"), host(2, "manager-3")];
    for (const i of [1, 2]) await lab.start(i);
    const grow = (unlockKeyRotation?: string) => restored.deploy(() => {
      const installs = opsNodeCommands("new", { hosts: managers, unlock: { secretId: keys.secretArn, region }, backup: { ...target(), secretId: keys.secretArn, schedule: "hourly" } });
      const restore = restoreCommand("new", managers[0], { wait: 30, bucket, key: BACKUPS_PREFIX, region }, { dependsOn: installs });
      const b = new SwarmBootstrap("new", { managers, workers: [host(4, "worker-1")], dockerWaitSeconds: 30, initDependsOn: [restore] });
      const lock = new SwarmAutolock("autolock", { manager: managers[0], secretId: keys.secretArn, region, unlockKeyRotation, swarmReady: b.ready, dependsOn: installs });
      return pulumi.all([b.ready, lock.unlockKey]);
    });
    const key = (await grow()).value[1];
    await eventually("three Reachable managers", 60000, async () =>
      ((await nodes(lab, 5)).filter((n) => n.manager === "Leader" || n.manager === "Reachable").length === 3 ? true : undefined));
    const atBackup = await storedKey(moto, keys.secretArn);
    assert.strictEqual(atBackup.key, key);
    const runs = await Promise.all([5, 1, 2].map((i) => lab.ssh(i, backupExecStart({ ...target(), secretId: keys.secretArn }))));
    runs.forEach((r, i) => assert.strictEqual(r.code, 0, `manager ${i + 1}: ${r.stderr}`));
    const made = runs.map((r) => r.stdout.trim()).filter(Boolean);
    assert.strictEqual(made.length, 1, runs.map((r) => r.stderr).join("\n"));
    const locked = made[0];
    assert.match(runs.map((r) => r.stderr).join("\n"), new RegExp(`unlock key version ${atBackup.version}\\) to s3://${bucket}/${locked.replace(/\./g, "\\.")}; Docker was down`));
    assert.ok(runs.every((r) => !r.stderr.includes(key) && !r.stdout.includes(key)));
    // A rotation after the backup: the archive now needs the previous key, not the current one.
    const rotated = (await grow("after-backup")).value[1];
    assert.notStrictEqual(rotated, key);
    assert.strictEqual((await storedKey(moto, keys.secretArn)).key, rotated);

    // Every manager's state is lost; the worker leaves, as the runbook says.
    for (const i of [5, 1, 2]) await lab.stop(i);
    const { rmSync } = await import("node:fs");
    for (const i of [5, 1, 2]) rmSync(`${lab.root}/h${i}/docker/swarm`, { recursive: true, force: true });
    await docker(4, "docker swarm leave --force >/dev/null");

    // The wrong key (the archive recorded as needing the rotated one) opens nothing, and the
    // host is left without a swarm. h1 has the programs; swarm-recover is given by path, unchecked.
    await lab.start(1);
    const wrong = `${BACKUPS_PREFIX}wrong-key.tar.gz`;
    const rotatedVersion = (await storedKey(moto, keys.secretArn)).version;
    await aws(moto, ["s3api", "copy-object", "--bucket", bucket, "--key", wrong, "--copy-source", `${bucket}/${locked}`,
      "--metadata-directive", "REPLACE", "--metadata", `unlock-key-version=${rotatedVersion}`]);
    // Hosts have their own /tmp, with only the lab's directory shared: put the binary there.
    const tool = `${lab.root}/swarm-recover`;
    (await import("node:fs")).copyFileSync(recoverBinaryPath(), tool);
    const bad = await lab.ssh(1, `/var/lib/aws-swarm/ops/swarm-restore 30 ${bucket} ${wrong} ${region} ${lab.addr(1)} ${keys.secretArn} ${tool}`);
    assert.notStrictEqual(bad.code, 0);
    assert.match(bad.stderr, new RegExp(`could not open s3://${bucket}/${wrong} with unlock key version ${rotatedVersion} \\(swarm-recover: error: the unlock key does not open \\S+swarm-node\\.key`));
    assert.ok(!bad.stderr.includes(key) && !bad.stderr.includes(rotated));
    assert.strictEqual(await swarmState(lab, 1), "inactive");

    // The restore through the components, on fresh h3: the upload, then the restore with the key of the archive's time.
    await lab.start(3);
    const again = new SwarmHarness();
    try {
      const h3 = host(3, "manager-1");
      const r = await again.deploy(() => {
        const installs = opsNodeCommands("back", { hosts: [h3], unlock: { secretId: keys.secretArn, region } });
        const restore = restoreCommand("back", h3, { wait: 30, bucket, key: locked, region, secretId: keys.secretArn }, { dependsOn: installs });
        const b = new SwarmBootstrap("back", { managers: [h3], workers: [host(4, "worker-1")], dockerWaitSeconds: 30, initDependsOn: [restore] });
        return b.ready;
      });
      const upload = r.ran.find((x) => x.name === "back-recover-tool")!;
      const restore = r.ran.find((x) => x.name === "back-restore")!;
      assert.ok(upload && upload.end <= restore.start, "the restore ran before swarm-recover was uploaded");
      assert.ok(restore.commandText.includes(recoverDigest()), "the restore does not check the upload's digest");
      assert.match(restore.stderr, new RegExp(`restored swarm \\S+ from s3://${bucket}/${locked.replace(/\./g, "\\.")} onto sbk-h3 \\(10\\.243\\.0\\.13\\), unlock key version ${atBackup.version}; removed 2 old manager\\(s\\)`));
      for (const x of r.ran) assert.ok(![x.commandText, x.stdout, x.stderr].some((t) => t.includes(key) || t.includes(rotated)), `${x.name} shows an unlock key`);
      assert.strictEqual(await docker(3, "docker secret ls --format '{{.Name}}'"), "db-password");
      assert.strictEqual(await docker(3, "docker network inspect backnet -f '{{.Driver}}'"), "overlay");
      assert.strictEqual(await docker(3, "docker service inspect web -f '{{.Spec.Name}}'"), "web");
      // Autolocked again, with the archive's own key, which is the secret's current value again.
      assert.strictEqual(await docker(3, "docker info -f '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'"), "true");
      assert.strictEqual(await docker(3, "docker swarm unlock-key -q"), key);
      assert.strictEqual((await storedKey(moto, keys.secretArn)).key, key);
      await eventually("web runs on the re-joined worker", 90000, async () =>
        ((await runningTasks(lab, 3, "web")).includes("sbk-h4") ? true : undefined));
      // A restart comes back locked, and the unit's command unlocks it with the stored key.
      // (the restore started this dockerd itself, so it is restarted the same way)
      await docker(3, "/usr/local/sbin/lab-dockerctl stop && /usr/local/sbin/lab-dockerctl start");
      assert.strictEqual(await swarmState(lab, 3), "locked");
      const u = await lab.ssh(3, unlockExecStart(keys.secretArn, region));
      assert.strictEqual(u.code, 0, u.stderr);
      assert.strictEqual(await swarmState(lab, 3), "active");
    } finally {
      again.dispose();
    }
  });
});

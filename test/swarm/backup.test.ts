import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { Moto } from "./moto";
import { eventually, labHost, nodes, runningTasks, settled, swarmState } from "./cluster";
import { aws, prepareHost, reachability, stackKeys, storedKey } from "./ops-lab";
import { SwarmBootstrap } from "../../components/bootstrap";
import { opsNodeCommands, restoreCommand } from "../../components/operations";
import { backupExecStart } from "../../components/ops-scripts";
import { BACKUPS_PREFIX } from "../../components/operations-config";

/**
 * Raft backups and a restore on real daemons, moto as S3, KMS and Secrets Manager: managers
 * h1-h3, worker h4, and h5, a fresh host the swarm is restored onto.
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

  it("backs up a one-manager autolocked swarm from the manager itself (unlocked again after), and refuses to restore that locked archive, leaving the host clean", async () => {
    const key = (await docker(5, "docker swarm update --autolock=true >/dev/null && docker swarm unlock-key -q"));
    await aws(moto, ["secretsmanager", "put-secret-value", "--secret-id", keys.secretArn, "--secret-string", key]);
    const { version } = await storedKey(moto, keys.secretArn);
    const b = await lab.ssh(5, backupExecStart({ ...target(), secretId: keys.secretArn }));
    assert.strictEqual(b.code, 0, b.stderr);
    assert.match(b.stderr, new RegExp(`unlock key version ${version}\\) to s3://${bucket}/\\S+; Docker was down \\d+s and sbk-h5 is Reachable again`));
    assert.ok(!b.stderr.includes(key));
    assert.strictEqual(await swarmState(lab, 5), "active");
    await lab.start(1);
    assert.strictEqual(await swarmState(lab, 1), "inactive");
    const r = await lab.ssh(1, `/var/lib/aws-swarm/ops/swarm-restore 30 ${bucket} ${b.stdout.trim()} ${region} ${lab.addr(1)} ${keys.secretArn}`);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`was taken with autolock on \\(unlock key version ${version}\\), and Docker cannot start a new cluster from a locked archive \\(moby/moby#36852\\)`));
    assert.strictEqual(await swarmState(lab, 1), "inactive");
  });
});

import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness, CommandFailed, CommandRecord } from "./harness";
import { bootstrapProgram, eventually, labHost, nodes, runningTasks, settled, swarmState } from "./cluster";
import { SwarmHost } from "../../components/bootstrap";

/**
 * The bootstrap on real Docker daemons: SwarmBootstrap, the component the AWS program uses,
 * runs under a monitor that executes its remote commands over SSH on lab hosts.
 * Hosts 1-5 are managers, 6-10 workers, 11 stands in for a replaced first manager.
 */
describe("SwarmBootstrap on a real swarm", function () {
  const lab = new Lab({ name: "sbt", net: "10.234.0" });
  const harness = new SwarmHarness();
  const managers = (n: number) => Array.from({ length: n }, (_, k) => labHost(lab, k + 1, `manager-${k + 1}`));
  const workers = (n: number) => Array.from({ length: n }, (_, k) => labHost(lab, k + 6, `worker-${k + 1}`));
  const deploy = (m: SwarmHost[], w: SwarmHost[], mode: "diff" | "always" = "diff") => {
    const p = bootstrapProgram("lab", { managers: m, workers: w, dockerWaitSeconds: 60, drainSeconds: 60 });
    return harness.deploy(p.program, { mode }).then((r) => ({ ...r, bootstrap: p.get() }));
  };
  let first: Awaited<ReturnType<typeof deploy>>;
  let clusterId = "";

  before(async () => {
    await lab.up(11);
  });
  after(async () => {
    harness.dispose();
    await lab.down();
  });

  it("builds 3 managers and 3 workers from scratch: 6 Ready, one Leader, labels set", async () => {
    first = await deploy(managers(3), workers(3));
    const rows = await settled(lab, 1, 6);
    assert.deepStrictEqual(rows.map((r) => r.manager).sort(), ["", "", "", "Leader", "Reachable", "Reachable"]);
    const leader = rows.find((r) => r.manager === "Leader")!;
    assert.strictEqual(leader.hostname, "sbt-h1");
    const labels = await lab.exec(1, "docker node ls -q | xargs docker node inspect -f '{{.Description.Hostname}} {{.Spec.Labels.role}} {{.Spec.Labels.az}}'");
    assert.deepStrictEqual(labels.stdout.trim().split("\n").sort(), [
      "sbt-h1 manager lab-b", "sbt-h2 manager lab-c", "sbt-h3 manager lab-a",
      "sbt-h6 worker lab-a", "sbt-h7 worker lab-b", "sbt-h8 worker lab-c",
    ]);
    clusterId = (await lab.exec(1, "docker info -f '{{.Swarm.Cluster.ID}}'")).stdout.trim();
    assert.ok(clusterId.length > 10);
  });

  it("runs an overlay network and a 6-replica service spread over every node and AZ", async () => {
    const net = await lab.exec(1, "docker network create -d overlay --attachable --opt encrypted lab-net");
    assert.strictEqual(net.code, 0, net.stderr);
    const svc = await lab.exec(1, "docker service create -d --no-resolve-image --name web --network lab-net --endpoint-mode dnsrr " +
      "--replicas 6 --placement-pref spread=node.labels.az localhost/busybox:latest sleep 100000");
    assert.strictEqual(svc.code, 0, svc.stderr);
    const placed = await eventually("6 running tasks", 60000, async () => {
      const t = await runningTasks(lab, 1, "web");
      return t.length === 6 ? t : undefined;
    });
    assert.strictEqual(new Set(placed).size, 6);
    const enc = await lab.exec(2, "docker network inspect lab-net -f '{{index .Options \"encrypted\"}}'");
    assert.strictEqual(enc.stdout.trim(), "");
  });

  it("keeps the join tokens out of every command text and printed line, but in secret outputs", async () => {
    const tokens = [await valueOf(first.bootstrap.managerJoinToken), await valueOf(first.bootstrap.workerJoinToken)];
    assert.ok(tokens.every((t) => /^SWMTKN-1-[a-z0-9]{50}-[a-z0-9]{25}$/.test(t)), "tokens were not read");
    assert.ok(await pulumi.isSecret(first.bootstrap.managerJoinToken));
    assert.ok(await pulumi.isSecret(first.bootstrap.workerJoinToken));
    for (const r of harness.log) {
      for (const t of tokens) {
        assert.ok(!r.commandText.includes(t), `${r.name} command text has a token`);
        assert.ok(!r.stderr.includes(t), `${r.name} stderr has a token`);
        if (!/-token$/.test(r.name)) assert.ok(!r.stdout.includes(t), `${r.name} stdout has a token`);
      }
      if (/-join$/.test(r.name)) assert.deepStrictEqual(r.secretInputs.includes("stdin"), true, `${r.name} stdin not secret`);
      if (/-token$/.test(r.name)) assert.strictEqual(r.inputs.logging, "none");
    }
  });

  it("changes nothing when every step runs again on the same hosts", async () => {
    const before = await nodes(lab, 1);
    const again = await deploy(managers(3), workers(3), "always");
    assert.strictEqual(again.ran.length, first.ran.length);
    const steps = again.ran.filter((r) => /-(init|join)$/.test(r.name));
    assert.strictEqual(steps.length, 7);
    for (const r of steps) assert.match(r.stderr, /nothing to do/, r.name);
    assert.deepStrictEqual(await nodes(lab, 1), before);
    assert.strictEqual((await lab.exec(3, "docker info -f '{{.Swarm.Cluster.ID}}'")).stdout.trim(), clusterId);
  });

  it("runs nothing on a second deployment without changes", async () => {
    const again = await deploy(managers(3), workers(3));
    assert.deepStrictEqual(again.ran.map((r) => r.name), []);
  });

  it("scales up to 5 managers and 5 workers", async () => {
    const up = await deploy(managers(5), workers(5));
    const rows = await settled(lab, 1, 10);
    assert.strictEqual(rows.filter((r) => r.manager !== "").length, 5);
    // managers 4 and 5 joined one after the other
    const j4 = up.ran.find((r) => r.name === "lab-manager-4-join")!;
    const j5 = up.ran.find((r) => r.name === "lab-manager-5-join")!;
    assert.ok(j5.start >= j4.end, "manager-5 joined before manager-4 was done");
  });

  it("scales down to 3 + 2 through the prune step and the leave hooks, keeping quorum and replicas, leaving no Down node", async () => {
    const down = await deploy(managers(3), workers(2));
    const deletes = down.ran.filter((r) => r.operation === "delete" && r.commandText !== "");
    assert.deepStrictEqual(deletes.map((r) => r.name).sort(), [
      "lab-manager-4-leave", "lab-manager-5-leave", "lab-worker-3-leave", "lab-worker-4-leave", "lab-worker-5-leave",
    ]);
    // The provider gives a delete the stdin of the last create: none may hold a join token.
    assert.deepStrictEqual(deletes.filter((r) => r.stdinSent).map((r) => r.name), []);
    // The prune step, a registration, ran before every delete: workers first, then one manager at a time.
    const prune = down.ran.find((r) => r.name === "lab-prune")!;
    assert.ok(deletes.every((d) => d.start >= prune.end), "a node left before the prune removed it");
    const removed = [...prune.stderr.matchAll(/(\S+) \((\w+)\) is no longer in stack lab/g)].map((m) => m[1]);
    assert.deepStrictEqual(removed.slice(0, 3).sort(), ["worker-3", "worker-4", "worker-5"]);
    assert.deepStrictEqual(removed.slice(3).sort(), ["manager-4", "manager-5"]);
    const checks = [...prune.stderr.matchAll(/removed \S+/g)];
    const rows = await settled(lab, 1, 5);
    assert.strictEqual(rows.filter((r) => r.status === "Down").length, 0);
    assert.strictEqual(rows.filter((r) => r.manager !== "").length, 3);
    for (const i of [4, 5, 8, 9, 10]) assert.strictEqual(await swarmState(lab, i), "inactive", `h${i} still in a swarm`);
    const tasks = await eventually("6 running tasks on the remaining nodes", 60000, async () => {
      const t = await runningTasks(lab, 1, "web");
      return t.length === 6 ? t : undefined;
    });
    assert.ok(tasks.every((h) => ["sbt-h1", "sbt-h2", "sbt-h3", "sbt-h6", "sbt-h7"].includes(h)), tasks.join(","));
    assert.strictEqual(checks.length, 5);
  });

  it("elects a new leader within 40 s when the leader's daemon stops, and takes it back as a manager", async () => {
    await lab.stopDockerd(1);
    const leader = await eventually("a new leader", 40000, async () => {
      const rows = await nodes(lab, 2);
      return rows.find((r) => r.manager === "Leader" && r.hostname !== "sbt-h1");
    });
    assert.ok(["sbt-h2", "sbt-h3"].includes(leader.hostname));
    await eventually("6 running web tasks without h1", 90000, async () => {
      const t = await runningTasks(lab, 2, "web");
      return t.length === 6 && !t.includes("sbt-h1") ? t : undefined;
    });
    await lab.start(1);
    await eventually("h1 back as a Reachable manager", 60000, async () => {
      const rows = await nodes(lab, 2);
      const h1 = rows.find((r) => r.hostname === "sbt-h1");
      return h1 && h1.status === "Ready" && h1.manager === "Reachable" ? h1 : undefined;
    });
  });

  it("joins a replaced first manager to the running swarm instead of starting a second one", async () => {
    const replaced = [labHost(lab, 11, "manager-1"), ...managers(3).slice(1)];
    const { ran } = await deploy(replaced, workers(2));
    const init = ran.find((r) => r.name === "lab-manager-1-init" && r.operation === "create")!;
    assert.match(init.stderr, /manager 10\.234\.0\.12 already runs this stack's swarm \(it answers on 2377\); sbt-h11 joins it in its join step and creates no second swarm/);
    const rows = await settled(lab, 2, 5);
    assert.deepStrictEqual(rows.filter((r) => r.manager).map((r) => r.hostname).sort(), ["sbt-h11", "sbt-h2", "sbt-h3"]);
    assert.strictEqual((await lab.exec(11, "docker info -f '{{.Swarm.Cluster.ID}}'")).stdout.trim(), clusterId);
    assert.strictEqual(await swarmState(lab, 1), "inactive");
  });

  it("removes every node on destroy and leaves the hosts clean", async () => {
    const ran = await harness.destroy();
    const failedSteps = ran.filter((r) => r.operation === "delete" && /error/.test(r.stderr));
    assert.deepStrictEqual(failedSteps.map((r) => r.name), []);
    assert.deepStrictEqual(ran.filter((r) => r.stdinSent).map((r) => r.name), []);
    for (let i = 1; i <= 11; i++) assert.strictEqual(await swarmState(lab, i), "inactive", `h${i} still in a swarm`);
    assert.strictEqual(harness.state.size, 0);
  });
});

function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => (resolve(v), v)));
}
export type { CommandRecord };

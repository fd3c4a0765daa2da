import * as assert from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { CommandRecord, SwarmHarness } from "./harness";
import { bootstrapProgram, eventually, labHost, nodes, runningTasks, settled, swarmState } from "./cluster";
import { controlConnectionOf, FormerManager, SwarmBootstrap, SwarmHost } from "../../components/bootstrap";
import { ComposeStack } from "../../components/compose";

/**
 * Day 2 on real daemons (issue 11), through the harness: no special manager, any majority is
 * enough, replaced managers join and their old nodes go, and services are spread again.
 * Hosts 1-3 are the first managers, 4-6 their replacements, 7-9 workers.
 */
describe("SwarmBootstrap on day 2", function () {
  const lab = new Lab({ name: "smr", net: "10.250.0" });
  const harness = new SwarmHarness();
  const host = (i: number, name: string) => labHost(lab, i, name);
  const former = (...is: number[]): FormerManager[] => is.map((i) => ({ privateIp: lab.addr(i), connection: host(i, "x").connection }));
  const deploy = (managers: number[], workers: number[], formerManagers: FormerManager[] = []) => {
    const m: SwarmHost[] = managers.map((i, k) => host(i, `manager-${k + 1}`));
    const w: SwarmHost[] = workers.map((i) => host(i, `worker-${i - 6}`));
    return harness.deploy(bootstrapProgram("lab", { managers: m, workers: w, formerManagers, dockerWaitSeconds: 30, drainSeconds: 30 }).program, { timeoutMs: 240_000 });
  };
  // A compose stack deployed the way SwarmCluster deploys its stacks: through the manager the
  // bootstrap chose (controlConnectionOf), with the same bootstrap as `deploy`, so nothing of
  // the bootstrap itself changes.
  const stackDir = fs.mkdtempSync(path.join(os.tmpdir(), "day2-stack-"));
  fs.writeFileSync(path.join(stackDir, "stack.yaml"), [
    "services:",
    "  app:",
    "    image: localhost/busybox:latest",
    '    command: ["sleep", "100000"]',
    "    deploy:",
    "      replicas: ${REPLICAS}",
    "      endpoint_mode: dnsrr",
    "      update_config: { parallelism: 3, monitor: 1s }",
    "",
  ].join("\n"));
  const deployWithStack = (replicas?: number) => harness.deploy(() => {
    const m = [1, 2, 3].map((i, k) => host(i, `manager-${k + 1}`));
    const b = new SwarmBootstrap("lab", { managers: m, workers: [host(7, "worker-1"), host(8, "worker-2")], formerManagers: [], dockerWaitSeconds: 30, drainSeconds: 30 });
    const done = pulumi.all([b.ready, b.managerJoinToken, b.workerJoinToken, b.controlAddress]).apply(([, , , control]) => control);
    if (replicas === undefined) return pulumi.all([done, ""]);
    const stack = new ComposeStack("st", {
      composeFile: "stack.yaml", baseDir: stackDir, env: { REPLICAS: String(replicas) },
      manager: controlConnectionOf(m, b.controlManagerIndex), dependsOn: [b.ready], dockerWaitSeconds: 30, waitSeconds: 60,
    });
    return pulumi.all([done, stack.services]);
  }, { timeoutMs: 240_000 });
  const stackServices = async (i: number) =>
    (await lab.exec(i, "docker service ls --filter label=com.docker.stack.namespace=st --format '{{.Name}} {{.Replicas}}'")).stdout.trim();
  const clusterIdOn = async (i: number) => (await lab.exec(i, "docker info -f '{{.Swarm.Cluster.ID}}'")).stdout.trim();
  const deletes = (ran: CommandRecord[]) => ran.filter((r) => r.operation === "delete" && r.commandText !== "").map((r) => r.name).sort();
  let clusterId = "";

  before(async () => {
    await lab.up(9);
  });
  after(async () => {
    harness.dispose();
    fs.rmSync(stackDir, { recursive: true, force: true });
    await lab.down();
  });

  it("builds 3 managers and 2 workers, and runs a service with a task on every node", async () => {
    await deploy([1, 2, 3], [7, 8]);
    await settled(lab, 1, 5);
    clusterId = await clusterIdOn(1);
    const svc = await lab.exec(1, "docker service create -d --no-resolve-image --name poll --endpoint-mode dnsrr --replicas 5 --stop-grace-period 1s " +
      "--placement-pref spread=node.labels.az localhost/busybox:latest sleep 100000");
    assert.strictEqual(svc.code, 0, svc.stderr);
    await eventually("5 running poll tasks", 60000, async () => ((await runningTasks(lab, 1, "poll")).length === 5 ? true : undefined));
  });

  it("moves a compose stack to the manager that answers once manager-1's daemon is down, updates it there and removes it there", async () => {
    const first = await deployWithStack(1);
    assert.deepStrictEqual(first.value, [lab.addr(1), "st_app 1/1"]);
    assert.strictEqual(first.ran.find((r) => r.name === "st-deploy")!.inputs.connection.host, lab.addr(1));
    await lab.stopDockerd(1);
    await eventually("a leader other than h1", 60000, async () => (await nodes(lab, 2)).find((r) => r.manager === "Leader"));
    // Same file, new manager: the deploy runs again there and changes nothing; the removal
    // step runs nothing and only stores the new connection.
    const moved = await deployWithStack(1);
    const [control, services] = moved.value;
    assert.ok([lab.addr(2), lab.addr(3)].includes(control), `control manager ${control}`);
    assert.strictEqual(services, "st_app 1/1");
    const stackSteps = (ran: CommandRecord[]) => ran.filter((r) => r.name.startsWith("st-")).map((r) => `${r.name} ${r.operation} ${r.inputs.connection.host} ${r.commandText ? "ran" : "nothing"}`);
    assert.deepStrictEqual(stackSteps(moved.ran), [`st-deploy update ${control} ran`, `st-remove update ${control} nothing`]);
    const grown = await deployWithStack(3);
    assert.deepStrictEqual(stackSteps(grown.ran), [`st-deploy update ${control} ran`]);
    assert.strictEqual(grown.value[1], "st_app 3/3");
    assert.strictEqual(await stackServices(control === lab.addr(2) ? 2 : 3), "st_app 3/3");
    const dropped = await deployWithStack();
    // The removal runs on the stored (moved) connection; the deploy step has no delete text.
    assert.deepStrictEqual(stackSteps(dropped.ran), [`st-remove delete ${control} ran`, `st-deploy delete ${control} nothing`]);
    assert.match(dropped.ran.find((r) => r.name === "st-remove")!.stderr, /stack st removed/);
    assert.strictEqual(await stackServices(2), "");
  });

  it("scales workers up and down while manager-1's daemon is down", async () => {
    await eventually("a leader other than h1", 60000, async () => (await nodes(lab, 2)).find((r) => r.manager === "Leader"));
    const up = await deploy([1, 2, 3], [7, 8, 9]);
    // Everything that needs a manager ran on one that answered, never on h1.
    for (const r of up.ran.filter((x) => /-(token|member|prune|rebalance)$/.test(x.name) && !/manager-\d-member/.test(x.name))) {
      assert.notStrictEqual(r.inputs.connection.host, lab.addr(1), `${r.name} ran on the dead manager-1`);
    }
    await eventually("h9 Ready", 30000, async () => (await nodes(lab, 2)).find((r) => r.hostname === "smr-h9" && r.status === "Ready"));
    const down = await deploy([1, 2, 3], [7, 8]);
    assert.deepStrictEqual(deletes(down.ran), ["lab-worker-3-leave"]);
    assert.match(down.ran.find((r) => r.name === "lab-prune")!.stderr, /worker-3 \(worker\) is no longer in stack lab: removing node/);
    const rows = await nodes(lab, 2);
    assert.ok(!rows.some((r) => r.hostname === "smr-h9"), "h9 is still listed");
    assert.strictEqual(await swarmState(lab, 9), "inactive");
    await lab.start(1);
    await eventually("h1 Reachable again", 60000, async () => (await nodes(lab, 2)).find((r) => r.hostname === "smr-h1" && r.manager === "Reachable" && r.status === "Ready"));
  });

  it("replaces manager-1 alone: the new host joins, the old node goes, and a second up is clean", async () => {
    const { ran } = await deploy([4, 2, 3], [7, 8], former(1));
    const init = ran.find((r) => r.name === "lab-manager-1-init" && r.operation === "create")!;
    assert.match(init.stderr, /manager 10\.250\.0\.1[23] already runs this stack's swarm .*creates no second swarm/);
    assert.match(ran.find((r) => r.name === "lab-manager-1-join" && r.operation === "create")!.stderr, /joining 10\.250\.0\.1[23] as a manager/);
    assert.match(ran.find((r) => r.name === "lab-manager-1-member" && r.operation === "create")!.stderr, /manager-1 was replaced: removing its old node/);
    assert.deepStrictEqual(deletes(ran), ["lab-manager-1-init"]);
    const rows = await settled(lab, 2, 5);
    assert.deepStrictEqual(rows.filter((r) => r.manager).map((r) => r.hostname).sort(), ["smr-h2", "smr-h3", "smr-h4"]);
    assert.strictEqual(await swarmState(lab, 1), "inactive");
    assert.strictEqual(await clusterIdOn(4), clusterId);
    const again = await deploy([4, 2, 3], [7, 8], former(1));
    assert.deepStrictEqual(deletes(again.ran), []);
    assert.deepStrictEqual(harness.pendingDeletes.map((e) => e.record.name), []);
    // Anything that still runs (the rebalance step, once spread again) finds nothing to do.
    const third = await deploy([4, 2, 3], [7, 8], former(1));
    assert.deepStrictEqual(third.ran.filter((r) => !/nothing to do/.test(r.stderr)).map((r) => r.name), []);
    // Once the old host is no longer named, the joins see new peers and find nothing to do.
    const fourth = await deploy([4, 2, 3], [7, 8]);
    assert.deepStrictEqual(fourth.ran.filter((r) => !/nothing to do/.test(r.stderr)).map((r) => r.name), []);
  });

  it("replaces all three managers in one up: always a leader, tasks kept but for a moment, same swarm", async () => {
    const samples: { at: number; leader: boolean; tasks: number }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        let leader = false;
        let tasks = -1;
        for (const i of [1, 2, 3, 4, 5, 6]) {
          const r = await lab.exec(i, "docker node ls --format '{{.ManagerStatus}}' && docker service ps poll -f desired-state=running --format '{{.CurrentState}}'");
          if (r.code !== 0) continue;
          const lines = r.stdout.split("\n");
          leader = lines.includes("Leader");
          tasks = lines.filter((l) => l.startsWith("Running")).length;
          if (leader) break;
        }
        samples.push({ at: Date.now(), leader, tasks });
        await new Promise((done) => setTimeout(done, 500));
      }
    })();
    let ran: CommandRecord[];
    try {
      ({ ran } = await deploy([1, 5, 6], [7, 8], former(4, 2, 3)));
    } finally {
      polling = false;
      await poller;
    }
    assert.ok(samples.length > 10, `only ${samples.length} samples`);
    assert.deepStrictEqual(samples.filter((s) => !s.leader).length, 0, "a sample saw no leader");
    const fewest = Math.min(...samples.map((s) => s.tasks));
    // On failure, say which steps ran while the tasks were missing.
    const low = samples.filter((x) => x.tasks < 4).map((x) => x.at);
    const during = ran!.filter((r) => low.some((t) => t >= r.start - 1000 && t <= r.end + 1000)).map((r) => r.name);
    // One task lost at most: a node about to drain is paused, and a service with more than one
    // task on it moves them off by its own rolling update first (lib.sh move_off), so the drain
    // stops at most one task per service.
    assert.ok(fewest >= 4, `tasks fell to ${fewest}: ${samples.map((x) => x.tasks).join(" ")}; steps around then: ${during.join(", ")}`);
    const rows = await settled(lab, 1, 5);
    assert.deepStrictEqual(rows.filter((r) => r.manager).map((r) => [r.hostname, r.status]).sort(),
      [["smr-h1", "Ready"], ["smr-h5", "Ready"], ["smr-h6", "Ready"]]);
    assert.deepStrictEqual(rows.filter((r) => r.manager).map((r) => r.manager).sort(), ["Leader", "Reachable", "Reachable"]);
    assert.strictEqual(rows.filter((r) => r.status === "Down").length, 0);
    for (const i of [2, 3, 4]) assert.strictEqual(await swarmState(lab, i), "inactive", `h${i} still in a swarm`);
    assert.strictEqual(await clusterIdOn(5), clusterId);
    assert.deepStrictEqual(deletes(ran), ["lab-manager-1-init", "lab-manager-2-leave", "lab-manager-3-leave"]);
  });

  it("spreads a service again after a worker comes back, but leaves an opted-out one alone", async () => {
    const create = (name: string, extra: string) => lab.exec(1, `docker service create -d --no-resolve-image --name ${name} --endpoint-mode dnsrr ` +
      `--constraint node.role==worker --update-parallelism 5 --update-monitor 1s --stop-grace-period 1s ${extra} localhost/busybox:latest sleep 100000`);
    assert.strictEqual((await create("web", "--replicas 10")).code, 0);
    assert.strictEqual((await create("pinned", "--replicas 4 --label aws-swarm.rebalance=false")).code, 0);
    const spread = (svc: string, want: number) => eventually(`${want} ${svc} tasks`, 60000, async () => {
      const t = await runningTasks(lab, 1, svc);
      return t.length === want ? t : undefined;
    });
    await spread("web", 10);
    await lab.stop(7);
    const moved = await eventually("all web tasks on h8", 90000, async () => {
      const t = await runningTasks(lab, 1, "web");
      return t.length === 10 && t.every((h) => h === "smr-h8") ? t : undefined;
    });
    assert.strictEqual(moved.length, 10);
    await eventually("pinned on h8", 60000, async () => ((await runningTasks(lab, 1, "pinned")).filter((h) => h === "smr-h8").length === 4 ? true : undefined));
    const pinnedBefore = (await lab.exec(1, "docker service ps pinned -q -f desired-state=running")).stdout.trim().split("\n").sort();
    await lab.start(7);
    await eventually("h7 Ready", 60000, async () => (await nodes(lab, 1)).find((r) => r.hostname === "smr-h7" && r.status === "Ready"));
    const { ran } = await deploy([1, 5, 6], [7, 8]);
    const rebalance = ran.find((r) => r.name === "lab-rebalance")!;
    assert.ok(rebalance, `no rebalance ran: ${ran.map((r) => r.name).join(", ")}`);
    assert.match(rebalance.commandText, /'web'$/);
    assert.match(rebalance.stderr, /rebalanced web/);
    const after = await spread("web", 10);
    const onH7 = after.filter((h) => h === "smr-h7").length;
    assert.ok(onH7 >= 4 && onH7 <= 6, `web is spread ${onH7} / ${10 - onH7}`);
    const pinnedAfter = (await lab.exec(1, "docker service ps pinned -q -f desired-state=running")).stdout.trim().split("\n").sort();
    assert.deepStrictEqual(pinnedAfter, pinnedBefore);
    const settledUp = await deploy([1, 5, 6], [7, 8]);
    assert.ok(!settledUp.ran.some((r) => r.name === "lab-rebalance" && /rebalancing/.test(r.stderr)), `rebalanced again: ${settledUp.ran.map((r) => r.stderr).join("\n")}`);
  });

  it("destroys: every host leaves, managers one at a time", async () => {
    const ran = await harness.destroy();
    assert.deepStrictEqual(ran.filter((r) => / error: /.test(r.stderr)).map((r) => r.name), []);
    for (let i = 1; i <= 9; i++) assert.strictEqual(await swarmState(lab, i), "inactive", `h${i} still in a swarm`);
  });
});

import * as assert from "node:assert";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { bootstrapProgram, labHost, nodes, settled, swarmState } from "./cluster";
import { SwarmHost } from "../../components/bootstrap";

/**
 * Hosts that die, as cloud instances do, with `leaveOnDelete: false` (what SwarmCluster uses):
 * their removal runs on the first manager only, so neither `up` nor `destroy` dials them.
 * Host 1 is the manager, 2-3 the first workers, 4 a replacement host.
 */
describe("SwarmBootstrap when a node's host died", function () {
  const lab = new Lab({ name: "sdh", net: "10.236.0" });
  const harness = new SwarmHarness();
  const manager = () => labHost(lab, 1, "manager-1");
  const deploy = (workers: SwarmHost[]) =>
    harness.deploy(bootstrapProgram("lab", { managers: [manager()], workers, dockerWaitSeconds: 30, drainSeconds: 20, leaveOnDelete: false }).program,
      // A delete that dialled a dead host would cost the provider minutes; the deployment may not.
      { timeoutMs: 90_000 });

  before(async () => {
    await lab.up(4);
    await deploy([labHost(lab, 2, "worker-1"), labHost(lab, 3, "worker-2")]);
    await settled(lab, 1, 3);
  });
  after(async () => {
    harness.dispose();
    await lab.down();
  });

  it("replaces a dead worker's host in one up: the old node is removed from the manager, the new one joins", async () => {
    const oldId = (await nodes(lab, 1)).find((r) => r.hostname === "sdh-h3")!.id;
    await lab.stop(3);
    const { ran } = await deploy([labHost(lab, 2, "worker-1"), labHost(lab, 4, "worker-2")]);
    // No delete dials anything; the new node's label step, on the manager, removes the old one.
    const deletes = ran.filter((r) => r.operation === "delete" && r.commandText !== "");
    assert.deepStrictEqual(deletes.map((r) => r.name), []);
    const member = ran.find((r) => r.name === "lab-worker-2-member" && r.operation === "create")!;
    assert.strictEqual(member.inputs.connection.host, lab.addr(1));
    assert.match(member.stderr, new RegExp(`worker-2 was replaced: removing its old node ${oldId}[\\s\\S]*removed ${oldId}`));
    const rows = await settled(lab, 1, 3);
    assert.deepStrictEqual(rows.map((r) => r.hostname).sort(), ["sdh-h1", "sdh-h2", "sdh-h4"]);
    assert.ok(!rows.some((r) => r.id === oldId));
  });

  it("destroys with a dead worker without failing, and dials no host at all", async () => {
    await lab.stop(4);
    const ran = await harness.destroy();
    // With leaveOnDelete false no step has a delete hook: the instances go, and the swarm with them.
    assert.deepStrictEqual(ran.filter((r) => r.commandText).map((r) => r.name), []);
    assert.strictEqual(harness.state.size, 0);
    assert.strictEqual(await swarmState(lab, 2), "active"); // a live host without leave keeps its local state
  });
});

import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { bootstrapProgram, labHost, nodes, settled } from "./cluster";
import { SwarmHost } from "../../components/bootstrap";

/** Join-token rotation through `tokenRotation`: host 1 manager, 2 a worker, 3 a later worker. */
describe("SwarmBootstrap token rotation on a real swarm", function () {
  const lab = new Lab({ name: "str", net: "10.237.0" });
  const harness = new SwarmHarness();
  const deploy = (workers: SwarmHost[], tokenRotation?: string) => {
    const p = bootstrapProgram("lab", { managers: [labHost(lab, 1, "manager-1")], workers, dockerWaitSeconds: 30, tokenRotation });
    return harness.deploy(p.program).then((r) => ({ ...r, bootstrap: p.get() }));
  };
  const token = (b: { workerJoinToken: pulumi.Output<string> }) =>
    new Promise<string>((resolve) => b.workerJoinToken.apply((t) => (resolve(t), t)));
  let start: { token: string; ids: string[] };

  before(async () => {
    await lab.up(3);
    const first = await deploy([labHost(lab, 2, "worker-1")]);
    await settled(lab, 1, 2);
    start = { token: await token(first.bootstrap), ids: (await nodes(lab, 1)).map((r) => r.id).sort() };
  });
  after(async () => {
    harness.dispose();
    await lab.down();
  });

  it("rotates both tokens when tokenRotation is set, leaving every joined node as it was", async () => {
    const r = await deploy([labHost(lab, 2, "worker-1")], "2026-12-01");
    const now = await token(r.bootstrap);
    assert.notStrictEqual(now, start.token);
    assert.deepStrictEqual(r.ran.filter((x) => x.commandText).map((x) => [x.name, x.operation]).sort(), [
      ["lab-manager-1-join", "update"], ["lab-manager-token", "update"], ["lab-worker-1-join", "update"], ["lab-worker-token", "update"],
    ]);
    assert.match(r.ran.find((x) => x.name === "lab-worker-1-join")!.stderr, /already in this swarm as a worker; nothing to do/);
    const rows = await settled(lab, 1, 2);
    assert.deepStrictEqual(rows.map((x) => x.id).sort(), start.ids);
  });

  it("refuses the old worker token afterwards", async () => {
    const old = await lab.exec(3, "docker swarm join --token \"$(cat)\" 10.237.0.11:2377", { stdin: start.token });
    assert.notStrictEqual(old.code, 0, "the old token still joins");
    assert.doesNotMatch(old.stdout + old.stderr, /This node joined a swarm/);
    await lab.exec(3, "docker swarm leave --force");
  });

  it("does not rotate again for the same marker, and joins a new host with the new token", async () => {
    const r = await deploy([labHost(lab, 2, "worker-1"), labHost(lab, 3, "worker-2")], "2026-12-01");
    assert.ok(!r.ran.some((x) => /-token$/.test(x.name)), "a token step ran again");
    const rows = await settled(lab, 1, 3);
    assert.ok(rows.some((x) => x.hostname === "str-h3"));
  });
});

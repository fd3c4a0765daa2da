import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { SwarmBootstrap, SwarmHost, swarmBootstrapProblems } from "../../components/bootstrap";
import { loadRun } from "../../bench/load";
import { created, dependenciesOf, isWrappedSecret, settle, unwrapSecret, valueOf } from "../helpers/mocks";

/** A real-looking token; the scripts mention "SWMTKN-" only in their redaction pattern. */
const TOKEN = /SWMTKN-1-[A-Za-z0-9]{20,}/;

function host(name: string, ip: string): SwarmHost {
  return { name, privateIp: ip, connection: { host: ip, user: "root", privateKey: pulumi.secret("KEY") }, labels: { az: "zone-a" } };
}
function hosts(prefix: string, n: number, base: number): SwarmHost[] {
  return Array.from({ length: n }, (_, i) => host(`${prefix}-${i + 1}`, `10.9.0.${base + i}`));
}
const commands = (prefix: string) =>
  created.filter((r) => r.type === "command:remote:Command" && r.name.startsWith(`${prefix}-`));
const byName = (prefix: string, suffix: string) => {
  const r = commands(prefix).find((c) => c.name === `${prefix}-${suffix}`);
  assert.ok(r, `no command ${prefix}-${suffix}; have ${commands(prefix).map((c) => c.name).join(", ")}`);
  return r;
};
const order = (prefix: string) => commands(prefix).map((c) => c.name.slice(prefix.length + 1));

async function build(prefix: string, managers: number, workers: number) {
  const b = new SwarmBootstrap(prefix, { managers: hosts("manager", managers, 10), workers: hosts("worker", workers, 100) });
  await valueOf(b.ready);
  return b;
}

describe("SwarmBootstrap", () => {
  it("creates the steps' install per host and on the control manager, init, two token reads, a join and member step per node, a leave per other node, prune and rebalance", async () => {
    await build("b1", 3, 2);
    assert.deepStrictEqual(order("b1").sort(), [
      "control-steps", "manager-1-init", "manager-1-join", "manager-1-member", "manager-1-steps", "manager-2-join", "manager-2-leave", "manager-2-member",
      "manager-2-steps", "manager-3-join", "manager-3-leave", "manager-3-member", "manager-3-steps", "manager-token", "prune", "rebalance",
      "worker-1-join", "worker-1-leave", "worker-1-member", "worker-1-steps", "worker-2-join", "worker-2-leave",
      "worker-2-member", "worker-2-steps", "worker-token",
    ]);
  });

  it("installs the step scripts on each host first, so every other command text is one short line", async () => {
    await build("b1i", 3, 1);
    const names = order("b1i");
    for (const c of commands("b1i").filter((x) => !x.name.endsWith("-steps"))) {
      const host = (unwrapSecret(c.inputs.connection) as { host: string }).host;
      const install = commands("b1i").find((x) => x.name.endsWith("-steps") && (unwrapSecret(x.inputs.connection) as { host: string }).host === host)!;
      assert.ok(names.indexOf(c.name.slice(4)) > names.indexOf(install.name.slice(4)), `${c.name} ran before its host's install`);
      for (const field of ["create", "delete"]) {
        const text = c.inputs[field];
        if (text === undefined) continue;
        assert.ok(String(text).length < 600 && !String(text).includes("\n"), `${c.name}.${field} is not one short line`);
        assert.match(String(text), /\/var\/lib\/aws-swarm\/steps\/[0-9a-f]{12}\/[a-z-]+\.sh/);
      }
    }
  });

  it("gives no step with a delete hook any stdin, since the provider sends it again on delete", async () => {
    await build("b1s", 3, 2);
    const withDelete = commands("b1s").filter((c) => c.inputs.delete !== undefined);
    assert.deepStrictEqual(withDelete.map((c) => c.name.slice(4)).sort(), [
      "manager-1-init", "manager-2-leave", "manager-3-leave", "worker-1-leave", "worker-2-leave",
    ]);
    assert.deepStrictEqual(withDelete.filter((c) => c.inputs.stdin !== undefined).map((c) => c.name), []);
    // A leave step runs nothing until its node goes away.
    assert.strictEqual(byName("b1s", "worker-1-leave").inputs.create, undefined);
  });

  it("initialises on the first manager only, advertising its private address and naming its peers", async () => {
    await build("b2", 3, 0);
    const init = byName("b2", "manager-1-init");
    assert.match(String(init.inputs.create), /swarm-init '300' '10\.9\.0\.10' '10\.9\.0\.11' '10\.9\.0\.12'$/);
    assert.strictEqual(init.inputs.stdin, undefined);
    assert.strictEqual(unwrapSecret(init.inputs.connection) && (unwrapSecret(init.inputs.connection) as { host: string }).host, "10.9.0.10");
    assert.strictEqual(commands("b2").filter((c) => /swarm-init/.test(String(c.inputs.create))).length, 1);
  });

  it("reads the tokens after init, with logging off", async () => {
    await build("b3", 1, 1);
    const names = order("b3");
    for (const role of ["manager", "worker"]) {
      const t = byName("b3", `${role}-token`);
      assert.strictEqual(t.inputs.logging, "none");
      assert.match(String(t.inputs.create), new RegExp(`swarm-token '300' '${role}'$`));
      assert.ok(names.indexOf(`${role}-token`) > names.indexOf("manager-1-init"));
    }
  });

  it("keeps both join tokens secret", async () => {
    const b = await build("b4", 3, 1);
    assert.ok(await pulumi.isSecret(b.managerJoinToken));
    assert.ok(await pulumi.isSecret(b.workerJoinToken));
    assert.match(await valueOf(b.workerJoinToken), TOKEN);
  });

  it("passes each token on stdin only, wrapped as a secret, and the right token to each role", async () => {
    await build("b5", 3, 2);
    for (const name of ["manager-1-join", "manager-2-join", "manager-3-join", "worker-1-join", "worker-2-join"]) {
      const j = byName("b5", name);
      assert.ok(isWrappedSecret(j.inputs.stdin), `${name} stdin is not secret`);
      const want = name.startsWith("manager") ? /mockmanagertoken/ : /mockworkertoken/;
      assert.match(String(unwrapSecret(j.inputs.stdin)), want);
      assert.strictEqual(j.inputs.environment, undefined);
      assert.strictEqual(j.inputs.addPreviousOutputInEnv, false);
    }
  });

  it("puts no token in any command text, trigger or label", async () => {
    await build("b6", 3, 3);
    for (const c of commands("b6")) {
      for (const field of ["create", "update", "delete", "triggers"]) {
        assert.doesNotMatch(JSON.stringify(c.inputs[field] ?? ""), TOKEN, `${c.name}.${field}`);
      }
    }
  });

  it("joins managers one at a time, each after the previous one's label step", async () => {
    await build("b7", 5, 0);
    const names = order("b7");
    const joins = names.filter((n) => /^manager-\d-join$/.test(n));
    assert.deepStrictEqual(joins, ["manager-1-join", "manager-2-join", "manager-3-join", "manager-4-join", "manager-5-join"]);
    assert.ok(names.indexOf("manager-1-join") > names.indexOf("manager-token"));
    for (let i = 2; i <= 5; i++) {
      assert.ok(names.indexOf(`manager-${i}-join`) > names.indexOf(`manager-${i - 1}-member`));
      assert.ok(names.indexOf(`manager-${i}-leave`) > names.indexOf(`manager-${i}-join`));
    }
  });

  it("chains the manager joins on the previous label step, and the leaves on each other, as dependencies", async () => {
    await build("b7d", 5, 0);
    const deps = (n: string) => dependenciesOf.get(`b7d-${n}`) ?? [];
    for (let i = 2; i <= 5; i++) {
      // Without it, replacements would join (and remove their old nodes) all at once.
      assert.ok(deps(`manager-${i}-join`).includes(`b7d-manager-${i - 1}-member`), `manager-${i}-join: ${deps(`manager-${i}-join`)}`);
      assert.ok(deps(`manager-${i}-member`).includes(`b7d-manager-${i}-join`));
    }
    // The engine deletes dependents first: manager-5 leaves, then manager-4, ..., manager-1 (init) last.
    for (let i = 3; i <= 5; i++) assert.ok(deps(`manager-${i}-leave`).includes(`b7d-manager-${i - 1}-leave`), `manager-${i}-leave: ${deps(`manager-${i}-leave`)}`);
    assert.ok(deps("manager-2-leave").includes("b7d-manager-2-join"));
    assert.ok(deps("manager-2-join").includes("b7d-manager-1-init"));
  });

  it("joins workers in batches of 25 %, each batch after the previous batch's label steps", async () => {
    await build("b7w", 1, 8);
    const deps = (n: string) => dependenciesOf.get(`b7w-${n}`) ?? [];
    assert.deepStrictEqual(deps("worker-1-join").filter((d) => /member/.test(d)), []);
    assert.deepStrictEqual(deps("worker-2-join").filter((d) => /member/.test(d)), []);
    assert.deepStrictEqual(deps("worker-3-join").filter((d) => /worker-\d-member/.test(d)).sort(), ["b7w-worker-1-member", "b7w-worker-2-member"]);
    assert.deepStrictEqual(deps("worker-8-join").filter((d) => /worker-\d-member/.test(d)).sort(), ["b7w-worker-5-member", "b7w-worker-6-member"]);
  });

  it("prunes after every label step and rebalances after the prune", async () => {
    await build("b7p", 3, 2);
    const prune = byName("b7p", "prune");
    assert.match(String(prune.inputs.create), /swarm-prune '300' 'b7p' '120' 'manager-1' 'manager-2' 'manager-3' 'worker-1' 'worker-2'$/);
    assert.deepStrictEqual((dependenciesOf.get("b7p-prune") ?? []).filter((d) => d.endsWith("-member")).sort(),
      ["b7p-manager-1-member", "b7p-manager-2-member", "b7p-manager-3-member", "b7p-worker-1-member", "b7p-worker-2-member"]);
    assert.ok((dependenciesOf.get("b7p-rebalance") ?? []).includes("b7p-prune"));
    // With the probe off nothing is uneven, so the step has nothing to force.
    assert.match(String(byName("b7p", "rebalance").inputs.create), /swarm-rebalance '300' 'apply' '120'$/);
  });

  it("joins workers with the worker token and every manager address, as workers", async () => {
    await build("b8", 3, 2);
    const j = byName("b8", "worker-2-join");
    assert.match(String(j.inputs.create), /swarm-join '300' 'worker' '10\.9\.0\.101' 'b8-worker-token' '0' '10\.9\.0\.10' '10\.9\.0\.11' '10\.9\.0\.12'$/);
    const m = byName("b8", "manager-3-join");
    assert.match(String(m.inputs.create), /swarm-join '300' 'manager' '10\.9\.0\.12' 'b8-manager-token' '3' '10\.9\.0\.10' '10\.9\.0\.11'$/);
  });

  it("labels a worker from the control manager, a manager on itself, with no delete hook on either", async () => {
    await build("b9", 3, 1);
    const m = byName("b9", "worker-1-member");
    assert.strictEqual((unwrapSecret(m.inputs.connection) as { host: string }).host, "10.9.0.10");
    assert.match(String(m.inputs.create), /swarm-label '300' 'node-id-b9-worker-1-join' 'b9' 'worker-1' '120' 'az=zone-a' 'role=worker'$/);
    assert.strictEqual(m.inputs.delete, undefined);
    const m3 = byName("b9", "manager-3-member");
    assert.strictEqual((unwrapSecret(m3.inputs.connection) as { host: string }).host, "10.9.0.12");
    assert.strictEqual(m3.inputs.delete, undefined);
    assert.match(String(byName("b9", "worker-1-leave").inputs.delete), /swarm-leave '60'$/);
    assert.strictEqual(byName("b9", "worker-1-join").inputs.delete, undefined);
  });

  it("replaces a node's steps when its address changes", async () => {
    await build("b10", 1, 1);
    assert.deepStrictEqual(byName("b10", "worker-1-join").inputs.triggers, ["10.9.0.100"]);
    assert.deepStrictEqual(byName("b10", "worker-1-member").inputs.triggers, ["10.9.0.100"]);
    assert.deepStrictEqual(byName("b10", "manager-1-init").inputs.triggers, ["10.9.0.10"]);
  });

  it("exposes the first manager as leader and the node IDs from the joins", async () => {
    const b = await build("b11", 3, 1);
    assert.strictEqual(await valueOf(b.leaderAddress), "10.9.0.10");
    assert.deepStrictEqual(await valueOf(b.managerAddresses), ["10.9.0.10", "10.9.0.11", "10.9.0.12"]);
    assert.deepStrictEqual(await valueOf(pulumi.all(b.workerNodeIds)), ["node-id-b11-worker-1-join"]);
    assert.strictEqual((await valueOf(pulumi.all(b.managerNodeIds))).length, 3);
  });

  it("rejects an even number of managers before creating anything", async () => {
    assert.throws(() => new SwarmBootstrap("b12", { managers: hosts("manager", 2, 10) }),
      /managers\.length is 2; a Swarm manager quorum must be odd and at most 7: use 1, 3, 5 or 7\./);
    await settle();
    assert.deepStrictEqual(commands("b12"), []);
  });

  it("rotates tokens only with a marker, passed to the token steps as a plain argument", async () => {
    new SwarmBootstrap("rt", { managers: hosts("manager", 1, 10), tokenRotation: "2026-12-01" });
    await settle();
    await settle();
    for (const role of ["manager", "worker"]) {
      assert.match(String(byName("rt", `${role}-token`).inputs.create), new RegExp(`swarm-token '300' '${role}' '2026-12-01'$`));
    }
    assert.deepStrictEqual(swarmBootstrapProblems({ managers: hosts("manager", 1, 10), tokenRotation: "a\nb" }), [
      'tokenRotation is "a\\nb"; use 1 to 128 printable ASCII characters on one line, e.g. a date such as "2026-12-01".',
    ]);
  });

  it("reports duplicate and malformed host names and bad timeouts together", () => {
    const dup = [host("manager-1", "10.0.0.1"), host("manager-1", "10.0.0.2"), host("Bad Name", "10.0.0.3")];
    assert.deepStrictEqual(swarmBootstrapProblems({ managers: dup, drainSeconds: 0 }), [
      'managers and workers has the host name "Bad Name", which is not kebab-case; use e.g. "worker-3".',
      'managers and workers has the host names ["manager-1"] more than once; give every host its own name.',
      "drainSeconds is 0; use a whole number of seconds from 1 to 3600.",
    ]);
  });
});

describe("SwarmBootstrap with leaveOnDelete: false", () => {
  it("has no delete hook at all: removal runs in label and prune steps on a manager that answers", async () => {
    const b = new SwarmBootstrap("lv", { managers: hosts("manager", 3, 10), workers: hosts("worker", 2, 100), leaveOnDelete: false });
    await valueOf(b.ready);
    const withDelete = commands("lv").filter((c) => c.inputs.delete !== undefined);
    assert.deepStrictEqual(withDelete.map((c) => c.name), []);
    assert.deepStrictEqual(order("lv").filter((n) => n.endsWith("-leave")), []);
  });
});

describe("SwarmBootstrap on its own", () => {
  it("loads without @pulumi/aws, for programs that bring their own hosts", function () {
    this.timeout(60000);
    assert.strictEqual(loadRun("components/bootstrap.ts").loadsAws, false);
    // The check can fail: the package entry does load it.
    assert.strictEqual(loadRun("components/index.ts").loadsAws, true);
  });
});

describe("SwarmBootstrap with serialJoins", () => {
  it("joins each worker only after the previous join, managers first", async () => {
    const b = new SwarmBootstrap("s1", { managers: hosts("manager", 3, 10), workers: hosts("worker", 3, 100), serialJoins: true });
    await valueOf(b.ready);
    const joins = order("s1").filter((n) => n.endsWith("-join"));
    assert.deepStrictEqual(joins, ["manager-1-join", "manager-2-join", "manager-3-join", "worker-1-join", "worker-2-join", "worker-3-join"]);
  });
});

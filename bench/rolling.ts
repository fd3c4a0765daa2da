// Rolling replacement of managers on the swarm lab (issue 11): how long one `up` that replaces
// N managers' hosts takes, against one that replaces a single manager. Each replaced manager
// is a join, a gate (Reachable, quorum whole) and the drain, demotion and removal of its old
// node, one manager after the other, so the ratio should stay near N: a higher one means the
// rollout pays for more than its managers (e.g. waits that grow with the swarm).
import { withLab } from "../test/swarm/lab";
import { SwarmHarness } from "../test/swarm/harness";
import { bootstrapProgram, labHost, settled } from "../test/swarm/cluster";
import { FormerManager } from "../components/bootstrap";

export interface RollingRun {
  /** Wall time of the `up` that replaced one manager (manager-1), ms. */
  oneMs: number;
  /** Wall time of the `up` that replaced all N managers, ms. */
  allMs: number;
  managers: number;
}

/** On a fresh lab: N managers + 1 worker, replace manager-1, then replace all N at once. */
export async function rollingRun(managers = 3): Promise<RollingRun> {
  // Hosts 1..N first managers, N+1..2N replacements, 2N+1 the worker, 2N+2 manager-1's first replacement.
  const n = managers;
  return withLab(2 * n + 2, async (lab) => {
    const harness = new SwarmHarness();
    try {
      const host = (i: number, name: string) => labHost(lab, i, name);
      const former = (is: number[]): FormerManager[] => is.map((i) => ({ privateIp: lab.addr(i), connection: host(i, "x").connection }));
      const up = async (ms: number[], formers: number[]) => {
        const t0 = Date.now();
        await harness.deploy(bootstrapProgram("bench", {
          managers: ms.map((i, k) => host(i, `manager-${k + 1}`)),
          workers: [host(2 * n + 1, "worker-1")],
          formerManagers: former(formers),
          dockerWaitSeconds: 30,
          drainSeconds: 30,
        }).program, { timeoutMs: 300_000 });
        await settled(lab, ms[0], n + 1, 60_000);
        return Date.now() - t0;
      };
      const first = Array.from({ length: n }, (_, k) => k + 1);
      await up(first, []);
      const swapped = [2 * n + 2, ...first.slice(1)];
      const oneMs = await up(swapped, [1]);
      const all = Array.from({ length: n }, (_, k) => n + k + 1);
      const allMs = await up(all, swapped);
      return { oneMs, allMs, managers: n };
    } finally {
      harness.dispose();
    }
  }, { name: "smr2", net: "10.249.0" });
}

if (require.main === module) {
  rollingRun(Number(process.env.BENCH_MANAGERS ?? 3)).then((r) => {
    process.stdout.write(`rolling replace ${r.managers} managers / 1 manager: ${(r.allMs / r.oneMs).toFixed(2)} ` +
      `(${(r.allMs / 1000).toFixed(1)} s vs ${(r.oneMs / 1000).toFixed(1)} s)\n`);
  }).catch((e) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  });
}

// Bootstrap benchmark on the swarm lab: SwarmBootstrap's real remote commands, run over SSH by
// the swarm test harness on lab hosts with real Docker daemons. Measures the wall time of whole
// deployments and, from the harness's CommandRecords, every step's own time.
import { workerBatchSize } from "../components/rolling";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import { performance } from "perf_hooks";
import { Lab, withLab } from "../test/swarm/lab";
import { CommandRecord, SwarmHarness } from "../test/swarm/harness";
import { bootstrapProgram, labHost, nodes, settled } from "../test/swarm/cluster";
import { SwarmHost } from "../components/bootstrap";
import { sleep } from "./stats";

/** Bootstrap resource name; step commands are `${PREFIX}-<host>-<step>` and `${PREFIX}-<role>-token`. */
export const PREFIX = "bench";
/** Seconds each step may wait for Docker (the lab's daemons already answer: it never waits). */
const DOCKER_WAIT_SECONDS = 60;
/** Pause after `lab up` so each deployment starts on idle hosts, not during daemon start-up. */
const SETTLE_MS = 2000;

export interface Shape {
  managers: number;
  workers: number;
}

export type RunKind = "parallel" | "serial" | "rerun";

/** One step of one deployment, in ms relative to the deployment's start. */
export interface StepTiming {
  name: string;
  start: number;
  end: number;
  /** end - start: SSH connection, the script (with its wait for docker) and the Docker work. */
  ms: number;
  /** start - (end of the last dependency, or the deployment's start): time lost before it ran. */
  gapMs: number;
}

/** One measured deployment. */
export interface BootstrapRun {
  kind: RunKind;
  /** Wall time of `harness.deploy`: registration, every step, until the program's output resolved. */
  wallMs: number;
  steps: StepTiming[];
  /**
   * install on manager-1 + init + max(token reads) + max(Σ manager joins + last manager's member, max over workers of
   * (join + member)). Defined for the parallel bootstrap only (0 for serial runs).
   */
  lowerBoundMs: number;
  /** Longest path through the actual dependency graph, weighted by the measured step times. */
  criticalPathMs: number;
  /**
   * The chain of steps that actually ended last, walked back through the dependency that ended
   * last: wall = Σ its step times + Σ its gaps (the first gap is start-up) + tail.
   */
  chain: { steps: string[]; stepMs: number; gapMs: number; tailMs: number };
  /** Share of the machine's CPU time (all cores) that was busy during the deployment, 0..1. */
  cpuBusy: number;
  /**
   * Share of the machine's CPU time used by this bench itself during the deployment (the lab's
   * daemons, sshd sessions and scripts, this process and its ssh clients), 0..1. The rest of
   * cpuBusy is someone else's load.
   */
  cpuOwn: number;
}

/** USER_HZ: the unit of the times in /proc/<pid>/stat (100 on every Linux this runs on). */
const TICKS_PER_S = 100;

/** CPU ticks used so far by a process and its reaped children; 0 when it is gone. */
function processTicks(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // Fields after the command name (which may hold spaces): state is [0], utime..cstime are [11..14].
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return f[11] + f[12] + f[13] + f[14];
}

/** Every PID in a cgroup directory tree. */
function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(`${d}/${e.name}`);
      else if (e.name === "cgroup.procs") {
        try {
          pids.push(...fs.readFileSync(`${d}/${e.name}`, "utf8").split("\n").filter(Boolean).map(Number));
        } catch {
          // the cgroup went away while we read it
        }
      }
    }
  };
  walk(dir);
  return pids;
}

/** CPU seconds used so far by this process, its children, and every process of the lab. */
function ownCpuSeconds(lab: Lab): number {
  const pids = [process.pid, ...cgroupPids(`/sys/fs/cgroup/pids/swarm-lab/${lab.name}`)];
  return pids.reduce((sum, pid) => sum + processTicks(pid), 0) / TICKS_PER_S;
}

/** Busy and total CPU jiffies of the whole machine, from /proc/stat. */
function cpuTimes(): { busy: number; total: number } {
  // user nice system idle iowait irq softirq steal; guest time is already part of user.
  const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4];
  return { busy: total - idle, total };
}

const step = (host: string, what: string) => `${PREFIX}-${host}-${what}`;
const managerName = (k: number) => `manager-${k}`;
const workerName = (w: number) => `worker-${w}`;

function analyse(
  kind: RunKind, shape: Shape, deployStart: number, deployEnd: number, ran: CommandRecord[], cpuBusy: number, cpuOwn: number,
): BootstrapRun {
  // Each step's dependencies as the SDK declared them to the engine (recorded by the harness),
  // restricted to the steps that ran.
  const byName = new Map(ran.map((r) => [r.name, r]));
  const deps = new Map(ran.map((r) => [r.name, r.dependsOn.filter((n) => byName.has(n))]));
  const rec = (n: string): CommandRecord => byName.get(n)!;
  const d = (n: string) => rec(n).end - rec(n).start;
  const steps: StepTiming[] = ran.map((r) => {
    const ready = Math.max(deployStart, ...(deps.get(r.name) ?? []).map((p) => rec(p).end));
    return { name: r.name, start: r.start - deployStart, end: r.end - deployStart, ms: r.end - r.start, gapMs: r.start - ready };
  });

  // Longest path: records in start order are in topological order (a step starts after its dependencies end).
  const finish = new Map<string, number>();
  for (const r of [...ran].sort((a, b) => a.start - b.start)) {
    finish.set(r.name, d(r.name) + Math.max(0, ...(deps.get(r.name) ?? []).map((p) => finish.get(p) ?? 0)));
  }
  const criticalPathMs = Math.max(...finish.values());

  let lowerBoundMs = 0;
  if (kind !== "serial") {
    // steps install + init + tokens + max(manager chain, worker batches) + prune + rebalance, where
    // the manager chain is every manager's join and label step one after the other, and each
    // worker batch costs its slowest join + label step (components/bootstrap.ts).
    const has = (n: string) => byName.has(n);
    const init = d(step(managerName(1), "steps")) + d(step(managerName(1), "init"));
    const tokens = Math.max(d(`${PREFIX}-manager-token`), d(`${PREFIX}-worker-token`));
    let managerChain = 0;
    for (let k = 1; k <= shape.managers; k++) managerChain += d(step(managerName(k), "join")) + d(step(managerName(k), "member"));
    const size = workerBatchSize(undefined, shape.workers);
    let workerPath = 0;
    for (let b0 = 1; b0 <= shape.workers; b0 += size) {
      let slowest = 0;
      for (let w = b0; w < b0 + size && w <= shape.workers; w++) {
        slowest = Math.max(slowest, d(step(workerName(w), "join")) + d(step(workerName(w), "member")));
      }
      workerPath += slowest;
    }
    const tail = (has(`${PREFIX}-prune`) ? d(`${PREFIX}-prune`) : 0) + (has(`${PREFIX}-rebalance`) ? d(`${PREFIX}-rebalance`) : 0);
    lowerBoundMs = init + tokens + Math.max(managerChain, workerPath) + tail;
  }

  const chain: string[] = [];
  let cur: CommandRecord | undefined = [...ran].sort((a, b) => b.end - a.end)[0];
  while (cur) {
    chain.unshift(cur.name);
    const before: CommandRecord[] = (deps.get(cur.name) ?? []).map(rec).sort((a, b) => b.end - a.end);
    cur = before[0];
  }
  const timing = new Map(steps.map((s) => [s.name, s]));
  const last = rec(chain[chain.length - 1]);
  return {
    kind,
    wallMs: deployEnd - deployStart,
    steps,
    lowerBoundMs,
    criticalPathMs,
    chain: {
      steps: chain,
      stepMs: chain.reduce((sum, n) => sum + timing.get(n)!.ms, 0),
      gapMs: chain.reduce((sum, n) => sum + timing.get(n)!.gapMs, 0),
      tailMs: deployEnd - last.end,
    },
    cpuBusy,
    cpuOwn,
  };
}

/** Lab hosts 1..managers as managers, the next ones as workers. */
function hostsOf(lab: Lab, shape: Shape): { managers: SwarmHost[]; workers: SwarmHost[] } {
  return {
    managers: Array.from({ length: shape.managers }, (_, k) => labHost(lab, k + 1, managerName(k + 1))),
    workers: Array.from({ length: shape.workers }, (_, w) => labHost(lab, shape.managers + w + 1, workerName(w + 1))),
  };
}

async function deploy(harness: SwarmHarness, lab: Lab, shape: Shape, kind: RunKind): Promise<BootstrapRun> {
  const { managers, workers } = hostsOf(lab, shape);
  const { program } = bootstrapProgram(PREFIX, {
    managers,
    workers,
    dockerWaitSeconds: DOCKER_WAIT_SECONDS,
    serialJoins: kind === "serial",
  });
  // CommandRecord times are Date.now() values; take the deployment's bounds on the same clock.
  const cpu0 = cpuTimes();
  const own0 = ownCpuSeconds(lab);
  const start = Date.now();
  const { ran } = await harness.deploy(program, { mode: kind === "rerun" ? "always" : "diff", timeoutMs: 300_000 });
  const end = Date.now();
  const own1 = ownCpuSeconds(lab);
  const cpu1 = cpuTimes();
  const cores = os.cpus().length;
  return analyse(kind, shape, start, end, ran,
    (cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total),
    (own1 - own0) / Math.max(0.001, ((end - start) / 1000) * cores));
}

/** Fails unless the lab runs one swarm with every node Ready and the right number of managers. */
async function verify(lab: Lab, shape: Shape): Promise<void> {
  const total = shape.managers + shape.workers;
  await settled(lab, 1, total, 60_000);
  const rows = await nodes(lab, 1);
  const managerRows = rows.filter((r) => r.manager !== "").length;
  if (managerRows !== shape.managers) {
    throw new Error(`expected ${shape.managers} managers after the bootstrap, found ${managerRows}`);
  }
}

/** A fresh lab of managers + workers hosts; `fn` runs on it, and the lab is always torn down. */
function onFreshLab<T>(lab: Lab, shape: Shape, fn: () => Promise<T>): Promise<T> {
  return withLab(shape.managers + shape.workers, async () => {
    await sleep(SETTLE_MS);
    return fn();
  }, { name: lab.name, net: lab.net, root: lab.root });
}

/** Workers in parallel (the default), then every step again on the same hosts (mode "always"). */
export async function parallelAndRerun(lab: Lab, shape: Shape): Promise<{ first: BootstrapRun; rerun: BootstrapRun }> {
  return onFreshLab(lab, shape, async () => {
    const harness = new SwarmHarness();
    try {
      const first = await deploy(harness, lab, shape, "parallel");
      await verify(lab, shape);
      const rerun = await deploy(harness, lab, shape, "rerun");
      await verify(lab, shape);
      return { first, rerun };
    } finally {
      harness.dispose();
    }
  });
}

/** The same cluster with `serialJoins: true`, on fresh hosts. */
export async function serial(lab: Lab, shape: Shape): Promise<BootstrapRun> {
  return onFreshLab(lab, shape, async () => {
    const harness = new SwarmHarness();
    try {
      const run = await deploy(harness, lab, shape, "serial");
      await verify(lab, shape);
      return run;
    } finally {
      harness.dispose();
    }
  });
}

/** Costs that every step pays, measured on an idle lab host with the harness's ssh options. */
export interface Probes {
  /** `ssh host true`: process start, TCP, key exchange, auth, session. */
  sshNoopMs: number[];
  /** `ssh host 'docker info >/dev/null'`: the same plus one Docker CLI round trip (wait_docker's first check). */
  sshDockerInfoMs: number[];
  /** `docker info` alone, run in the host's namespaces without ssh (lab exec adds ~15 ms of nsenter). */
  dockerInfoMs: number[];
}

function timedSsh(lab: Lab, i: number, cmd: string): Promise<number> {
  // The options of test/swarm/harness.ts (which is how the bench's deployments connect).
  const args = [
    "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "KexAlgorithms=curve25519-sha256",
    "-i", lab.keyPath, "-o", "IdentitiesOnly=yes", "-l", "root", lab.addr(i), cmd,
  ];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("ssh", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`ssh ${lab.addr(i)} ${cmd} exited ${code}: ${err}`));
    });
  });
}

/** Probes on a fresh one-host lab, one at a time, `n` samples each. */
export async function probes(lab: Lab, n: number): Promise<Probes> {
  return onFreshLab(lab, { managers: 1, workers: 0 }, async () => {
    const out: Probes = { sshNoopMs: [], sshDockerInfoMs: [], dockerInfoMs: [] };
    for (let k = 0; k < n; k++) {
      out.sshNoopMs.push(await timedSsh(lab, 1, "true"));
      out.sshDockerInfoMs.push(await timedSsh(lab, 1, "docker info >/dev/null"));
      const r = await lab.exec(1, "s=$(date +%s%N); docker info >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))");
      if (r.code !== 0) throw new Error(`docker info probe failed: ${r.stderr}`);
      out.dockerInfoMs.push(Number(r.stdout.trim()) / 1000);
    }
    return out;
  });
}

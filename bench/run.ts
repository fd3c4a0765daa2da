// `npm run bench`: bootstrap critical path on the swarm lab and program scaling under mocks.
// Prints a table and writes bench/results.json. Ratios from one run are the figures; absolute
// times are printed for context only. Needs root and the swarm lab's packages (see README.md).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { Lab } from "../test/swarm/lab";
import { BootstrapRun, parallelAndRerun, probes, Probes, serial, Shape } from "./bootstrap";
import { loadRun } from "./load";
import { rollingRun, RollingRun } from "./rolling";
import { programRun, ProgramRun } from "./programs";
import { fixed, spread, summarize, Summary, table } from "./stats";

const REPEATS = positiveInt(process.env.BENCH_REPEATS, 3);
const SHAPE: Shape = { managers: 3, workers: 6 };
const SIZES: Shape[] = [
  { managers: 3, workers: 2 },
  { managers: 7, workers: 100 },
  { managers: 7, workers: 500 },
];
const PROBE_SAMPLES = 10;
const MIB = 1024 * 1024;
const RESULTS = path.join(__dirname, "results.json");

function positiveInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_REPEATS must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
  return n;
}

interface Target {
  op: "<=" | "<";
  value: number;
}

interface Figure extends Summary {
  label: string;
  unit: string;
  target: Target;
  ok: boolean;
}

function figure(label: string, unit: string, samples: number[], target: Target): Figure {
  const s = summarize(samples);
  const ok = target.op === "<=" ? s.median <= target.value : s.median < target.value;
  return { label, unit, ...s, target, ok };
}

const nodesOf = (s: Shape) => s.managers + s.workers;
const sizeKey = (s: Shape) => `${s.managers}+${s.workers}`;
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function programScaling(): Promise<Map<string, ProgramRun[]>> {
  const runs = new Map<string, ProgramRun[]>(SIZES.map((s) => [sizeKey(s), []]));
  for (let rep = 1; rep <= REPEATS; rep++) {
    for (const size of SIZES) {
      const r = await programRun(size.managers, size.workers);
      runs.get(sizeKey(size))!.push(r);
      log(`program ${sizeKey(size)} #${rep}: eval ${fixed(r.evalMs / 1000, 2)} s, ${r.resources} resources, ` +
        `peak RSS ${fixed(r.maxRssBytes / MIB, 0)} MiB`);
    }
  }
  return runs;
}

/** A stack with one worker group of desired size 1 and of 1000 (3 managers, no fixed workers). */
async function groupScaling(): Promise<{ one: ProgramRun[]; thousand: ProgramRun[] }> {
  const out = { one: [] as ProgramRun[], thousand: [] as ProgramRun[] };
  for (let rep = 1; rep <= REPEATS; rep++) {
    for (const [key, desired] of [["one", 1], ["thousand", 1000]] as const) {
      const r = await programRun(3, 0, desired);
      out[key].push(r);
      log(`program 3+0 with a group of ${desired} #${rep}: eval ${fixed(r.evalMs / 1000, 2)} s, ${r.resources} resources`);
    }
  }
  return out;
}

interface BootstrapRuns {
  parallel: BootstrapRun[];
  rerun: BootstrapRun[];
  serial: BootstrapRun[];
}

async function bootstrapRuns(lab: Lab): Promise<BootstrapRuns> {
  const out: BootstrapRuns = { parallel: [], rerun: [], serial: [] };
  for (let rep = 1; rep <= REPEATS; rep++) {
    // Alternate which mode goes first, so drift in the machine's load does not favour one.
    const order = rep % 2 === 1 ? ["parallel", "serial"] : ["serial", "parallel"];
    for (const kind of order) {
      if (kind === "parallel") {
        const { first, rerun } = await parallelAndRerun(lab, SHAPE);
        out.parallel.push(first);
        out.rerun.push(rerun);
        log(`bootstrap #${rep}: ${fixed(first.wallMs / 1000, 2)} s (lower bound ${fixed(first.lowerBoundMs / 1000, 2)} s), ` +
          `re-run ${fixed(rerun.wallMs / 1000, 2)} s`);
      } else {
        const run = await serial(lab, SHAPE);
        out.serial.push(run);
        log(`bootstrap serialJoins #${rep}: ${fixed(run.wallMs / 1000, 2)} s`);
      }
    }
  }
  return out;
}

/** Median step time per kind of step over every step of that kind in the given runs, ms. */
function stepKinds(runs: BootstrapRun[]): Record<string, Summary> {
  const kinds: Record<string, number[]> = {};
  const kindOf = (name: string) =>
    /-manager-1-init$/.test(name) ? "init"
      : /-token$/.test(name) ? "token read"
        : /-manager-\d+-join$/.test(name) ? "manager join"
          : /-worker-\d+-join$/.test(name) ? "worker join"
            : /-manager-1-member$/.test(name) ? "member (first manager)"
              : /-member$/.test(name) ? "member (label)"
                : /-steps$/.test(name) ? "steps install" : "other";
  for (const run of runs) {
    for (const s of run.steps) (kinds[kindOf(s.name)] ??= []).push(s.ms);
  }
  const out: Record<string, Summary> = {};
  for (const [k, v] of Object.entries(kinds)) out[k] = summarize(v);
  return out;
}

function render(
  figures: Record<string, Figure>, b: BootstrapRuns, p: Map<string, ProgramRun[]>, pr: Probes, totalS: number, git: GitState | undefined,
): string {
  const out: string[] = [];
  const tree = git ? `commit ${git.commit.slice(0, 7)}${git.changedFiles ? ` + ${git.changedFiles} changed files` : ""}, ` : "";
  out.push(`aws-swarm bench — ${new Date().toISOString()} — ${tree}${os.cpus().length} cores, node ${process.version}, ` +
    `${REPEATS} runs per figure, median [min–max]; total ${fixed(totalS, 0)} s`);
  out.push("");
  out.push(table(["figure", "median [min–max]", "target", "result"], Object.values(figures).map((f) => [
    f.label, `${spread(f, f.unit === "" ? 2 : f.unit === "s" ? 1 : 0)}${f.unit ? ` ${f.unit}` : ""}`,
    `${f.target.op === "<=" ? "≤" : "<"} ${f.target.value}${f.unit ? ` ${f.unit}` : ""}`, f.ok ? "ok" : "MISSED",
  ])));
  out.push("");
  const s = (xs: number[]) => spread(summarize(xs.map((x) => x / 1000)), 2);
  out.push(`Bootstrap of ${SHAPE.managers} managers + ${SHAPE.workers} workers on the swarm lab, seconds:`);
  const startup = (r: BootstrapRun) => r.steps.find((x) => x.name.endsWith("-manager-1-init"))!.gapMs;
  const row = (label: string, runs: BootstrapRun[], withBound: boolean) => [
    label, s(runs.map((r) => r.wallMs)), withBound ? s(runs.map((r) => r.lowerBoundMs)) : "-",
    s(runs.map((r) => r.criticalPathMs)), s(runs.map(startup)),
    s(runs.map((r) => r.chain.gapMs - startup(r) + r.chain.tailMs)),
    `${spread(summarize(runs.map((r) => r.cpuBusy * 100)), 0)} / ${spread(summarize(runs.map((r) => r.cpuOwn * 100)), 0)}`,
  ];
  out.push(table(["deployment", "wall", "lower bound", "critical path", "start-up", "other gaps", "CPU % machine / bench"], [
    row("workers in parallel (first run)", b.parallel, true),
    row("serialJoins: true", b.serial, false),
    row("re-run, mode always", b.rerun, true),
  ]));
  out.push("");
  out.push("Step times (each includes ssh connection setup and the script's wait for docker), seconds:");
  const first = stepKinds(b.parallel);
  const again = stepKinds(b.rerun);
  const inSerial = stepKinds(b.serial);
  out.push(table(["step", "first run", "serialJoins", "re-run"], Object.keys(first).map((k) => [
    k, spread(mapSummary(first[k]), 2), inSerial[k] ? spread(mapSummary(inSerial[k]), 2) : "-",
    again[k] ? spread(mapSummary(again[k]), 2) : "-",
  ])));
  out.push("");
  out.push(`Per-step fixed costs on an idle lab host (${PROBE_SAMPLES} samples), ms: ssh no-op ${spread(summarize(pr.sshNoopMs), 0)}, ` +
    `ssh + docker info ${spread(summarize(pr.sshDockerInfoMs), 0)}, docker info alone ${spread(summarize(pr.dockerInfoMs), 0)}`);
  out.push("");
  out.push("Program under mocks (fresh process per run; evaluation excludes module loading):");
  out.push(table(["size", "nodes", "resources", "evaluation s", "per node ms", "constructors s", "exports s", "peak RSS MiB", "start-up s"],
    SIZES.map((size) => {
      const runs = p.get(sizeKey(size))!;
      return [sizeKey(size), String(nodesOf(size)), [...new Set(runs.map((r) => r.resources))].join("/"),
        spread(summarize(runs.map((r) => r.evalMs / 1000)), 2),
        spread(summarize(runs.map((r) => r.evalMs / nodesOf(size))), 1),
        spread(summarize(runs.map((r) => r.constructMs / 1000)), 2),
        spread(summarize(runs.map((r) => r.outputsMs / 1000)), 2),
        spread(summarize(runs.map((r) => r.maxRssBytes / MIB)), 0),
        spread(summarize(runs.map((r) => r.startupMs / 1000)), 2)];
    })));
  const changed = SIZES.filter((size) => new Set(p.get(sizeKey(size))!.map((r) => r.resources)).size > 1);
  if (changed.length > 0) {
    out.push(`WARNING: the program changed during the bench (resource counts differ between runs of ${changed.map(sizeKey).join(", ")}); ` +
      "its figures mix program versions: run again on a quiet tree.");
  }
  return out.join("\n");
}

/** The commit measured and how many files differ from it (read-only git calls). */
interface GitState {
  commit: string;
  changedFiles: number;
}

function gitState(): GitState | undefined {
  try {
    const git = (args: string[]) => execFileSync("git", args, { cwd: path.join(__dirname, ".."), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return { commit: git(["rev-parse", "HEAD"]).trim(), changedFiles: git(["status", "--porcelain"]).split("\n").filter(Boolean).length };
  } catch {
    return undefined; // not a git checkout
  }
}

function mapSummary(s: Summary): Summary {
  return summarize(s.samples.map((x) => x / 1000));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const git = gitState();
  const lab = new Lab({ name: "sbn", net: "10.241.0" });
  // Ctrl-C or a kill must not leave the lab's daemons behind.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: tearing down lab ${lab.name}`);
    lab.down().catch((e: unknown) => log(`lab down failed: ${String(e)}`)).finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  log(`module loading: components/bootstrap.ts and components/index.ts × ${REPEATS}`);
  const loads = Array.from({ length: REPEATS }, () => ({ bootstrap: loadRun("components/bootstrap.ts"), all: loadRun("components/index.ts") }));
  if (loads.some((l) => l.bootstrap.loadsAws)) throw new Error("loading components/bootstrap.ts loaded @pulumi/aws");

  log(`program scaling: ${SIZES.map(sizeKey).join(", ")} × ${REPEATS}`);
  const programs = await programScaling();
  log(`worker group scaling: desired 1 and 1000 × ${REPEATS}`);
  const groups = await groupScaling();

  let b: BootstrapRuns;
  let pr: Probes;
  try {
    log(`probes: ssh and docker info on one lab host`);
    pr = await probes(lab, PROBE_SAMPLES);
    log(`bootstrap: ${SHAPE.managers} managers + ${SHAPE.workers} workers, parallel + re-run and serialJoins × ${REPEATS}`);
    b = await bootstrapRuns(lab);
  } finally {
    // Each deployment tears its own lab down; this also covers a failure between deployments.
    await lab.down().catch((e: unknown) => log(`lab down failed: ${String(e)}`));
  }
  const rolling: RollingRun[] = [];
  for (let rep = 1; rep <= REPEATS; rep++) {
    const r = await rollingRun(3);
    rolling.push(r);
    log(`rolling replace #${rep}: 3 managers ${fixed(r.allMs / 1000, 1)} s, 1 manager ${fixed(r.oneMs / 1000, 1)} s`);
  }

  const per = (size: Shape) => programs.get(sizeKey(size))!.map((r) => r.evalMs / nodesOf(size));
  const [, mid, big] = SIZES;
  const perMid = per(mid);
  const perBig = per(big);
  const figures: Record<string, Figure> = {
    bootstrapVsLowerBound: figure("bootstrap / lower bound", "", b.parallel.map((r) => r.wallMs / r.lowerBoundMs), { op: "<=", value: 1.25 }),
    oursVsAllSerial: figure("ours / all-serial", "", b.parallel.map((r, i) => r.wallMs / b.serial[i].wallMs), { op: "<=", value: 0.6 }),
    rerunVsFirst: figure("re-run / first run", "", b.rerun.map((r, i) => r.wallMs / b.parallel[i].wallMs), { op: "<=", value: 0.2 }),
    perNode500VsPerNode100: figure(`per-node(${sizeKey(big)}) / per-node(${sizeKey(mid)})`, "", perBig.map((x, i) => x / perMid[i]), { op: "<=", value: 1.5 }),
    peakRss500: figure(`peak RSS at ${sizeKey(big)}`, "MiB", programs.get(sizeKey(big))!.map((r) => r.maxRssBytes / MIB), { op: "<", value: 1024 }),
    bootstrapLoad: figure("SwarmBootstrap load / package load", "", loads.map((l) => l.bootstrap.ms / l.all.ms), { op: "<=", value: 0.6 }),
    // Issue 12: a worker group's cost in resources and evaluation does not grow with its size.
    groupResources: figure("group resources 1000 / 1", "", groups.thousand.map((r, i) => r.resources / groups.one[i].resources), { op: "<=", value: 1 }),
    groupEvaluation: figure("group evaluation 1000 / 1", "", groups.thousand.map((r, i) => r.evalMs / groups.one[i].evalMs), { op: "<=", value: 1.25 }),
    // One manager after the other: about N times one replacement, never much more.
    rolling3VsRolling1: figure("rolling replace 3 mgrs / 1 mgr", "", rolling.map((r) => r.allMs / r.oneMs), { op: "<=", value: 3.5 }),
    evaluation100: figure(`evaluation of ${sizeKey(mid)} (issue 3)`, "s", programs.get(sizeKey(mid))!.map((r) => r.evalMs / 1000), { op: "<", value: 20 }),
  };
  const totalS = (performance.now() - t0) / 1000;
  const text = render(figures, b, programs, pr, totalS, git);
  process.stdout.write(`${text}\n`);

  const results = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "", memoryBytes: os.totalmem(), node: process.version, platform: `${os.platform()} ${os.release()}` },
    git,
    repeats: REPEATS,
    totalSeconds: totalS,
    figures,
    bootstrap: {
      shape: SHAPE,
      lowerBound: "manager-1 steps install + init + max(manager token, worker token) + max(Σ manager joins + last manager's member, max over workers of (join + member)); each step's time includes ssh setup and its wait for docker",
      runs: b,
      steps: { first: stepKinds(b.parallel), serial: stepKinds(b.serial), rerun: stepKinds(b.rerun) },
      probesMs: pr,
    },
    rolling,
    loading: loads,
    program: Object.fromEntries(SIZES.map((size) => [sizeKey(size), programs.get(sizeKey(size))])),
    workerGroup: groups,
    table: text,
  };
  const tmp = `${RESULTS}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
  fs.renameSync(tmp, RESULTS);
  log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);

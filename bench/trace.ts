// Where a bootstrap step's time goes. Not part of `npm run bench` (tracing slows the steps down
// a little); run it by hand when a bootstrap figure regresses:
//   npx ts-node --transpile-only bench/trace.ts
// On each lab host, `sh` is replaced by a bash wrapper that runs the step script with a
// timestamped xtrace ($EPOCHREALTIME, no extra process per line), so every command of every step
// gets its own duration. One deployment with workers in parallel and one with serialJoins, each
// on fresh hosts; the output splits each kind of step into ssh, docker CLI calls, sleeps, the
// join API call and the shell itself. "lines/step" counts traced lines, not processes: a
// command substitution and the assignment that receives it are two lines. The xtrace expands
// the join tokens of lab swarms in memory; only the per-part totals are printed.
import { Lab } from "../test/swarm/lab";
import { CommandRecord, SwarmHarness } from "../test/swarm/harness";
import { bootstrapProgram, labHost, settled } from "../test/swarm/cluster";
import { fixed, table } from "./stats";

const SHAPE = { managers: 3, workers: 6 };

// Runs `sh -c SCRIPT NAME ARGS...` as bash with xtrace; `: trace-end` marks the script's exit.
const WRAPPER = `#!/bin/bash
[ "\${1-}" = -c ] || exec /bin/sh "$@"
script=$2
shift 2
exec /bin/bash -c "PS4='+\\$EPOCHREALTIME '; trap ': trace-end' EXIT; set -x; $script" "$@"
`;

interface Part {
  ms: number;
  count: number;
}

/** Splits one record's time into parts by the command each traced line started. */
function breakdown(r: CommandRecord): Map<string, Part> {
  const parts = new Map<string, Part>();
  const add = (k: string, ms: number, count = 1) => {
    const p = parts.get(k) ?? { ms: 0, count: 0 };
    p.ms += ms;
    p.count += count;
    parts.set(k, p);
  };
  const lines = r.stderr.split("\n")
    .map((l) => /^\++(\d+\.\d+) (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ t: Number(m[1]) * 1000, text: m[2] }));
  if (lines.length === 0) {
    add("untraced", r.end - r.start);
    return parts;
  }
  const endLine = lines.findIndex((l) => l.text === ": trace-end");
  const last = endLine >= 0 ? lines[endLine].t : lines[lines.length - 1].t;
  add("ssh + shell start/exit", lines[0].t - r.start + (r.end - last));
  for (let i = 0; i < lines.length; i++) {
    if (i === endLine) break;
    const next = i + 1 < lines.length ? lines[i + 1].t : r.end;
    add(kindOf(lines[i].text), next - lines[i].t);
  }
  return parts;
}

function kindOf(text: string): string {
  const docker = /^docker (\S+)(?: (\S+))?/.exec(text);
  if (docker) {
    const sub = docker[1];
    return ["info", "version"].includes(sub) || (docker[2] ?? "").startsWith("-") ? `docker ${sub}` : `docker ${sub} ${docker[2] ?? ""}`.trim();
  }
  if (/^sleep /.test(text)) return "sleep (nap 0.25 s)";
  // The join body is piped into curl; either side of the pipe may be traced first.
  if (/^curl /.test(text) || /ListenAddr/.test(text)) return "join API (body + curl)";
  if (/^timeout 3 bash/.test(text)) return "port probe :2377";
  return "shell (sed, date, printf, ...)";
}

function stepKind(name: string): string {
  if (/-init$/.test(name)) return "init";
  if (/-token$/.test(name)) return "token read";
  if (/-manager-\d+-join$/.test(name)) return "manager join";
  if (/-worker-\d+-join$/.test(name)) return "worker join";
  return "member (label)";
}

async function traced(lab: Lab, serialJoins: boolean): Promise<CommandRecord[]> {
  const total = SHAPE.managers + SHAPE.workers;
  await lab.up(total);
  try {
    await Promise.all(Array.from({ length: total }, async (_, k) => {
      const r = await lab.exec(k + 1, "cat > /usr/local/bin/sh && chmod 755 /usr/local/bin/sh", { stdin: WRAPPER });
      if (r.code !== 0) throw new Error(`installing the trace wrapper on h${k + 1} failed: ${r.stderr}`);
    }));
    const managers = Array.from({ length: SHAPE.managers }, (_, k) => labHost(lab, k + 1, `manager-${k + 1}`));
    const workers = Array.from({ length: SHAPE.workers }, (_, w) => labHost(lab, SHAPE.managers + w + 1, `worker-${w + 1}`));
    const harness = new SwarmHarness();
    try {
      const { program } = bootstrapProgram("trace", { managers, workers, dockerWaitSeconds: 60, serialJoins });
      const { ran } = await harness.deploy(program, { timeoutMs: 300_000 });
      await settled(lab, 1, total);
      return ran;
    } finally {
      harness.dispose();
    }
  } finally {
    await lab.down();
  }
}

function report(title: string, ran: CommandRecord[]): string {
  const byKind = new Map<string, { steps: number; ms: number; parts: Map<string, Part> }>();
  for (const r of ran) {
    const k = stepKind(r.name);
    const entry = byKind.get(k) ?? { steps: 0, ms: 0, parts: new Map<string, Part>() };
    entry.steps++;
    entry.ms += r.end - r.start;
    for (const [part, v] of breakdown(r)) {
      const p = entry.parts.get(part) ?? { ms: 0, count: 0 };
      p.ms += v.ms;
      p.count += v.count;
      entry.parts.set(part, p);
    }
    byKind.set(k, entry);
  }
  const rows: string[][] = [];
  for (const [kind, e] of byKind) {
    rows.push([kind, String(e.steps), fixed(e.ms / e.steps, 0), "", "", ""]);
    for (const [part, p] of [...e.parts].sort((a, b) => b[1].ms - a[1].ms)) {
      rows.push(["", "", "", part, fixed(p.ms / e.steps, 0), fixed(p.count / e.steps, 1)]);
    }
  }
  return `${title}\n${table(["step", "n", "ms/step", "part", "ms/step", "lines/step"], rows)}`;
}

async function main(): Promise<void> {
  const lab = new Lab({ name: "sbn", net: "10.241.0" });
  const onSignal = () => void lab.down().finally(() => process.exit(130));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const parallel = await traced(lab, false);
  const serial = await traced(lab, true);
  process.stdout.write(`${report(`Workers in parallel, ${SHAPE.managers}+${SHAPE.workers} (traced):`, parallel)}\n\n`);
  process.stdout.write(`${report(`serialJoins: true, ${SHAPE.managers}+${SHAPE.workers} (traced):`, serial)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`trace failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);

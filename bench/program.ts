// One program-scaling sample, run in a fresh child process by bench/run.ts:
//   node -r ts-node/register/transpile-only bench/program.ts <managers> <workers> [group-desired]
// With group-desired, the stack also has one worker group of that desired size (issue 12).
// Loads the unit-test mocks, evaluates index.ts with the given counts and prints one JSON line
// (ProgramSample) on stdout once every export resolved and registrations stopped.
import * as path from "path";
import { performance } from "perf_hooks";
// The mocks must be set before any module that creates resources is loaded.
import { created } from "../test/helpers/mocks";
import * as pulumi from "@pulumi/pulumi";
// Loaded (and compiled by ts-node) before the clock starts: module loading is a constant cost
// of every run, not part of evaluating the program, and would hide how evaluation scales.
import "../config";
import "../components/cluster";

/** What the child reports; bench/run.ts parses it. */
export interface ProgramSample {
  managers: number;
  workers: number;
  /** ms from requiring index.ts until every export resolved and the last resource registered. */
  evalMs: number;
  /** ms the require of index.ts itself took: the components' constructors run synchronously. */
  constructMs: number;
  /** ms until every export resolved (registrations may go on after that). */
  outputsMs: number;
  /** ms from process start until the clock started (node, ts-node, @pulumi/* and components). */
  startupMs: number;
  /** Resources the mock monitor saw (components and custom resources). */
  resources: number;
  /** Peak resident set size of this process, bytes (process.resourceUsage().maxRSS). */
  maxRssBytes: number;
  /** V8 heap in use after the evaluation, bytes. */
  heapUsedBytes: number;
}

const ROOT = path.join(__dirname, "..");
const QUIET_MS = 500;
const TIMEOUT_MS = 600_000;

function parseCount(word: string | undefined, what: string): number {
  const n = Number(word);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`usage: program.ts <managers> <workers>; ${what} is ${JSON.stringify(word)}`);
  }
  return n;
}

function resolved(o: pulumi.Output<unknown>): Promise<void> {
  return new Promise((resolve) => {
    o.apply((v) => {
      resolve();
      return v;
    });
  });
}

/**
 * Waits until the mock monitor has seen no new registration for QUIET_MS; returns the time of
 * the last one observed (polled every 5 ms), so the quiet period itself is not measured.
 */
async function lastRegistration(): Promise<number> {
  let count = created.length;
  let at = performance.now();
  while (performance.now() - at < QUIET_MS) {
    await new Promise((r) => setTimeout(r, 5));
    if (created.length !== count) {
      count = created.length;
      at = performance.now();
    }
  }
  return at;
}

async function main(): Promise<void> {
  const managers = parseCount(process.argv[2], "managers");
  const workers = parseCount(process.argv[3], "workers");
  const group = process.argv[4] === undefined ? undefined : parseCount(process.argv[4], "group-desired");
  const startupMs = performance.now();
  created.length = 0;
  pulumi.runtime.setAllConfig({
    "aws:region": "us-east-1",
    "aws-swarm:managerCount": String(managers),
    "aws-swarm:workerCount": String(workers),
    "aws-swarm:sshAllowedCidrs": JSON.stringify(["203.0.113.0/24"]),
    ...(group === undefined ? {} : { "aws-swarm:workerGroups": JSON.stringify([{ name: "bench", min: 0, max: 1000, desired: group }]) }),
  });
  const index = path.join(ROOT, "index.ts");
  delete require.cache[index];

  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exports = require(index) as Record<string, unknown>;
  const constructedAt = performance.now();
  const outputs = Object.values(exports).filter((v): v is pulumi.Output<unknown> => pulumi.Output.isInstance(v));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`exports did not resolve within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  await Promise.race([Promise.all(outputs.map(resolved)), timeout]);
  clearTimeout(timer);
  const outputsAt = performance.now();
  const lastAt = await lastRegistration();

  const sample: ProgramSample = {
    managers,
    workers,
    evalMs: Math.max(outputsAt, lastAt) - t0,
    constructMs: constructedAt - t0,
    outputsMs: outputsAt - t0,
    startupMs,
    resources: created.length,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: process.memoryUsage().heapUsed,
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench/program.ts: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);

// Program scaling: each sample is a fresh child process (bench/program.ts), so peak RSS is per size.
import { spawn } from "child_process";
import * as path from "path";
import { performance } from "perf_hooks";
import type { ProgramSample } from "./program";

export interface ProgramRun extends ProgramSample {
  /** Wall time of the whole child process, ms (start-up + evaluation + exit). */
  processMs: number;
}

const CHILD = path.join(__dirname, "program.ts");
const CHILD_TIMEOUT_MS = 900_000;

function isSample(v: unknown): v is ProgramSample {
  if (!v || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return ["managers", "workers", "evalMs", "constructMs", "outputsMs", "startupMs", "resources", "maxRssBytes", "heapUsedBytes"].every(
    (k) => typeof o[k] === "number",
  );
}

/** Evaluates index.ts with `managers` + `workers` under mocks in a fresh Node process. */
export function programRun(managers: number, workers: number, groupDesired?: number): Promise<ProgramRun> {
  const register = require.resolve("ts-node/register/transpile-only");
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const group = groupDesired === undefined ? [] : [String(groupDesired)];
    const child = spawn(process.execPath, ["-r", register, CHILD, String(managers), String(workers), ...group], {
      cwd: path.join(__dirname, ".."),
      stdio: ["ignore", "pipe", "pipe"],
      // The parent's NODE_OPTIONS (e.g. a heap limit) would change what is measured.
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const processMs = performance.now() - t0;
      const line = stdout.trim().split("\n").pop() ?? "";
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (code !== 0 || !isSample(parsed)) {
        reject(new Error(`program ${managers}+${workers} failed (exit ${code ?? signal}):\n${stderr}${stdout}`));
        return;
      }
      resolve({ ...parsed, processMs });
    });
  });
}

// Module loading: what a program pays before its first resource. SwarmBootstrap alone must not
// load @pulumi/aws (about half of the whole package's start-up): a lab or on-premises program
// that imports components/bootstrap gets only the SDK, @pulumi/command and the step scripts.
import { execFileSync } from "child_process";
import * as path from "path";

export interface LoadRun {
  /** Milliseconds from before the first require to after the module is loaded. */
  ms: number;
  /** Whether any file of @pulumi/aws was loaded. */
  loadsAws: boolean;
}

const ROOT = path.join(__dirname, "..");

/** Loads `module` (relative to the repo) in a fresh Node process, as ts-node runs a program. */
export function loadRun(module: string): LoadRun {
  const script = [
    "const t0 = process.hrtime.bigint();",
    `require(${JSON.stringify(path.join(ROOT, module))});`,
    "const ms = Number(process.hrtime.bigint() - t0) / 1e6;",
    "const loadsAws = Object.keys(require.cache).some((f) => f.includes(`${require('path').sep}@pulumi${require('path').sep}aws${require('path').sep}`));",
    "process.stdout.write(JSON.stringify({ ms, loadsAws }));",
  ].join("\n");
  const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8" });
  return JSON.parse(out) as LoadRun;
}

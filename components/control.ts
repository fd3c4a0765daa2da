/**
 * DESIGN: where the work that needs a manager runs.
 *
 * Tokens, labels, removals and rebalancing need a Swarm manager; workers cannot do any of it.
 * A remote command has exactly one connection, fixed when the program registers it, and the
 * engine later runs its delete with that stored connection. So:
 * - Before registering those steps, the program asks every manager it knows (the stack's
 *   managers, then `formerManagers`, e.g. instances being replaced) over SSH, all at once and
 *   each bounded by a few seconds, whether it is a manager that can act (`docker info`), and
 *   takes the first that says yes, in list order. A dead manager-1 costs that bound and no
 *   more; it never blocks `up`, as long as any majority of managers is up (else no manager can
 *   act at all). With no answer (day 1, nothing runs yet) the first manager is used.
 * - The steps that run there keep no delete hook: removing a node is done by the step of its
 *   replacement (label.sh) or by the prune step of a later `up`, both on a manager that answers
 *   now. A manager's own label and cleanup run on itself, once it has joined.
 * - The same SSH session reports which services are spread unevenly (rebalance.sh probe), so
 *   the rebalance step's input changes exactly when there is something to rebalance.
 * Preview runs the probe too (it only reads), so the preview shows the same hosts as the update.
 * `AWS_SWARM_PROBE=off` turns it off (unit tests under mocks, whose hosts do not exist).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stepScript } from "./scripts";

/** The parts of a remote.Command connection the probe can follow. */
export interface ProbeConnection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  proxy?: { host: string; port?: number; user?: string; privateKey?: string };
}

/** What the probe learnt. */
export interface ProbeResult {
  /** Index into the candidate list of the first manager that can act, or -1. */
  index: number;
  /** Services whose tasks are spread unevenly, as that manager sees them (sorted). */
  unbalanced: string[];
}

/** Seconds one candidate may take to answer before it counts as down. */
export const PROBE_SECONDS = 8;

/** Whether the probe may dial hosts in this process. */
export function probeEnabled(): boolean {
  return (process.env.AWS_SWARM_PROBE ?? "on") !== "off";
}

/** Parses the probe script's output; pure, for tests. */
export function parseProbe(stdout: string): { control: boolean; unbalanced: string[] } {
  const lines = stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  return {
    control: lines.some((l) => /^control \S+$/.test(l)),
    unbalanced: lines.filter((l) => l.startsWith("unbalanced ")).map((l) => l.slice(11)).sort(),
  };
}

/**
 * Asks every candidate at once and returns the first, in list order, that is a manager that
 * can act. Never throws: a host that cannot be reached, has no Docker or is a worker is skipped.
 */
export async function probeManagers(candidates: ProbeConnection[], seconds = PROBE_SECONDS): Promise<ProbeResult> {
  if (!probeEnabled() || candidates.length === 0) return { index: -1, unbalanced: [] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-probe-"));
  try {
    const script = stepScript("rebalance");
    const answers = await Promise.all(candidates.map((c, i) => askOne(c, script, dir, i, seconds)));
    const index = answers.findIndex((a) => a.control);
    return { index, unbalanced: index < 0 ? [] : answers[index].unbalanced };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function keyFile(dir: string, name: string, key: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
  return file;
}

function sshOptions(seconds: number): string[] {
  return [
    "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", `ConnectTimeout=${Math.max(1, Math.floor(seconds / 2))}`,
  ];
}

async function askOne(c: ProbeConnection, script: string, dir: string, i: number, seconds: number) {
  const args = [...sshOptions(seconds), "-p", String(c.port ?? 22), "-l", c.user ?? "root"];
  if (c.privateKey) args.push("-i", keyFile(dir, `key-${i}`, c.privateKey), "-o", "IdentitiesOnly=yes");
  if (c.proxy) {
    const p = c.proxy;
    const jump = ["ssh", ...sshOptions(seconds), "-p", String(p.port ?? 22), "-l", p.user ?? "root",
      ...(p.privateKey ? ["-i", keyFile(dir, `proxy-${i}`, p.privateKey), "-o", "IdentitiesOnly=yes"] : []),
      "-W", "%h:%p", p.host];
    args.push("-o", `ProxyCommand=${jump.map(quote).join(" ")}`);
  }
  // The probe script travels on stdin; the command is the same for every host.
  args.push(c.host, `exec $([ "$(id -u)" -eq 0 ] || echo sudo -n) sh -s -- 2 probe`);
  const out = await run("ssh", args, script, seconds * 1000);
  return out === undefined ? { control: false, unbalanced: [] } : parseProbe(out);
}

function quote(w: string): string {
  return /^[A-Za-z0-9_./:%@=-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** stdout of a successful run, or undefined on failure or timeout. */
function run(cmd: string, args: string[], stdin: string, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(cmd, args, { stdio: ["pipe", "pipe", "ignore"] });
    } catch {
      resolve(undefined);
      return;
    }
    let stdout = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.stdout.on("data", (d) => (stdout += d));
    child.on("error", () => (clearTimeout(timer), resolve(undefined)));
    child.on("close", (code) => (clearTimeout(timer), resolve(code === 0 ? stdout : undefined)));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

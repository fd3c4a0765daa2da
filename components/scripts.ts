import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** The shell steps of the bootstrap protocol, one file each under components/scripts/. */
export type Step =
  | "init" | "token" | "join" | "label" | "remove" | "leave" | "prune" | "rebalance" | "registry" | "registry-remove"
  | "compose-deploy" | "compose-remove" | "metrics" | "metrics-install" | "journal"
  // Programs installed as files rather than run as steps: the worker groups' boot and the keeper.
  | "worker-boot" | "keeper";

const cache = new Map<string, string>();
function readScript(file: string): string {
  let text = cache.get(file);
  if (text === undefined) {
    text = fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");
    cache.set(file, text);
  }
  return text;
}

/** The full POSIX sh program of a step: the shared helpers, then the step itself. */
export function stepScript(step: Step): string {
  return `${readScript("lib.sh")}\n${readScript(`${step}.sh`)}`;
}

/** Quotes one word for a POSIX shell, so no argument can break out of its place. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command text a remote.Command runs for a step: the script and its arguments, run as root
 * (through `sudo -n` when the SSH user is not root). stdin reaches the script untouched, which
 * is how join tokens travel. Arguments must never be secrets: command text is stored in state
 * and shown in diffs.
 */
export function stepCommand(step: Step, args: pulumi.Input<string | number>[]): pulumi.Output<string> {
  return pulumi.all(args).apply((values) => renderStepCommand(step, values.map(String)));
}

/** Pure form of {@link stepCommand}, for tests and tools. */
export function renderStepCommand(step: Step, args: string[]): string {
  const words = [shellQuote(stepScript(step)), `swarm-${step}`, ...args.map(shellQuote)];
  return `exec $([ "$(id -u)" -eq 0 ] || echo sudo -n) sh -c ${words.join(" ")}`;
}

/**
 * Where a host keeps its copy of the step scripts, one directory per version, so a step's command
 * text can name a file instead of holding a whole script. The provider reports a failure as the
 * exit status, then the whole quoted command, then the output: with the script inline, a step's
 * own "error: …; fix" line came after some 5 KB of shell.
 */
export const STEPS_DIR = "/var/lib/aws-swarm/steps";

/** Steps that run from the installed copy (the bootstrap's; the registry's stay inline). */
export const INSTALLED_STEPS: readonly Step[] = ["init", "token", "join", "label", "remove", "leave", "prune", "rebalance"];

/** Version of the installed steps: a hash of every script they are made of. */
export function stepsVersion(): string {
  // Every step of every host names the version: hash the scripts once per process.
  if (version !== undefined) return version;
  const h = createHash("sha256");
  for (const file of ["lib.sh", ...INSTALLED_STEPS.map((s) => `${s}.sh`)]) h.update(file).update("\0").update(readScript(file));
  version = h.digest("hex").slice(0, 12);
  return version;
}
let version: string | undefined;

const HEREDOC_END = "AWS_SWARM_STEP_EOF";

/**
 * The command that installs this version of the steps on a host, idempotently: written to a
 * temporary directory, then renamed, so a step never sees half a copy.
 */
export function renderInstallCommand(): string {
  installCommand ??= buildInstallCommand();
  return installCommand;
}
let installCommand: string | undefined;

function buildInstallCommand(): string {
  const dir = `${STEPS_DIR}/${stepsVersion()}`;
  const files = ["lib.sh", ...INSTALLED_STEPS.map((step) => `${step}.sh`)].map((file) => {
    const text = readScript(file);
    if (text.split("\n").includes(HEREDOC_END)) throw new Error(`${file} contains the line ${HEREDOC_END}`);
    return `cat >"$t/${file}" <<'${HEREDOC_END}'\n${text}\n${HEREDOC_END}`;
  });
  const script = [
    "set -eu",
    `d=${dir}`,
    'if [ -f "$d/.complete" ]; then echo "swarm-install: steps already installed in $d" >&2; exit 0; fi',
    `mkdir -p ${STEPS_DIR}`,
    `t=$(mktemp -d ${STEPS_DIR}/.tmp.XXXXXX)`,
    ...files,
    'touch "$t/.complete"',
    'rm -rf "$d"',
    'mv "$t" "$d"',
    'echo "swarm-install: installed the steps in $d" >&2',
  ].join("\n");
  return `exec $([ "$(id -u)" -eq 0 ] || echo sudo -n) sh -c ${shellQuote(script)} swarm-install`;
}

/**
 * A short command text that runs an installed step (see {@link renderInstallCommand}). When the
 * copy is missing (a host rebuilt at the same address), a delete hook has nothing to undo and
 * exits 0; any other step fails with the fix.
 */
export function installedStepCommand(step: Step, args: pulumi.Input<string | number>[]): pulumi.Output<string> {
  return pulumi.all(args).apply((values) => renderInstalledStepCommand(step, values.map(String)));
}

/** Pure form of {@link installedStepCommand}. */
export function renderInstalledStepCommand(step: Step, args: string[]): string {
  if (!INSTALLED_STEPS.includes(step)) throw new Error(`step ${step} is not installed on hosts; use stepCommand`);
  const dir = `${STEPS_DIR}/${stepsVersion()}`;
  const file = `${dir}/${step}.sh`;
  const missing = step === "leave" || step === "remove"
    ? `echo "swarm-${step}: the aws-swarm steps are not installed on $(hostname); nothing to undo" >&2; exit 0`
    : `echo "swarm-${step}: error: ${file} is missing on $(hostname); run pulumi up --replace <URN of the host's -steps command>" >&2; exit 1`;
  const body = `[ -r ${file} ] || { ${missing}; }; . ${dir}/lib.sh; . ${file}`;
  const words = [shellQuote(body), `swarm-${step}`, ...args.map(shellQuote)];
  return `exec $([ "$(id -u)" -eq 0 ] || echo sudo -n) sh -c ${words.join(" ")}`;
}

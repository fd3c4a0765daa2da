import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** The shell steps of the bootstrap protocol, one file each under components/scripts/. */
export type Step =
  | "init" | "token" | "join" | "label" | "remove" | "leave" | "registry" | "registry-remove"
  | "compose-deploy" | "compose-remove";

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

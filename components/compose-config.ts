/**
 * Compose stacks as data: the shape of stack config `aws-swarm:stacks` and the whole check of
 * one stack (file, YAML, schema, key table, secrets), shared by config.ts and ComposeStack.
 */
import * as path from "path";
import { shown } from "./errors";
import { ComposeDocument, loadComposeFile } from "./compose-file";
import { composeKeyProblems, ComposeFacts } from "./compose-keys";
import { SECRETS_NAMESPACE } from "./services-config";

/** One entry of `aws-swarm:stacks`, validated. */
export interface StackSpec {
  /** Swarm stack name (`docker stack deploy … <name>`), also the prefix of its services. */
  name: string;
  /** Path of the compose file, relative to the Pulumi project directory. */
  composeFile: string;
  /** Values for `${VAR}` interpolation; stored in state, so never put secrets here. */
  env: Record<string, string>;
  /** Let services run privileged, add capabilities, or mount / or the Docker socket. */
  allowPrivileged: boolean;
}

/** A checked stack: its spec, the parsed file and what the checks found. */
export interface CheckedStack {
  spec: StackSpec;
  doc: ComposeDocument;
  facts: ComposeFacts;
}

const STACK_FIELDS = ["name", "composeFile", "env", "allowPrivileged"] as const;
/** Swarm's rule for stack names: they prefix service and network names. */
const STACK_NAME = /^[a-z0-9][a-z0-9_-]{0,29}$/;

const isStackName = (value: unknown): value is string => typeof value === "string" && STACK_NAME.test(value);

/** Problems with a Swarm stack name; `setting` is the name the user wrote. */
export function stackNameProblems(value: unknown, setting: string): string[] {
  if (isStackName(value)) return [];
  return [`${setting} is ${shown(value)}; use at most 30 lower-case letters, digits, "-" or "_", starting with a letter or digit, e.g. "shop".`];
}
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export interface StackCheckOptions {
  /** Directory `composeFile` is relative to. @default process.cwd() (the Pulumi project) */
  baseDir?: string;
  /** Secret names that have a value; others named by a file are reported. @default not checked */
  availableSecrets?: readonly string[];
  /** The fix for a secret without a value. @default pulumi config set --secret aws-swarm-secrets:<name> */
  missingSecretFix?: (name: string) => string;
}

/**
 * Checks one stack's file: readable, YAML, interpolated with `env`, valid Compose, and allowed
 * by the key table. Problems are pushed; the result is undefined when there were any.
 */
export function checkStack(spec: StackSpec, options: StackCheckOptions, problems: string[]): CheckedStack | undefined {
  const before = problems.length;
  const full = path.resolve(options.baseDir ?? process.cwd(), spec.composeFile);
  const { doc } = loadComposeFile(full, spec.composeFile, spec.env, problems);
  if (!doc) return undefined;
  const facts = composeKeyProblems(doc, spec.allowPrivileged, problems);
  const fix = options.missingSecretFix ?? ((s: string) => `run pulumi config set --secret ${SECRETS_NAMESPACE}:${s} <value>`);
  for (const s of [...facts.secrets, ...facts.secretConfigs]) {
    if (options.availableSecrets && !options.availableSecrets.includes(s)) {
      const kind = facts.secrets.includes(s) ? "secrets" : "configs";
      problems.push(`${doc.where([kind, s])}: ${kind}.${s} has no value; ${fix(s)}.`);
    }
  }
  return problems.length > before ? undefined : { spec, doc, facts };
}

/**
 * Validates `aws-swarm:stacks` (a list of `{ name, composeFile, env?, allowPrivileged? }`) and
 * checks every file. Returns every problem at once; `stacks` holds the checked entries.
 */
export function parseStacks(
  value: unknown,
  key: string,
  options: StackCheckOptions = {},
): { stacks: CheckedStack[]; problems: string[] } {
  const problems: string[] = [];
  const stacks: CheckedStack[] = [];
  if (value === undefined) return { stacks, problems };
  if (!Array.isArray(value)) {
    return { stacks, problems: [`${key} is ${shown(value)}; it must be a list such as [{ name: "app", composeFile: "compose.yaml" }].`] };
  }
  const names = new Set<string>();
  value.forEach((entry, i) => {
    const at = `${key}[${i}]`;
    if (!isRecord(entry)) {
      problems.push(`${at} is ${shown(entry)}; write each stack as { name: "app", composeFile: "compose.yaml" }.`);
      return;
    }
    const before = problems.length;
    for (const f of Object.keys(entry).filter((f) => !(STACK_FIELDS as readonly string[]).includes(f))) {
      problems.push(`${at}.${f} is not a known setting (value ${shown(entry[f])}); remove it or use one of: ${STACK_FIELDS.join(", ")}.`);
    }
    const { name, composeFile, env, allowPrivileged } = entry;
    if (!isStackName(name)) {
      problems.push(...stackNameProblems(name, `${at}.name`));
    } else if (names.has(name)) {
      problems.push(`${at}.name is ${shown(name)}, already the name of another stack; give every stack its own name.`);
    } else names.add(name);
    if (typeof composeFile !== "string" || composeFile.trim() === "") {
      problems.push(`${at}.composeFile is ${shown(composeFile)}; set it to the compose file's path relative to the Pulumi project, e.g. "compose.yaml".`);
    }
    if (env !== undefined && (!isRecord(env) || Object.entries(env).some(([k, v]) => !ENV_NAME.test(k) || typeof v !== "string"))) {
      problems.push(`${at}.env is ${shown(env)}; write it as a map of variable names to strings, e.g. { TAG: "1.4" }.`);
    }
    if (allowPrivileged !== undefined && typeof allowPrivileged !== "boolean") {
      problems.push(`${at}.allowPrivileged is ${shown(allowPrivileged)}; use true or false.`);
    }
    if (problems.length > before) return;
    const spec: StackSpec = {
      name: name as string,
      composeFile: composeFile as string,
      env: { ...((env as Record<string, string> | undefined) ?? {}) },
      allowPrivileged: allowPrivileged === true,
    };
    const found: string[] = [];
    const checked = checkStack(spec, options, found);
    problems.push(...found.map((p) => `${at} (${spec.name}): ${p}`));
    if (checked) stacks.push(checked);
  });
  return { stacks, problems };
}

/** Every secret name (secrets and secret-valued configs) some stack takes from config, sorted. */
export function stackSecretNames(stacks: readonly CheckedStack[]): string[] {
  return [...new Set(stacks.flatMap((s) => [...s.facts.secrets, ...s.facts.secretConfigs]))].sort();
}

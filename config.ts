import * as pulumi from "@pulumi/pulumi";
import { ConfigError, shown } from "./components/errors";
import { DEFAULT_VPC_CIDR } from "./components/cidr";
import { DEFAULT_AZ_COUNT } from "./components/azs";
import { DEFAULT_INSTANCE_TYPE, instanceTypeProblems } from "./components/instance-type";
import { DEFAULT_NODE_PLACEMENT } from "./components/network";
import { DEFAULT_REGISTRY_IMAGE } from "./components/registry";
import { swarmClusterProblems } from "./components/cluster";
import { SettingNames } from "./components/setting-names";
import { DEFAULT_MANAGER_COUNT, DEFAULT_WORKER_COUNT } from "./components/quorum";
import {
  parsePublishedPorts, parseServices, PublishedEndpoint, secretNames, SECRETS_NAMESPACE, ServiceSpec,
} from "./components/services-config";
import { CheckedStack, parseStacks, stackSecretNames } from "./components/compose-config";
import { resolveLogs, ResolvedLogs } from "./components/observability-config";
import { WorkerGroupSpec, workerGroupsProblems } from "./components/worker-groups-config";
import { backupsRun, BackupsSettings, parseBackups } from "./components/operations-config";
import { RollingBatch, rollingBatchProblems } from "./components/rolling";

/** Stack config namespace: keys are `aws-swarm:<key>`. */
export const NAMESPACE = "aws-swarm";

/** Registry settings; `registry: false` turns it off. */
export interface RegistryConfig {
  enabled: boolean;
  /** @default "registry:2" */
  image: string;
  /** Delete stored images with the stack; for dev stacks. @default false */
  forceDestroy: boolean;
}

/** The validated stack config with every default resolved. */
export interface StackConfig {
  managerCount: number;
  workerCount: number;
  managerInstanceType: string;
  workerInstanceType: string;
  sshAllowedCidrs: string[];
  vpcCidr: string;
  azCount: number;
  nodePlacement: "public" | "private";
  sshPublicKey?: string;
  registry: RegistryConfig;
  /** Swarm services to deploy, validated, with defaults resolved (components/services-config.ts). */
  services: ServiceSpec[];
  /** CIDRs that may reach published ports directly (besides the load balancer). */
  publishedCidrs: string[];
  /** Load balancer ports for services deployed outside this stack (`docker stack deploy`). */
  publishedPorts: PublishedEndpoint[];
  /** Compose stacks, each file parsed and checked (components/compose-config.ts). */
  stacks: CheckedStack[];
  /** Changing it rotates both join tokens on the next `up`. @default unset: never rotate */
  tokenRotation?: string;
  /** Services' default log driver and the log groups' retention. @default { driver: "awslogs", retentionDays: 30 } */
  logs: ResolvedLogs;
  /** Address subscribed to the alarm topic. @default none */
  alarmEmail?: string;
  /** Auto Scaling groups of workers that join by themselves (components/worker-groups-config.ts). @default [] */
  workerGroups: WorkerGroupSpec[];
  /** Autolock the managers, unlock key in Secrets Manager. @default false */
  autolock: boolean;
  /** Changing it rotates the unlock key on the next `up`. @default unset: never rotate */
  unlockKeyRotation?: string;
  /** Raft backups; `enabled` is what was asked for (they also need the registry bucket). */
  backups: BackupsSettings;
  /** S3 key of a backup to restore the first manager from. @default unset */
  restoreFrom?: string;
  /** Nodes a rollout takes at a time. @default { managers: 1, workers: "25%" } */
  rollingBatch?: RollingBatch;
}

type Raw = Record<string, string>;

const key = (k: string) => `${NAMESPACE}:${k}`;

/** Keys that hold a list: set one entry at a time with `pulumi config set --path`. */
const LIST_KEYS: Record<string, string> = {
  sshAllowedCidrs: "203.0.113.0/24",
  publishedCidrs: "198.51.100.0/24",
  publishedPorts: "8443",
  services: "",
  stacks: "",
  workerGroups: "",
};

function parseJson(k: string, text: string, problems: string[]): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (k in LIST_KEYS && (value === undefined || typeof value === "string" || typeof value === "number")) {
    // `pulumi config set key value` without --path stores one plain string, the likeliest slip.
    const entry =
      k === "services" ? `'${key(k)}[0].name' web` :
      k === "workerGroups" ? `'${key(k)}[0].name' general && pulumi config set --path '${key(k)}[0].max' 3` :
      k === "stacks" ? `'${key(k)}[0].name' shop && pulumi config set --path '${key(k)}[0].composeFile' shop.yaml` :
      `'${key(k)}[0]' ${shown(text).slice(1, -1) || LIST_KEYS[k]}`;
    problems.push(
      `${key(k)} is ${shown(text)}, a plain string, but it must be a list; set it entry by entry: ` +
        `pulumi config rm ${key(k)} && pulumi config set --path ${entry}.`,
    );
    return undefined;
  }
  if (value === undefined) {
    problems.push(`${key(k)} is ${shown(text)}, which is not valid YAML/JSON; set it with pulumi config set --path, as in README "Configuration".`);
  }
  return value;
}

/**
 * Pulumi stores every value as text: a number-looking value becomes a number, anything else
 * stays the text, so the rule reports it as written (`"three"`, `"3; rm -rf /"`).
 */
function decodeNumber(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  // No trimming: "3\n" is not what `pulumi config set` stores for 3, so it is reported as written.
  return /^-?\d+(\.\d+)?(e\d+)?$/i.test(text) ? Number(text) : text;
}

/** A list or object key: the parsed value, or undefined (problem reported) when it is unset or not JSON. */
function decodeJson(raw: Raw, k: string, problems: string[]): unknown {
  return raw[k] === undefined ? undefined : parseJson(k, raw[k], problems);
}

/** `true`/`false` as Pulumi stores booleans; anything else is left for the rule to name. */
function decodeBoolean(text: string | undefined): unknown {
  return text === "true" ? true : text === "false" ? false : text;
}

/** `registry`: `true`/`false` as Pulumi stores booleans, else an object. */
function decodeRegistry(raw: Raw, problems: string[]): unknown {
  const text = raw.registry;
  if (text === "true" || text === "false") return text === "true";
  return decodeJson(raw, "registry", problems);
}

/** The registry settings with defaults, once `value` passed clusterRegistryProblems. */
function resolveRegistry(value: unknown): RegistryConfig {
  const defaults: RegistryConfig = { enabled: true, image: DEFAULT_REGISTRY_IMAGE, forceDestroy: false };
  if (typeof value === "boolean") return { ...defaults, enabled: value };
  return { ...defaults, ...(value as Partial<RegistryConfig> | undefined) };
}

/** How stack-config users write settings: `aws-swarm:<key>`, lists set entry by entry. */
export const STACK_CONFIG_NAMES: SettingNames = {
  prefix: `${NAMESPACE}:`,
  listEntry: (setting, example) => `pulumi config set --path '${setting}[0]' ${example}`,
};

/**
 * `services`, checked by components/services-config.ts; every secret a service lists must be
 * set as `aws-swarm-secrets:<name>` in the same stack.
 */
function services(raw: Raw, all: Record<string, string>, problems: string[]): ServiceSpec[] {
  if (raw.services === undefined) return [];
  const value = parseJson("services", raw.services, problems);
  if (value === undefined) return [];
  const prefix = `${SECRETS_NAMESPACE}:`;
  const availableSecrets = Object.keys(all)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
  const parsed = parseServices(value, { key: key("services"), availableSecrets });
  problems.push(...parsed.problems);
  return parsed.services;
}

/** `stacks`: compose files checked by components/compose-config.ts, secrets as for services. */
function stacks(raw: Raw, all: Record<string, string>, problems: string[]): CheckedStack[] {
  if (raw.stacks === undefined) return [];
  const value = parseJson("stacks", raw.stacks, problems);
  if (value === undefined) return [];
  const prefix = `${SECRETS_NAMESPACE}:`;
  const availableSecrets = Object.keys(all).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  const parsed = parseStacks(value, key("stacks"), { availableSecrets });
  problems.push(...parsed.problems);
  return parsed.stacks;
}

function publishedPorts(raw: Raw, problems: string[]): PublishedEndpoint[] {
  if (raw.publishedPorts === undefined) return [];
  const value = parseJson("publishedPorts", raw.publishedPorts, problems);
  if (value === undefined) return [];
  const parsed = parsePublishedPorts(value, key("publishedPorts"));
  problems.push(...parsed.problems);
  return parsed.endpoints;
}

/** `workerGroups`: the same rule WorkerGroupArgs is held to (components/worker-groups-config.ts). */
function workerGroups(raw: Raw, problems: string[]): WorkerGroupSpec[] {
  if (raw.workerGroups === undefined) return [];
  const value = parseJson("workerGroups", raw.workerGroups, problems);
  if (value === undefined) return [];
  const found = workerGroupsProblems(value, key("workerGroups"));
  problems.push(...found);
  return found.length ? [] : (value as WorkerGroupSpec[]);
}

/** Every key the stack accepts; anything else under `aws-swarm:` is reported as unknown. */
export const CONFIG_KEYS = [
  "managerCount", "workerCount", "instanceType", "managerInstanceType", "workerInstanceType",
  "sshAllowedCidrs", "vpcCidr", "azCount", "nodePlacement", "sshPublicKey", "registry",
  "services", "publishedPorts", "publishedCidrs", "stacks", "tokenRotation", "logs", "alarmEmail",
  "workerGroups", "autolock", "unlockKeyRotation", "backups", "restoreFrom",
  "rollingBatch",
] as const;

/**
 * Validates raw stack config (`aws-swarm:`-prefixed keys, string values as Pulumi stores them)
 * and resolves defaults. Returns every problem at once; `config` is set only when there are none.
 */
export function parseStackConfig(
  all: Record<string, string>,
  isSecret: (key: string) => boolean = isConfigSecret,
): { config?: StackConfig; problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const prefix = `${SECRETS_NAMESPACE}:`;
  for (const k of Object.keys(all).filter((k) => k.startsWith(prefix)).sort()) {
    // Never repeat the value: it is meant to be a secret.
    if (!isSecret(k)) {
      problems.push(
        `${k} is stored in plain text in the stack file; make it a secret: ` +
          `pulumi config set --secret ${k} <value> (and rotate the value if the file was shared).`,
      );
    }
  }
  const raw: Raw = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${NAMESPACE}:`)) continue;
    const name = k.slice(NAMESPACE.length + 1);
    if ((CONFIG_KEYS as readonly string[]).includes(name)) raw[name] = v;
    else problems.push(`${k} is not a known setting (value ${shown(v)}); remove it or use one of: ${CONFIG_KEYS.join(", ")}.`);
  }
  // Decode what Pulumi stored as text; a value that cannot be decoded is reported once, here.
  const decodeProblems: string[] = [];
  const decoded = {
    managerCount: decodeNumber(raw.managerCount),
    workerCount: decodeNumber(raw.workerCount),
    azCount: decodeNumber(raw.azCount),
    managerInstanceType: raw.managerInstanceType,
    workerInstanceType: raw.workerInstanceType,
    sshAllowedCidrs: decodeJson(raw, "sshAllowedCidrs", decodeProblems),
    publishedCidrs: decodeJson(raw, "publishedCidrs", decodeProblems),
    vpcCidr: raw.vpcCidr,
    nodePlacement: raw.nodePlacement,
    sshPublicKey: raw.sshPublicKey,
    registry: decodeRegistry(raw, decodeProblems),
    tokenRotation: raw.tokenRotation,
    autolock: decodeBoolean(raw.autolock),
    unlockKeyRotation: raw.unlockKeyRotation,
    backups: raw.backups === "true" || raw.backups === "false" ? raw.backups === "true" : decodeJson(raw, "backups", decodeProblems),
    restoreFrom: raw.restoreFrom,
    logs: decodeJson(raw, "logs", decodeProblems),
    alarmEmail: raw.alarmEmail,
  };
  problems.push(...decodeProblems);
  const undecoded = new Set(decodeProblems.map((p) => p.split(/[ .[]/)[0]));
  // The cluster's own rules, with its own defaults, under the names the user wrote. Services,
  // published ports and stacks are parsed below by the functions the cluster uses for them,
  // because the program needs what they return.
  problems.push(
    ...instanceTypeProblems(raw.instanceType, key("instanceType")),
    ...swarmClusterProblems(decoded, STACK_CONFIG_NAMES).filter((p) => !undecoded.has(p.split(/[ .[]/)[0])),
  );
  const base = raw.instanceType ?? DEFAULT_INSTANCE_TYPE;
  const config: StackConfig = {
    managerCount: (decoded.managerCount ?? DEFAULT_MANAGER_COUNT) as number,
    workerCount: (decoded.workerCount ?? DEFAULT_WORKER_COUNT) as number,
    managerInstanceType: raw.managerInstanceType ?? base,
    workerInstanceType: raw.workerInstanceType ?? base,
    sshAllowedCidrs: (decoded.sshAllowedCidrs ?? []) as string[],
    vpcCidr: raw.vpcCidr ?? DEFAULT_VPC_CIDR,
    azCount: (decoded.azCount ?? DEFAULT_AZ_COUNT) as number,
    nodePlacement: (raw.nodePlacement ?? DEFAULT_NODE_PLACEMENT) as StackConfig["nodePlacement"],
    sshPublicKey: raw.sshPublicKey?.trim(),
    registry: resolveRegistry(decoded.registry),
    services: services(raw, all, problems),
    publishedCidrs: (decoded.publishedCidrs ?? []) as string[],
    publishedPorts: publishedPorts(raw, problems),
    stacks: stacks(raw, all, problems),
    tokenRotation: raw.tokenRotation,
    // Read only when every problem above is absent: then logs is a valid LogsSettings.
    logs: resolveLogs(problems.length ? undefined : (decoded.logs as Parameters<typeof resolveLogs>[0])),
    alarmEmail: raw.alarmEmail,
    workerGroups: workerGroups(raw, problems),
    autolock: decoded.autolock === true,
    unlockKeyRotation: raw.unlockKeyRotation,
    // Unset, backups follow the registry: there is no bucket for them without it.
    backups: { ...parseBackups(decoded.backups, key("backups")).backups, enabled: backupsRun(decoded.backups, resolveRegistry(decoded.registry).enabled) },
    restoreFrom: raw.restoreFrom,
  };
  config.rollingBatch = rollingBatch(raw, problems);
  const warnings = config.services.flatMap((svc, i) =>
    Object.keys(svc.env)
      .filter((name) => CREDENTIAL_NAME.test(name))
      .map(
        (name) =>
          `${key("services")}[${i}].env.${name} looks like a credential, and env values are ` +
          `stored in plain text in the stack file and in state; move it to a secret: ` +
          `pulumi config set --secret ${SECRETS_NAMESPACE}:<name> <value>, list it under ` +
          `${key("services")}[${i}].secrets, and read /run/secrets/<name> in the container.`,
      ),
  );
  return problems.length ? { problems, warnings } : { config, problems, warnings };
}

/** Variable names that usually carry a credential. */
const CREDENTIAL_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|(^|_)KEY($|_)|APIKEY|CREDENTIAL|PRIVATE/i;

/**
 * Whether Pulumi holds `key` as a secret. The language host passes the secret keys to the
 * program (PULUMI_CONFIG_SECRET_KEYS) and the SDK answers with runtime.isConfigSecret, which it
 * exports without typings; a test sets them with runtime.setAllConfig(config, secretKeys).
 */
export function isConfigSecret(key: string): boolean {
  const runtime = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret?: (k: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function") {
    throw new Error("@pulumi/pulumi no longer exports runtime.isConfigSecret; aws-swarm cannot tell secret config apart");
  }
  return runtime.isConfigSecret(key);
}

/**
 * The values of every secret the services use, read from `aws-swarm-secrets:<name>` as secret
 * Outputs, so they stay encrypted in state and masked in logs.
 */
export function loadServiceSecrets(list: readonly ServiceSpec[]): Record<string, pulumi.Output<string>> {
  const secrets = new pulumi.Config(SECRETS_NAMESPACE);
  return Object.fromEntries(secretNames(list).map((name) => [name, secrets.requireSecret(name)]));
}

/** The values of every secret the compose stacks take from `aws-swarm-secrets:<name>`. */
export function loadStackSecrets(list: readonly CheckedStack[]): Record<string, pulumi.Output<string>> {
  const secrets = new pulumi.Config(SECRETS_NAMESPACE);
  return Object.fromEntries(stackSecretNames(list).map((name) => [name, secrets.requireSecret(name)]));
}

/** Reads and validates this stack's config; throws one ConfigError listing every problem. */
export function loadStackConfig(): StackConfig {
  const { config, problems, warnings } = parseStackConfig(pulumi.runtime.allConfig());
  for (const w of warnings) void pulumi.log.warn(w);
  if (!config) throw new ConfigError(problems);
  return config;
}

/** `aws-swarm:rollingBatch`: a JSON object, checked by the components' own rule. */
function rollingBatch(raw: Raw, problems: string[]): RollingBatch | undefined {
  if (raw.rollingBatch === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw.rollingBatch);
  } catch {
    problems.push(`${key("rollingBatch")} is ${shown(raw.rollingBatch)}, which is not JSON; set it with pulumi config set --path 'rollingBatch.workers' 2 (or '{"workers":"25%"}').`);
    return undefined;
  }
  const found = rollingBatchProblems(value, key("rollingBatch"));
  problems.push(...found);
  return found.length === 0 ? (value as RollingBatch) : undefined;
}

import * as pulumi from "@pulumi/pulumi";
import { ConfigError, shown } from "./components/errors";
import { sourceCidrsProblems, subnetPlanProblems } from "./components/cidr";
import { imageReferenceProblems } from "./components/image-reference";
import {
  DEFAULT_MANAGER_COUNT, DEFAULT_WORKER_COUNT, managerCountProblems, workerCountProblems,
} from "./components/quorum";
import {
  parsePublishedPorts, parseServices, PublishedEndpoint, secretNames, SECRETS_NAMESPACE, ServiceSpec,
} from "./components/services-config";
import { CheckedStack, parseStacks, stackSecretNames } from "./components/compose-config";
import { tokenRotationProblems } from "./components/bootstrap";
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
  /** Nodes a rollout takes at a time. @default { managers: 1, workers: "25%" } */
  rollingBatch?: RollingBatch;
}

type Raw = Record<string, string>;
type Reader = (raw: Raw, problems: string[]) => unknown;

const key = (k: string) => `${NAMESPACE}:${k}`;

/** Keys that hold a list: set one entry at a time with `pulumi config set --path`. */
const LIST_KEYS: Record<string, string> = {
  sshAllowedCidrs: "203.0.113.0/24",
  publishedCidrs: "198.51.100.0/24",
  publishedPorts: "8443",
  services: "",
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
    const entry = k === "services" ? `'${key(k)}[0].name' web` : `'${key(k)}[0]' ${shown(text).slice(1, -1) || LIST_KEYS[k]}`;
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

function integer(k: string, fallback: number, check: (n: unknown, setting: string) => string[]): Reader {
  return (raw, problems) => {
    if (raw[k] === undefined) return fallback;
    const text = raw[k].trim();
    const n = /^-?\d+(\.\d+)?(e\d+)?$/i.test(text) ? Number(text) : text;
    const found = check(n, key(k));
    problems.push(...found);
    return found.length ? undefined : n;
  };
}

function instanceType(k: string, fallback: () => string | undefined): Reader {
  return (raw, problems) => {
    const v = raw[k] ?? fallback();
    if (v !== undefined && !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(v)) {
      problems.push(`${key(k)} is ${shown(v)}, which is not an EC2 instance type; use e.g. "t3.small".`);
    }
    return v;
  };
}

function cidrList(raw: Raw, problems: string[], k: string, required: boolean, opens: string): string[] {
  const text = raw[k];
  const setFix = `list the networks that may reach ${opens}, e.g. pulumi config set --path '${key(k)}[0]' 203.0.113.0/24`;
  const value = text === undefined ? undefined : parseJson(k, text, problems);
  if (text !== undefined && value === undefined) return [];
  const found = sourceCidrsProblems(value, key(k), { opens, required, setFix });
  problems.push(...found);
  return found.length || !Array.isArray(value) ? [] : (value as string[]);
}

function registry(raw: Raw, problems: string[]): RegistryConfig {
  const defaults: RegistryConfig = { enabled: true, image: "registry:2", forceDestroy: false };
  const text = raw.registry;
  if (text === undefined) return defaults;
  if (text === "true" || text === "false") return { ...defaults, enabled: text === "true" };
  const value = parseJson("registry", text, problems);
  if (value === undefined) return defaults;
  const fix = `use true, false or { enabled: bool, image: string, forceDestroy: bool }`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`${key("registry")} is ${shown(value)}; ${fix}.`);
    return defaults;
  }
  const v = value as Record<string, unknown>;
  const out = { ...defaults };
  for (const [field, val] of Object.entries(v)) {
    const where = `${key("registry")}.${field}`;
    if (field === "enabled" || field === "forceDestroy") {
      if (typeof val !== "boolean") problems.push(`${where} is ${shown(val)}; use true or false.`);
      else out[field] = val;
    } else if (field === "image") {
      const found = imageReferenceProblems(val, where, "registry:2");
      problems.push(...found);
      if (found.length === 0) out.image = val as string;
    } else {
      problems.push(`${where} is not a known setting; ${fix}.`);
    }
  }
  return out;
}

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

/** Every key the stack accepts; anything else under `aws-swarm:` is reported as unknown. */
export const CONFIG_KEYS = [
  "managerCount", "workerCount", "instanceType", "managerInstanceType", "workerInstanceType",
  "sshAllowedCidrs", "vpcCidr", "azCount", "nodePlacement", "sshPublicKey", "registry",
  "services", "publishedPorts", "publishedCidrs", "stacks", "tokenRotation",
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
  const managerCount = integer("managerCount", DEFAULT_MANAGER_COUNT, managerCountProblems)(raw, problems) as number;
  const workerCount = integer("workerCount", DEFAULT_WORKER_COUNT, workerCountProblems)(raw, problems) as number;
  const azCount = integer("azCount", 3, (n, s) =>
    typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 6 ? [] : [`${s} is ${shown(n)}; use a whole number of availability zones from 1 to 6.`],
  )(raw, problems) as number;
  const base = instanceType("instanceType", () => "t3.small")(raw, problems) as string;
  const managerInstanceType = instanceType("managerInstanceType", () => base)(raw, problems) as string;
  const workerInstanceType = instanceType("workerInstanceType", () => base)(raw, problems) as string;
  const sshAllowedCidrs = cidrList(raw, problems, "sshAllowedCidrs", true, "SSH");
  const publishedCidrs = cidrList(raw, problems, "publishedCidrs", false, "the published ports on the nodes");
  const vpcCidr = raw.vpcCidr ?? "10.0.0.0/16";
  problems.push(...subnetPlanProblems(vpcCidr, Number.isInteger(azCount) ? azCount : 1, key("vpcCidr")));
  const nodePlacement = raw.nodePlacement ?? "public";
  if (nodePlacement !== "public" && nodePlacement !== "private") {
    problems.push(`${key("nodePlacement")} is ${shown(nodePlacement)}; use "public" (nodes with public IPs, cheapest) or "private" (NAT gateway + bastion).`);
  }
  const sshPublicKey = raw.sshPublicKey;
  if (sshPublicKey !== undefined && !/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/.test(sshPublicKey.trim())) {
    problems.push(`${key("sshPublicKey")} is ${shown(sshPublicKey.slice(0, 40))}…, which is not an OpenSSH public key; paste the one line of your id_ed25519.pub, or unset it to have a key generated.`);
  }
  const config: StackConfig = {
    managerCount, workerCount, managerInstanceType, workerInstanceType, sshAllowedCidrs, vpcCidr,
    azCount, nodePlacement: nodePlacement as StackConfig["nodePlacement"], sshPublicKey: sshPublicKey?.trim(),
    registry: registry(raw, problems),
    services: services(raw, all, problems),
    publishedCidrs,
    publishedPorts: publishedPorts(raw, problems),
    stacks: stacks(raw, all, problems),
    tokenRotation: raw.tokenRotation,
  };
  problems.push(...tokenRotationProblems(raw.tokenRotation, key("tokenRotation")));
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

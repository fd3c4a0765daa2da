import * as pulumi from "@pulumi/pulumi";
import { ConfigError, shown } from "./components/errors";
import { isValidIpv4Cidr, ipv4CidrProblem, isValidIpv6Cidr, isWorldCidr, subnetPlanProblems } from "./components/cidr";
import { managerCountProblems, workerCountProblems } from "./components/quorum";
import {
  parsePublishedPorts, parseServices, PublishedEndpoint, secretNames, SECRETS_NAMESPACE, ServiceSpec,
} from "./components/services-config";
import { CheckedStack, parseStacks, stackSecretNames } from "./components/compose-config";

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
}

type Raw = Record<string, string>;
type Reader = (raw: Raw, problems: string[]) => unknown;

const key = (k: string) => `${NAMESPACE}:${k}`;

function parseJson(k: string, text: string, problems: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch {
    problems.push(`${key(k)} is ${shown(text)}, which is not valid YAML/JSON of the expected shape; see README "Configuration".`);
    return undefined;
  }
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

function cidrList(raw: Raw, problems: string[], k: string, required: boolean): string[] {
  const text = raw[k];
  const fix = `list the admin networks that may reach SSH, e.g. pulumi config set --path '${key(k)}[0]' 203.0.113.0/24`;
  if (text === undefined) {
    if (required) problems.push(`${key(k)} is not set; ${fix}.`);
    return [];
  }
  const value = parseJson(k, text, problems);
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((c) => typeof c !== "string")) {
    problems.push(`${key(k)} is ${shown(value)}; it must be a list of CIDR strings: ${fix}.`);
    return [];
  }
  if (required && value.length === 0) problems.push(`${key(k)} is []; ${fix}.`);
  for (const c of value as string[]) {
    if (isWorldCidr(c)) {
      problems.push(`${key(k)} contains ${shown(c)}, which opens the port to the whole internet; use your office or VPN range instead.`);
    } else if (c.includes(":") ? !isValidIpv6Cidr(c) : !isValidIpv4Cidr(c)) {
      const why = c.includes(":") ? `${shown(c)} is not an IPv6 CIDR block like "2001:db8::/48"` : ipv4CidrProblem(c);
      problems.push(`${key(k)} contains ${why}; fix that entry.`);
    }
  }
  return value as string[];
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
      if (typeof val !== "string" || !/^[\w.\-/:@]+$/.test(val)) problems.push(`${where} is ${shown(val)}; use an image reference such as "registry:2".`);
      else out.image = val;
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
  "services", "publishedPorts", "publishedCidrs", "stacks",
] as const;

/**
 * Validates raw stack config (`aws-swarm:`-prefixed keys, string values as Pulumi stores them)
 * and resolves defaults. Returns every problem at once; `config` is set only when there are none.
 */
export function parseStackConfig(all: Record<string, string>): { config?: StackConfig; problems: string[] } {
  const problems: string[] = [];
  const raw: Raw = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${NAMESPACE}:`)) continue;
    const name = k.slice(NAMESPACE.length + 1);
    if ((CONFIG_KEYS as readonly string[]).includes(name)) raw[name] = v;
    else problems.push(`${k} is not a known setting (value ${shown(v)}); remove it or use one of: ${CONFIG_KEYS.join(", ")}.`);
  }
  const managerCount = integer("managerCount", 3, managerCountProblems)(raw, problems) as number;
  const workerCount = integer("workerCount", 2, workerCountProblems)(raw, problems) as number;
  const azCount = integer("azCount", 3, (n, s) =>
    typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 6 ? [] : [`${s} is ${shown(n)}; use a whole number of availability zones from 1 to 6.`],
  )(raw, problems) as number;
  const base = instanceType("instanceType", () => "t3.small")(raw, problems) as string;
  const managerInstanceType = instanceType("managerInstanceType", () => base)(raw, problems) as string;
  const workerInstanceType = instanceType("workerInstanceType", () => base)(raw, problems) as string;
  const sshAllowedCidrs = cidrList(raw, problems, "sshAllowedCidrs", true);
  const publishedCidrs = cidrList(raw, problems, "publishedCidrs", false);
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
  };
  return problems.length ? { problems } : { config, problems };
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
  const { config, problems } = parseStackConfig(pulumi.runtime.allConfig());
  if (!config) throw new ConfigError(problems);
  return config;
}

/**
 * Swarm service definitions (stack config `aws-swarm:services`) as data: their shape, their
 * defaults and every check, with no resources. config.ts and the Services component share it.
 */
import { shown } from "./errors";
import { imageReferenceProblems } from "./image-reference";
import {
  DOCKER_API_PORTS,
  GOSSIP_PORT,
  REGISTRY_PORT,
  SSH_PORT,
  SWARM_MANAGEMENT_PORT,
  VXLAN_PORT,
} from "./ports";

/** Pulumi config namespace holding service secret values: `aws-swarm-secrets:<name>`. */
export const SECRETS_NAMESPACE = "aws-swarm-secrets";

/** Overlay network a service joins when it lists none. */
export const DEFAULT_OVERLAY_NETWORK = "swarm-overlay";

/** Placement preference of a replicated service that sets none: one task per AZ in turn. */
export const DEFAULT_PLACEMENT_PREFERENCES: readonly string[] = ["spread=node.labels.az"];

/** Tasks per replicated service: 0 scales a service to nothing, 1000 is a sanity bound. */
export const MAX_REPLICAS = 1000;

/**
 * Host ports a service may never publish: SSH, the Docker API, Swarm's own ports and the
 * registry every node runs. The routing mesh would listen on them on every node.
 */
export const RESERVED_PORTS: readonly number[] = [
  SSH_PORT,
  ...DOCKER_API_PORTS,
  SWARM_MANAGEMENT_PORT,
  GOSSIP_PORT,
  VXLAN_PORT,
  REGISTRY_PORT,
];

/** Transport protocol of a published port. */
export type PortProtocol = "tcp" | "udp";
/** Whether Swarm starts a new task before stopping the old one, or the reverse. */
export type UpdateOrder = "start-first" | "stop-first";
/** What Swarm does when an updated task fails. */
export type FailureAction = "rollback" | "pause" | "continue";

/** One port a service publishes on every node through the routing mesh. */
export interface PublishedPort {
  /** Port on every node and on the load balancer, 1..65535. */
  published: number;
  /** Port inside the container, 1..65535. */
  target: number;
  /** @default "tcp" */
  protocol: PortProtocol;
}

/** How Swarm rolls out a new version of a service. */
export interface UpdatePolicy {
  /** Tasks updated at once; 0 updates all at once. @default 1 */
  parallelism: number;
  /** Start the new task before stopping the old one, or the reverse. @default "start-first" */
  order: UpdateOrder;
  /** What Swarm does when an updated task fails. @default "rollback" */
  failureAction: FailureAction;
  /** Pause between batches, a Go duration such as "10s". @default none */
  delay?: string;
}

/** A validated service with every default resolved. */
export interface ServiceSpec {
  /** Swarm service name, also its DNS name on its networks. */
  name: string;
  /** Image reference; `127.0.0.1:5000/<image>` pulls from the registry on each node. */
  image: string;
  /** Tasks of a replicated service; absent when `global`. */
  replicas?: number;
  /** One task on every node instead of `replicas` tasks. */
  global: boolean;
  /** Ports published on every node and the load balancer. */
  ports: PublishedPort[];
  /** Plain environment variables; they are stored in state, so never put secrets here. */
  env: Record<string, string>;
  /** Secret names; each is mounted at /run/secrets/<name> from `aws-swarm-secrets:<name>`. */
  secrets: string[];
  /** Placement constraints such as "node.role==worker". */
  constraints: string[];
  /** Placement preferences such as "spread=node.labels.az". */
  placementPreferences: string[];
  /** How new versions roll out. */
  update: UpdatePolicy;
  /** Overlay networks the service joins, by name. */
  networks: string[];
  /** The service's own log driver; absent: the cluster's default (SwarmCluster `logs`). */
  logging?: ServiceLogging;
  /** Whether the bootstrap may rebalance it (service label `aws-swarm.rebalance`). */
  rebalance: boolean;
}

/** A log driver a service sets for itself, instead of the cluster's default. */
export interface ServiceLogging {
  /** Docker log driver, e.g. "json-file", "local", "awslogs", "syslog". */
  driver: string;
  /** Driver options, e.g. { "max-size": "10m" }. @default {} */
  options?: Record<string, string>;
}

/**
 * A service as a component user writes it: `name` and `image` are required, everything else
 * has the default shown; Services and SwarmCluster resolve it to a {@link ServiceSpec}.
 */
export interface ServiceDefinition {
  /** Swarm service name (its DNS name): letters and digits, "-" or "_" between them, ≤ 63. */
  name: string;
  /** Image reference such as "nginx:1.27" or "127.0.0.1:5000/app:1.0". */
  image: string;
  /** Tasks of a replicated service, 0..1000. @default 1 */
  replicas?: number;
  /** One task on every node instead of `replicas`. @default false */
  global?: boolean;
  /** Ports published on every node and the load balancer. @default [] */
  ports?: ServicePortDefinition[];
  /** Plain environment variables, stored in state: never credentials. @default {} */
  env?: Record<string, string>;
  /** Secret names, mounted at /run/secrets/<name>. @default [] */
  secrets?: string[];
  /** Placement constraints such as "node.role==worker". @default [] */
  constraints?: string[];
  /** Placement preferences. @default ["spread=node.labels.az"] (none when global) */
  placementPreferences?: string[];
  /** Rollout policy. @default { parallelism: 1, order: "start-first", failureAction: "rollback" } */
  update?: UpdatePolicyDefinition;
  /** Overlay networks the service joins. @default ["swarm-overlay"] */
  networks?: string[];
  /** The service's own log driver. @default the cluster's (`logs.driver`, normally awslogs to its log group) */
  logging?: ServiceLogging;
  /**
   * Let the bootstrap restart this service's tasks (`docker service update --force`, within
   * its update policy) when they are spread unevenly after nodes came back or were added;
   * false for services that must never restart on their own. @default true
   */
  rebalance?: boolean;
}

/**
 * One port of a {@link ServiceDefinition}, as a user writes it. `protocol` is a plain string
 * (checked when the services are parsed) so that Pulumi's schema inference, which has no string
 * unions, can describe it to other languages.
 */
export interface ServicePortDefinition {
  /** Port on every node and on the load balancer, 1..65535. */
  published: number;
  /** Port inside the container, 1..65535. */
  target: number;
  /** `"tcp"` or `"udp"`. @default "tcp" */
  protocol?: string;
}

/** A rollout policy as a user writes it: every field optional, values checked when parsed. */
export interface UpdatePolicyDefinition {
  /** Tasks updated at once; 0 updates all at once. @default 1 */
  parallelism?: number;
  /** `"start-first"` or `"stop-first"`. @default "start-first" */
  order?: string;
  /** `"rollback"`, `"pause"` or `"continue"`: what Swarm does when an updated task fails. @default "rollback" */
  failureAction?: string;
  /** Pause between batches, a Go duration such as "10s". @default none */
  delay?: string;
}

/**
 * An extra port for the load balancer, as a user writes it (SwarmCluster `publishedPorts`).
 * `protocol` is a plain string, checked when parsed, for the same reason as in
 * {@link ServicePortDefinition}.
 */
export interface PublishedPortDefinition {
  /** Port on the load balancer and the nodes, 1..65535; never a Swarm or SSH port. */
  port: number;
  /** `"tcp"` or `"udp"`. @default "tcp" */
  protocol?: string;
}

/** A port and protocol published by some service: what the load balancer listens on. */
export interface PublishedEndpoint {
  /** Port on the load balancer and the nodes, 1..65535. */
  port: number;
  /** Transport protocol. */
  protocol: PortProtocol;
}

export interface ServicesParseOptions {
  /** The setting named in messages. @default "aws-swarm:services" */
  key?: string;
  /**
   * Secret names that have a value. When given, a service that lists any other secret is
   * reported. @default not checked
   */
  availableSecrets?: readonly string[];
  /**
   * The fix for a secret without a value.
   * @default set it with `pulumi config set --secret aws-swarm-secrets:<name> <value>`
   */
  missingSecretFix?: (name: string) => string;
}

const SERVICE_FIELDS = [
  "name", "image", "replicas", "global", "ports", "env", "secrets", "constraints",
  "placementPreferences", "update", "networks", "logging", "rebalance",
] as const;
const PORT_FIELDS = ["published", "target", "protocol"] as const;
const UPDATE_FIELDS = ["parallelism", "order", "failureAction", "delay"] as const;

/** Swarm's rule for service and network names (swarmkit controlapi isValidDNSName), ≤ 63. */
const SWARM_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
/** Swarm's rule for secret names (swarmkit isValidConfigOrSecretName), ≤ 64. */
const SECRET_NAME = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;
const MAX_SECRET_NAME = 32;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONSTRAINT = /^[A-Za-z0-9_.\-]+\s*(==|!=)\s*\S+$/;
const PREFERENCE = /^spread=[A-Za-z0-9_.\-]+$/;
const DURATION = /^\d+(ns|us|ms|s|m|h)$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
/** A whole number from `min` to `max`. */
const isCount = (v: unknown, max: number, min = 0): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const isPort = (v: unknown): v is number => isCount(v, 65535, 1);

/** Reports fields of `value` that are not in `known`, naming each and the fields allowed. */
function unknownFields(
  value: Record<string, unknown>,
  known: readonly string[],
  where: string,
  problems: string[],
): void {
  for (const field of Object.keys(value).filter((f) => !known.includes(f))) {
    problems.push(
      `${where}.${field} is not a known setting (value ${shown(value[field])}); remove it or ` +
        `use one of: ${known.join(", ")}.`,
    );
  }
}

/**
 * A list of strings, each checked by `entry` (which returns a problem or undefined). Returns
 * the list, or undefined after reporting the list itself or any bad entry.
 */
function stringList(
  value: unknown,
  where: string,
  example: string,
  problems: string[],
  entry: (s: string, at: string) => string | undefined,
): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${where} is ${shown(value)}; it must be a list of strings, e.g. ${example}.`);
    return undefined;
  }
  let ok = true;
  value.forEach((s, j) => {
    const at = `${where}[${j}]`;
    const problem = typeof s === "string" ? entry(s, at) : `${at} is ${shown(s)}; it must be a string.`;
    if (problem) {
      problems.push(problem);
      ok = false;
    }
  });
  return ok ? (value as string[]) : undefined;
}

function parsePorts(value: unknown, where: string, problems: string[]): PublishedPort[] {
  if (!Array.isArray(value)) {
    problems.push(`${where} is ${shown(value)}; it must be a list such as [{ published: 80, target: 80 }].`);
    return [];
  }
  const ports: PublishedPort[] = [];
  value.forEach((p, j) => {
    const at = `${where}[${j}]`;
    if (!isRecord(p)) {
      problems.push(`${at} is ${shown(p)}; write it as { published: 80, target: 80, protocol: "tcp" }.`);
      return;
    }
    unknownFields(p, PORT_FIELDS, at, problems);
    let ok = true;
    for (const field of ["published", "target"] as const) {
      if (isPort(p[field])) continue;
      const what =
        field === "published"
          ? "the port opened on every node and on the load balancer"
          : "the port the container listens on";
      problems.push(`${at}.${field} is ${shown(p[field])}; set it to ${what}, a whole number from 1 to 65535.`);
      ok = false;
    }
    const protocol = p.protocol ?? "tcp";
    if (protocol !== "tcp" && protocol !== "udp") {
      problems.push(`${at}.protocol is ${shown(p.protocol)}; use "tcp" or "udp".`);
      ok = false;
    }
    const published = p.published as number;
    if (isPort(published) && RESERVED_PORTS.includes(published)) {
      problems.push(
        `${at}.published is ${published}, which is reserved for SSH, the Docker API, Swarm or the ` +
          `registry (${RESERVED_PORTS.join(", ")}); publish the service on another port.`,
      );
      ok = false;
    }
    if (ok) ports.push({ published, target: p.target as number, protocol: protocol as PortProtocol });
  });
  return ports;
}

function parseEnv(value: unknown, where: string, problems: string[]): Record<string, string> {
  if (!isRecord(value)) {
    problems.push(`${where} is ${shown(value)}; write it as a map of names to strings, e.g. { LOG_LEVEL: "info" }.`);
    return {};
  }
  for (const [k, v] of Object.entries(value)) {
    if (!ENV_NAME.test(k)) {
      problems.push(
        `${where} names the variable ${shown(k)}; use letters, digits and "_", not starting with ` +
          `a digit.`,
      );
    }
    if (typeof v !== "string") {
      problems.push(`${where}.${k} is ${shown(v)}; quote it so it is a string, e.g. "${String(v)}".`);
    }
  }
  return { ...value } as Record<string, string>;
}

function parseUpdate(value: unknown, where: string, problems: string[]): UpdatePolicy {
  const update: UpdatePolicy = { parallelism: 1, order: "start-first", failureAction: "rollback" };
  if (value === undefined) return update;
  if (!isRecord(value)) {
    problems.push(
      `${where} is ${shown(value)}; write it as { parallelism: 1, order: "start-first", ` +
        `failureAction: "rollback", delay: "10s" }.`,
    );
    return update;
  }
  unknownFields(value, UPDATE_FIELDS, where, problems);
  const { parallelism, order, failureAction, delay } = value;
  if (parallelism !== undefined) {
    if (isCount(parallelism, MAX_REPLICAS)) update.parallelism = parallelism;
    else {
      problems.push(
        `${where}.parallelism is ${shown(parallelism)}; use the number of tasks to update at once, ` +
          `from 0 (all at once) to ${MAX_REPLICAS}.`,
      );
    }
  }
  if (order !== undefined) {
    if (order === "start-first" || order === "stop-first") update.order = order;
    else problems.push(`${where}.order is ${shown(order)}; use "start-first" (no gap in service) or "stop-first".`);
  }
  if (failureAction !== undefined) {
    if (failureAction === "rollback" || failureAction === "pause" || failureAction === "continue") {
      update.failureAction = failureAction;
    } else {
      problems.push(`${where}.failureAction is ${shown(failureAction)}; use "rollback", "pause" or "continue".`);
    }
  }
  if (delay !== undefined) {
    if (typeof delay === "string" && DURATION.test(delay)) update.delay = delay;
    else problems.push(`${where}.delay is ${shown(delay)}; use a duration such as "10s", "500ms" or "1m".`);
  }
  return update;
}

const setSecretConfig = (name: string) =>
  `run pulumi config set --secret ${SECRETS_NAMESPACE}:${name} <value>`;

function parseSecrets(
  value: unknown,
  where: string,
  options: ServicesParseOptions,
  problems: string[],
): string[] | undefined {
  const available = options.availableSecrets;
  const fix = options.missingSecretFix ?? setSecretConfig;
  const seen = new Set<string>();
  return stringList(value, where, '["db-password"]', problems, (s, at) => {
    if (!SECRET_NAME.test(s) || s.length > MAX_SECRET_NAME) {
      return (
        `${at} is ${shown(s)}; name a secret with at most ${MAX_SECRET_NAME} letters, digits, ` +
        `"-", "_" or ".", starting and ending with a letter or digit.`
      );
    }
    if (seen.has(s)) return `${at} is ${shown(s)}, which is listed twice; list each secret once.`;
    seen.add(s);
    if (available !== undefined && !available.includes(s)) {
      return `${at} is ${shown(s)}, but that secret has no value; ${fix(s)}.`;
    }
    return undefined;
  });
}

const LOG_DRIVER = /^[a-z0-9][a-z0-9_.\-]*$/;

function parseLogging(value: unknown, where: string, problems: string[]): ServiceLogging | undefined {
  if (!isRecord(value) || typeof value.driver !== "string" || !LOG_DRIVER.test(value.driver)) {
    problems.push(
      `${where} is ${shown(value)}; write it as { driver: "json-file", options: { "max-size": "10m" } } ` +
        `(a Docker log driver name), or leave it out to use the cluster's log group.`,
    );
    return undefined;
  }
  unknownFields(value, ["driver", "options"], where, problems);
  const options = value.options ?? {};
  if (!isRecord(options) || Object.values(options).some((o) => typeof o !== "string")) {
    problems.push(`${where}.options is ${shown(value.options)}; write it as a map of option names to strings, e.g. { "max-size": "10m" }.`);
    return undefined;
  }
  return { driver: value.driver, options: { ...(options as Record<string, string>) } };
}

function parsePlacement(
  value: unknown,
  isGlobal: boolean,
  where: string,
  problems: string[],
): string[] | undefined {
  if (value === undefined) return isGlobal ? [] : [...DEFAULT_PLACEMENT_PREFERENCES];
  if (isGlobal && Array.isArray(value) && value.length === 0) return [];
  if (isGlobal) {
    problems.push(
      `${where} is ${shown(value)}, but a global service runs one task on every node; remove ` +
        `placementPreferences, or use constraints to choose the nodes.`,
    );
    return undefined;
  }
  return stringList(value, where, '["spread=node.labels.az"]', problems, (s, at) =>
    PREFERENCE.test(s)
      ? undefined
      : `${at} is ${shown(s)}; write a preference as spread=<node attribute>, e.g. "spread=node.labels.az".`,
  );
}

function parseService(
  value: unknown,
  where: string,
  options: ServicesParseOptions,
  problems: string[],
): ServiceSpec | undefined {
  if (!isRecord(value)) {
    problems.push(`${where} is ${shown(value)}; write each service as { name: "web", image: "nginx:1.27" }.`);
    return undefined;
  }
  const before = problems.length;
  unknownFields(value, SERVICE_FIELDS, where, problems);
  const { name, image, replicas, global } = value;
  if (typeof name !== "string" || !SWARM_NAME.test(name) || name.length > 63) {
    problems.push(
      `${where}.name is ${shown(name)}; use at most 63 letters and digits, with "-" or "_" only ` +
        `between them, e.g. "web-api".`,
    );
  }
  problems.push(...imageReferenceProblems(image, `${where}.image`));
  if (global !== undefined && typeof global !== "boolean") {
    problems.push(`${where}.global is ${shown(global)}; use true (one task on every node) or leave it out.`);
  }
  const isGlobal = global === true;
  if (isGlobal && replicas !== undefined) {
    problems.push(
      `${where}.replicas is ${shown(replicas)}, but global is true and a global service runs one ` +
        `task per node; remove replicas or global.`,
    );
  } else if (replicas !== undefined && !isCount(replicas, MAX_REPLICAS)) {
    problems.push(`${where}.replicas is ${shown(replicas)}; use a whole number of tasks from 0 to ${MAX_REPLICAS}.`);
  }
  const ports = value.ports === undefined ? [] : parsePorts(value.ports, `${where}.ports`, problems);
  const env = value.env === undefined ? {} : parseEnv(value.env, `${where}.env`, problems);
  const secrets =
    value.secrets === undefined ? [] : parseSecrets(value.secrets, `${where}.secrets`, options, problems);
  const constraints =
    value.constraints === undefined
      ? []
      : stringList(value.constraints, `${where}.constraints`, '["node.role==worker"]', problems, (s, at) =>
          CONSTRAINT.test(s.trim())
            ? undefined
            : `${at} is ${shown(s)}; write a constraint as <attribute>==<value> or ` +
              `<attribute>!=<value>, e.g. "node.role==worker".`,
        );
  const placementPreferences = parsePlacement(
    value.placementPreferences,
    isGlobal,
    `${where}.placementPreferences`,
    problems,
  );
  const update = parseUpdate(value.update, `${where}.update`, problems);
  const networks =
    value.networks === undefined
      ? [DEFAULT_OVERLAY_NETWORK]
      : stringList(value.networks, `${where}.networks`, `["${DEFAULT_OVERLAY_NETWORK}"]`, problems, (s, at) =>
          SWARM_NAME.test(s) && s.length <= 63
            ? undefined
            : `${at} is ${shown(s)}; name an overlay network with at most 63 letters and digits, ` +
              `"-" or "_" only between them, e.g. "${DEFAULT_OVERLAY_NETWORK}".`,
        );
  const logging = value.logging === undefined ? undefined : parseLogging(value.logging, `${where}.logging`, problems);
  if (value.rebalance !== undefined && typeof value.rebalance !== "boolean") {
    problems.push(`${where}.rebalance is ${shown(value.rebalance)}; use false to keep the bootstrap from restarting its tasks to spread them, or leave it out.`);
  }
  if (problems.length > before) return undefined;
  return {
    name: name as string,
    image: image as string,
    ...(isGlobal ? {} : { replicas: (replicas as number | undefined) ?? 1 }),
    global: isGlobal,
    ports,
    env,
    secrets: secrets ?? [],
    constraints: (constraints ?? []).map((c) => c.trim()),
    placementPreferences: placementPreferences ?? [],
    update,
    networks: [...new Set(networks ?? [])],
    ...(logging ? { logging } : {}),
    rebalance: value.rebalance !== false,
  };
}

/** Checks that span services: unique names, each port and protocol published once. */
function crossServiceProblems(list: unknown[], key: string): string[] {
  const problems: string[] = [];
  const firstByName = new Map<string, number>();
  const firstByPort = new Map<string, string>();
  list.forEach((s, i) => {
    if (!isRecord(s)) return;
    if (typeof s.name === "string") {
      const first = firstByName.get(s.name);
      if (first === undefined) firstByName.set(s.name, i);
      else {
        problems.push(
          `${key}[${i}].name is ${shown(s.name)}, already the name of ${key}[${first}]; give ` +
            `every service its own name.`,
        );
      }
    }
    if (!Array.isArray(s.ports)) return;
    s.ports.forEach((p, j) => {
      if (!isRecord(p) || !isPort(p.published)) return;
      const id = `${p.published}/${p.protocol ?? "tcp"}`;
      const at = `${key}[${i}].ports[${j}].published`;
      const first = firstByPort.get(id);
      if (first === undefined) firstByPort.set(id, at);
      else {
        problems.push(
          `${at} is ${p.published}, but ${id} is already published by ${first}; a swarm ` +
            `publishes each port and protocol once: pick another port.`,
        );
      }
    });
  });
  return problems;
}

/**
 * Validates service definitions and resolves their defaults. Returns every problem at once,
 * each naming `<key>[i].<field>`, the value and the fix; `services` holds the valid entries.
 */
export function parseServices(
  value: unknown,
  options: ServicesParseOptions = {},
): { services: ServiceSpec[]; problems: string[] } {
  const key = options.key ?? "aws-swarm:services";
  if (value === undefined) return { services: [], problems: [] };
  if (!Array.isArray(value)) {
    const fix = `it must be a list of services, e.g. [{ name: "web", image: "nginx:1.27" }]`;
    return { services: [], problems: [`${key} is ${shown(value)}; ${fix}.`] };
  }
  const problems: string[] = [];
  const services: ServiceSpec[] = [];
  value.forEach((entry, i) => {
    const spec = parseService(entry, `${key}[${i}]`, options, problems);
    if (spec) services.push(spec);
  });
  problems.push(...crossServiceProblems(value, key));
  return { services, problems };
}

/** Every problem with `value` as a list of services; see {@link parseServices}. */
export function servicesProblems(value: unknown, options: ServicesParseOptions = {}): string[] {
  return parseServices(value, options).problems;
}

/**
 * `publishedPorts`: ports the load balancer forwards although no service of this stack
 * publishes them, for stacks deployed with `docker stack deploy`. Entries are a port number
 * (tcp) or `{ port, protocol }`.
 */
export function parsePublishedPorts(value: unknown, key = "publishedPorts"): { endpoints: PublishedEndpoint[]; problems: string[] } {
  const problems: string[] = [];
  const endpoints: PublishedEndpoint[] = [];
  if (!Array.isArray(value)) {
    return { endpoints, problems: [`${key} is ${shown(value)}; it must be a list such as [8080, { port: 53, protocol: "udp" }].`] };
  }
  value.forEach((entry, i) => {
    const at = `${key}[${i}]`;
    const e: Record<string, unknown> = typeof entry === "number" ? { port: entry } : isRecord(entry) ? entry : {};
    if (typeof entry !== "number" && !isRecord(entry)) {
      problems.push(`${at} is ${shown(entry)}; write a port number or { port: 53, protocol: "udp" }.`);
      return;
    }
    unknownFields(e, ["port", "protocol"], at, problems);
    const protocol = e.protocol ?? "tcp";
    if (!isPort(e.port)) {
      problems.push(`${at}.port is ${shown(e.port)}; use a whole number from 1 to 65535.`);
    } else if (RESERVED_PORTS.includes(e.port)) {
      problems.push(`${at}.port is ${e.port}, which is reserved for SSH, the Docker API, Swarm or the registry (${RESERVED_PORTS.join(", ")}); use another port.`);
    } else if (protocol !== "tcp" && protocol !== "udp") {
      problems.push(`${at}.protocol is ${shown(protocol)}; use "tcp" or "udp".`);
    } else if (endpoints.some((x) => x.port === e.port && x.protocol === protocol)) {
      problems.push(`${at} repeats ${e.port}/${protocol}; list each port once.`);
    } else {
      endpoints.push({ port: e.port, protocol });
    }
  });
  return { endpoints, problems };
}

/**
 * Each port and protocol the load balancer listens on: those services publish plus `extra`,
 * sorted by port then protocol, each once.
 */
export function publishedEndpoints(services: readonly ServiceSpec[], extra: readonly PublishedEndpoint[] = []): PublishedEndpoint[] {
  const seen = new Map<string, PublishedEndpoint>();
  for (const p of services.flatMap((s) => s.ports)) {
    seen.set(`${p.published}/${p.protocol}`, { port: p.published, protocol: p.protocol });
  }
  for (const p of extra) seen.set(`${p.port}/${p.protocol}`, p);
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/** Every secret name some service uses, sorted, each once. */
export function secretNames(services: readonly ServiceSpec[]): string[] {
  return [...new Set(services.flatMap((s) => s.secrets))].sort();
}

/** Every overlay network some service joins, sorted, each once. */
export function networkNames(services: readonly ServiceSpec[]): string[] {
  return [...new Set(services.flatMap((s) => s.networks))].sort();
}

/**
 * What `docker stack deploy` does with each compose key, as data (published in docs/compose.md),
 * and the checks that apply it to a parsed file: keys Swarm ignores or refuses, reserved
 * ports, and privileged settings. Pure: no resources.
 */
import { shown } from "./errors";
import { ComposeDocument, dotted } from "./compose-file";
import { DOCKER_SOCKET_PATHS } from "./ports";
import { PortProtocol, PublishedEndpoint, RESERVED_PORTS } from "./services-config";
import { imageReferenceProblems } from "./image-reference";

export type KeyVerdict = "error" | "warning";

/** One service key that `docker stack deploy` does not honour, and what to do instead. */
export interface KeyRule {
  verdict: KeyVerdict;
  /** What Swarm does with it. */
  effect: string;
  /** The fix named in the message. */
  fix: string;
}

/**
 * Service keys `docker stack deploy` ignores or refuses (docker/cli cli/compose/types:
 * UnsupportedProperties, DeprecatedProperties, ForbiddenProperties; and keys of the Compose
 * specification that its v3 loader does not know). An error stops the preview; a warning is
 * printed and the key is dropped from the deployed file.
 */
export const SERVICE_KEY_RULES: Readonly<Record<string, KeyRule>> = {
  build: { verdict: "error", effect: "ignored: Swarm never builds images", fix: "build and push the image first (e.g. to the registry at 127.0.0.1:5000) and set image" },
  container_name: { verdict: "warning", effect: "ignored: Swarm names tasks itself", fix: "remove container_name; reach the service by its name" },
  restart: { verdict: "error", effect: "ignored: Swarm restarts tasks by deploy.restart_policy", fix: "use deploy.restart_policy (condition: on-failure | any | none)" },
  depends_on: { verdict: "warning", effect: "ignored: Swarm starts services in no order", fix: "make the service retry its dependencies, and give them a healthcheck" },
  links: { verdict: "error", effect: "ignored", fix: "put both services on one overlay network and use the service name" },
  external_links: { verdict: "error", effect: "ignored", fix: "put both services on one overlay network and use the service name" },
  network_mode: { verdict: "error", effect: "ignored", fix: "use networks (overlay), or the host network as networks: [host] with external: true" },
  expose: { verdict: "warning", effect: "ignored: every port is reachable on the service's networks", fix: "remove expose" },
  env_file: { verdict: "error", effect: "read on the manager, where the file is not", fix: "list the variables under environment (use ${VAR} with the stack's env)" },
  extends: { verdict: "error", effect: "refused by docker stack deploy", fix: "copy the shared keys, or use a YAML anchor and <<: *anchor" },
  volumes_from: { verdict: "error", effect: "refused", fix: "define a top-level volume and mount it in each service" },
  volume_driver: { verdict: "error", effect: "refused", fix: "define a top-level volume with driver and mount it" },
  cpu_shares: { verdict: "error", effect: "refused", fix: "use deploy.resources.limits.cpus" },
  cpu_quota: { verdict: "error", effect: "refused", fix: "use deploy.resources.limits.cpus" },
  cpus: { verdict: "error", effect: "not known to the v3 loader", fix: "use deploy.resources.limits.cpus" },
  cpuset: { verdict: "error", effect: "refused", fix: "use deploy.resources.limits.cpus" },
  mem_limit: { verdict: "error", effect: "refused", fix: "use deploy.resources.limits.memory" },
  memswap_limit: { verdict: "error", effect: "refused", fix: "use deploy.resources.limits.memory" },
  mem_reservation: { verdict: "error", effect: "not known to the v3 loader", fix: "use deploy.resources.reservations.memory" },
  scale: { verdict: "error", effect: "not known to the v3 loader", fix: "use deploy.replicas" },
  devices: { verdict: "error", effect: "ignored: services cannot map devices", fix: "remove devices" },
  ipc: { verdict: "error", effect: "ignored", fix: "remove ipc" },
  pid: { verdict: "error", effect: "ignored", fix: "remove pid" },
  shm_size: { verdict: "warning", effect: "ignored", fix: "mount a tmpfs at /dev/shm instead" },
  security_opt: { verdict: "error", effect: "ignored", fix: "remove security_opt" },
  userns_mode: { verdict: "error", effect: "ignored", fix: "remove userns_mode" },
  cgroup_parent: { verdict: "error", effect: "ignored", fix: "remove cgroup_parent" },
  cgroupns_mode: { verdict: "error", effect: "ignored", fix: "remove cgroupns_mode" },
  domainname: { verdict: "warning", effect: "ignored", fix: "remove domainname" },
  mac_address: { verdict: "error", effect: "ignored", fix: "remove mac_address" },
  profiles: { verdict: "error", effect: "not known to the v3 loader: every service would be deployed", fix: "list only the services to deploy, or keep one file per profile" },
  pull_policy: { verdict: "warning", effect: "not known to the v3 loader", fix: "remove pull_policy; Swarm resolves the image on every deploy" },
  platform: { verdict: "warning", effect: "not known to the v3 loader", fix: "use deploy.placement.constraints: [node.platform.arch==x86_64]" },
  develop: { verdict: "warning", effect: "ignored (compose watch only)", fix: "remove develop" },
};

/** Top-level keys `docker stack deploy` understands; `name` is replaced by the stack name. */
export const TOP_LEVEL_KEYS = ["version", "name", "services", "networks", "volumes", "secrets", "configs"] as const;


/** What the checks found in a file that has no errors. */
export interface ComposeFacts {
  /** Ports published on every node, which the load balancer forwards. */
  endpoints: PublishedEndpoint[];
  /** Top-level secrets whose values come from `aws-swarm-secrets:<name>`. */
  secrets: string[];
  /** Top-level configs whose content comes from `aws-swarm-secrets:<name>` (no file or content). */
  secretConfigs: string[];
  /** Printed, never fatal. */
  warnings: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Expands "8000-8002" (or a number) into ports; undefined when it is not a port or range. */
function portRange(v: unknown): number[] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(String(v ?? ""));
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  if (from < 1 || to > 65535 || to < from || to - from > 1000) return undefined;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Published host ports of one `ports` entry, short ("8080:80/udp") or long syntax. */
export function publishedOf(entry: unknown): { ports: number[]; protocol: PortProtocol } | undefined {
  if (isRecord(entry)) {
    if (entry.published === undefined) return undefined;
    const ports = portRange(entry.published);
    const protocol = entry.protocol === "udp" ? "udp" : "tcp";
    return ports ? { ports, protocol } : undefined;
  }
  const [spec, proto] = String(entry).split("/");
  // [ip:]published:target; IPv6 addresses come in brackets.
  const parts = spec.replace(/^\[[^\]]*\]:/, "").split(":");
  if (parts.length < 2) return undefined;
  const ports = portRange(parts[parts.length - 2]);
  return ports ? { ports, protocol: proto === "udp" ? "udp" : "tcp" } : undefined;
}

/** Bind sources of one `volumes` entry: "src:dst[:mode]" or { type: bind, source }. */
function bindSource(entry: unknown): string | undefined {
  if (isRecord(entry)) return entry.type === "bind" && typeof entry.source === "string" ? entry.source : undefined;
  const parts = String(entry).split(":");
  return parts.length >= 2 && (parts[0].startsWith("/") || parts[0].startsWith(".") || parts[0].startsWith("~")) ? parts[0] : undefined;
}

/**
 * Applies the key table, the port rules and the privilege rules to a parsed file. Problems
 * name `file:line`, the key, the value and the fix; warnings go into the returned facts.
 */
export function composeKeyProblems(doc: ComposeDocument, allowPrivileged: boolean, problems: string[]): ComposeFacts {
  const facts: ComposeFacts = { endpoints: [], secrets: [], secretConfigs: [], warnings: [] };
  const at = (path: (string | number)[]) => `${doc.where(path)}: ${dotted(path)}`;
  for (const k of Object.keys(doc.data)) {
    if (k === "include") problems.push(`${at([k])} is not supported by docker stack deploy; merge the included files into one.`);
    else if (k === "name") facts.warnings.push(`${at([k])} is ignored; the stack is named by its name in aws-swarm:stacks.`);
  }
  const services = isRecord(doc.data.services) ? doc.data.services : {};
  const seen = new Map<string, string>();
  for (const [svc, raw] of Object.entries(services)) {
    if (!isRecord(raw)) continue;
    const p = (...rest: (string | number)[]) => ["services", svc, ...rest];
    for (const [k, v] of Object.entries(raw)) {
      const rule = SERVICE_KEY_RULES[k];
      if (!rule) continue;
      const conditions = k === "depends_on" && isRecord(v);
      const verdict = conditions ? "error" : rule.verdict;
      const text = `${at(p(k))} is ${shown(v)}: ${conditions ? "Swarm waits for no condition" : rule.effect}; ${rule.fix}.`;
      (verdict === "error" ? problems : facts.warnings).push(text);
    }
    if (raw.image === undefined) problems.push(`${at(p())} has no image; Swarm runs images only: set image.`);
    // The same image rule as for services and the registry: no flags, no shell, no newlines.
    else problems.push(...imageReferenceProblems(raw.image, at(p("image"))));
    const mode = isRecord(raw.deploy) && raw.deploy.endpoint_mode;
    (Array.isArray(raw.ports) ? raw.ports : []).forEach((entry, i) => {
      const pub = publishedOf(entry);
      if (!pub) {
        if (!isRecord(entry) && !String(entry).includes(":")) {
          facts.warnings.push(`${at(p("ports", i))} is ${shown(entry)}, which publishes no host port (Swarm picks a random one the load balancer does not know); write "8080:${entry}".`);
        }
        return;
      }
      for (const port of pub.ports) {
        const id = `${port}/${pub.protocol}`;
        if (RESERVED_PORTS.includes(port)) {
          problems.push(`${at(p("ports", i))} publishes ${port}, which is reserved for SSH, the Docker API, Swarm or the registry (${RESERVED_PORTS.join(", ")}); publish the service on another port.`);
        } else if (seen.has(id) && seen.get(id) !== svc) {
          problems.push(`${at(p("ports", i))} publishes ${id}, already published by service ${shown(seen.get(id))}; a swarm publishes each port and protocol once: pick another port.`);
        } else if (!seen.has(id)) {
          seen.set(id, svc);
          facts.endpoints.push({ port, protocol: pub.protocol });
        }
      }
      if (mode === "dnsrr" && !(isRecord(entry) && entry.mode === "host")) {
        problems.push(`${at(p("ports", i))} is ${shown(entry)} on a dnsrr service; Swarm publishes dnsrr services only in host mode: use the long syntax with mode: host.`);
      }
    });
    if (allowPrivileged) continue;
    const optIn = "or set allowPrivileged: true on the stack if it really needs it";
    if (raw.privileged === true) problems.push(`${at(p("privileged"))} is true, which gives the task root on its node; remove it, ${optIn}.`);
    if (Array.isArray(raw.cap_add) && raw.cap_add.length > 0) {
      problems.push(`${at(p("cap_add"))} is ${shown(raw.cap_add)}; added capabilities widen what a task can do to its node: remove cap_add, ${optIn}.`);
    }
    (Array.isArray(raw.volumes) ? raw.volumes : []).forEach((entry, i) => {
      const src = bindSource(entry);
      if (src === undefined) return;
      const clean = src.replace(/\/+$/, "") || "/";
      if (clean === "/" || DOCKER_SOCKET_PATHS.includes(clean)) {
        problems.push(`${at(p("volumes", i))} bind-mounts ${shown(src)}, which gives the task root on its node; remove the mount, ${optIn}.`);
      } else if (!src.startsWith("/")) {
        problems.push(`${at(p("volumes", i))} bind-mounts the relative path ${shown(src)}, which would resolve on the manager only; use a named volume or an absolute path that exists on every node.`);
      }
    });
  }
  for (const kind of ["secrets", "configs"] as const) {
    const defs = isRecord(doc.data[kind]) ? (doc.data[kind] as Record<string, unknown>) : {};
    for (const [name, def] of Object.entries(defs)) {
      const d = isRecord(def) ? def : {};
      if (d.external === true) continue;
      if (kind === "configs" && (typeof d.content === "string" || typeof d.file === "string")) {
        if (typeof d.file === "string") problems.push(`${at([kind, name, "file"])} is ${shown(d.file)}; the file would be read on the manager: inline it as content: |, or drop file to take the value from ${"aws-swarm-secrets"}:${name}.`);
        continue;
      }
      for (const src of ["file", "environment"].filter((f) => d[f] !== undefined)) {
        facts.warnings.push(`${at([kind, name, src])} is ignored; the value comes from aws-swarm-secrets:${name}.`);
      }
      (kind === "secrets" ? facts.secrets : facts.secretConfigs).push(name);
    }
  }
  facts.endpoints.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  return facts;
}

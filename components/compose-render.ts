/**
 * The file a manager deploys, made from a checked compose file: ignored keys dropped, every
 * secret and config this stack owns renamed by content hash and marked external (the deploy
 * step creates it from stdin first), and every `$` escaped, because `docker stack deploy`
 * would interpolate again with the manager's environment. Pure: no resources.
 */
import { createHash } from "crypto";
import { stringify } from "yaml";
import { SERVICE_KEY_RULES } from "./compose-keys";

/** A Swarm secret or config the deploy step creates: its hashed name and its value. */
export interface OwnedObject {
  kind: "secret" | "config";
  /** Key in the compose file, e.g. `db-password`. */
  key: string;
  /** Swarm name: `<stack>_<key>_<12 hex of sha256(stack, key, value)>`, at most 64 characters. */
  name: string;
  value: string;
}

/** Content-hash name of an owned object. A new value is a new name, so services roll. */
export function ownedName(stack: string, key: string, value: string): string {
  const hash = createHash("sha256").update(`${stack}\0${key}\0${value}`).digest("hex").slice(0, 12);
  return `${stack}_${key}`.slice(0, 64 - 13) + `_${hash}`;
}

const numbers = (o: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, keys.includes(k) && typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v]));

const escapeDollars = (v: unknown): unknown =>
  typeof v === "string" ? v.replace(/\$/g, "$$$$")
  : Array.isArray(v) ? v.map(escapeDollars)
  : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]))
  : v;

/**
 * The deployed YAML. `values` holds the value of every owned secret and config by key;
 * configs with inline `content` bring their own.
 */
export function renderCompose(
  stack: string,
  data: Record<string, unknown>,
  values: { secrets: Record<string, string>; configs: Record<string, string> },
  defaultLogging?: (service: string) => { name: string; options: Record<string, string> },
): { yaml: string; owned: OwnedObject[] } {
  const out: Record<string, unknown> = { ...data };
  delete out.name;
  // The v3 loader of older CLIs (Debian's 20.10) refuses a file without a version it knows.
  out.version = "3.8";
  const services: Record<string, unknown> = {};
  for (const [svc, raw] of Object.entries((data.services ?? {}) as Record<string, Record<string, unknown>>)) {
    const kept: Record<string, unknown> = Object.fromEntries(Object.entries(raw).filter(([k]) => !(k in SERVICE_KEY_RULES)));
    // Interpolated numbers are strings; the v3 schema of older CLIs wants integers here.
    if (Array.isArray(kept.ports)) kept.ports = kept.ports.map((p) => (p && typeof p === "object" ? numbers(p as Record<string, unknown>, ["published", "target"]) : p));
    if (kept.deploy && typeof kept.deploy === "object") kept.deploy = numbers(kept.deploy as Record<string, unknown>, ["replicas"]);
    // A service with a `logging` section of its own keeps it; the others log where the cluster says.
    if (defaultLogging && kept.logging === undefined) {
      const d = defaultLogging(`${stack}_${svc}`);
      kept.logging = { driver: d.name, options: d.options };
    }
    services[svc] = kept;
  }
  out.services = services;
  const owned: OwnedObject[] = [];
  for (const kind of ["secrets", "configs"] as const) {
    const defs = data[kind] as Record<string, Record<string, unknown> | null> | undefined;
    if (!defs) continue;
    const rendered: Record<string, unknown> = {};
    for (const [key, def] of Object.entries(defs)) {
      if (def?.external === true) {
        rendered[key] = def;
        continue;
      }
      const value = kind === "configs" && typeof def?.content === "string" ? def.content : values[kind][key];
      const name = ownedName(stack, key, value);
      owned.push({ kind: kind === "secrets" ? "secret" : "config", key, name, value });
      rendered[key] = { external: true, name };
    }
    out[kind] = rendered;
  }
  return { yaml: stringify(escapeDollars(out)), owned };
}

/** stdin of the deploy step: the file, then each owned object, base64 so any byte is safe. */
export function deployInput(yaml: string, owned: readonly OwnedObject[]): string {
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  return [`compose ${b64(yaml)}`, ...owned.map((o) => `${o.kind} ${o.name} ${b64(o.value)}`), ""].join("\n");
}

/**
 * Reading a compose file the way `docker stack deploy` will: YAML (anchors, merge keys), then
 * `${VAR}` interpolation from the stack's `env`, then the Compose specification's JSON schema.
 * Pure: no resources. Every problem names the file and line, the key, the value and the fix.
 */
import * as fs from "fs";
import Ajv, { ErrorObject } from "ajv";
import { isMap, isScalar, isSeq, LineCounter, Node, parseDocument } from "yaml";
import { shown } from "./errors";
// The official schema, vendored (see compose-schema/README.md for its commit and licence).
import composeSpecSchema = require("./compose-schema/compose-spec.json");

/** A compose file after interpolation, with a way to point at the line of any key. */
export interface ComposeDocument {
  /** The file as named in messages. */
  file: string;
  /** The interpolated content as plain data. */
  data: Record<string, unknown>;
  /** `file:line` of the value at `path` (or of the nearest parent that exists). */
  where: (path: readonly (string | number)[]) => string;
}

// The schema's own $schema URL names draft-07, which Ajv knows but does not register as a
// meta-schema by that https URL; validating the schema itself adds nothing here.
const validator = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false })
  .compile(composeSpecSchema);

const VAR = /\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Compose interpolation (compose-spec 12-interpolation.md): `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `$$` for a literal `$`. A variable
 * with no value and no default is a problem: `docker stack deploy` would silently use "".
 */
export function interpolate(
  text: string,
  env: Readonly<Record<string, string>>,
  at: string,
  problems: string[],
): string {
  return text.replace(VAR, (whole, dollar: string, braced: string | undefined, bare: string | undefined) => {
    if (dollar) return "$";
    const expr = braced ?? bare ?? "";
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])(.*))?$/s.exec(expr);
    if (!m) {
      problems.push(`${at} has ${shown(whole)}, which is not a valid interpolation; write \${NAME}, \${NAME:-default} or $$ for a literal $.`);
      return whole;
    }
    const [, name, colon, op, rest] = m;
    const value = env[name];
    const missing = value === undefined || (colon === ":" && value === "");
    if (!missing) return value;
    if (op === "-") return interpolate(rest, env, at, problems);
    const why = op === "?" && rest ? ` (${rest})` : "";
    problems.push(`${at} uses \${${name}}${why}, which has no value; add ${name} to the stack's env, or give a default: \${${name}:-value}.`);
    return "";
  });
}

function interpolateAll(value: unknown, env: Record<string, string>, at: (p: (string | number)[]) => string, path: (string | number)[], problems: string[]): unknown {
  if (typeof value === "string") return interpolate(value, env, at(path), problems);
  if (Array.isArray(value)) return value.map((v, i) => interpolateAll(v, env, at, [...path, i], problems));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env, at, [...path, k], problems)]),
    );
  }
  return value;
}

/** Where Ajv's JSON pointer points, as path segments. */
function pointer(p: string): string[] {
  return p === "" ? [] : p.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The key path in the dotted form messages use: services.web.ports[0]. */
export function dotted(path: readonly (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === "number" || /^\d+$/.test(String(p)) ? `${s}[${p}]` : s ? `${s}.${p}` : String(p)), "");
}

function schemaProblem(doc: ComposeDocument, e: ErrorObject): string {
  const path = pointer(e.instancePath);
  const key = dotted(path) || "(top level)";
  if (e.keyword === "additionalProperties") {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    return `${doc.where([...path, extra])}: ${dotted([...path, extra])} is not a Compose key; remove it, fix its spelling, or prefix it with x- to keep it as an extension field.`;
  }
  const value = path.reduce<unknown>((v, p) => (v && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined), doc.data);
  return `${doc.where(path)}: ${key} is ${shown(value)}, which the Compose specification rejects (${e.message}); fix the value, see https://github.com/compose-spec/compose-spec/blob/main/05-services.md.`;
}

/**
 * Parses and interpolates `text` (the content of `file`), and validates it against the Compose
 * specification. Returns the document, or undefined with every problem listed.
 */
export function parseComposeText(
  file: string,
  text: string,
  env: Readonly<Record<string, string>>,
  problems: string[],
): ComposeDocument | undefined {
  const lines = new LineCounter();
  const yaml = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const before = problems.length;
  for (const e of yaml.errors) {
    const line = e.linePos?.[0].line ?? lines.linePos(e.pos[0]).line;
    problems.push(`${file}:${line}: the file is not valid YAML (${e.message.split("\n")[0]}); fix the syntax.`);
  }
  if (problems.length > before) return undefined;
  const raw: unknown = yaml.toJS({ maxAliasCount: 1000 });
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push(`${file}:1: the file is ${shown(raw)}, not a compose file; it must be a map with a services key.`);
    return undefined;
  }
  const where = (path: readonly (string | number)[]): string => {
    for (let n = path.length; n >= 0; n--) {
      const node = yaml.getIn(path.slice(0, n), true) as Node | undefined;
      const pair = n > 0 ? keyNode(yaml.getIn(path.slice(0, n - 1), true) as Node | undefined, path[n - 1]) : undefined;
      const range = pair?.range ?? (isNode(node) ? node.range : undefined);
      if (range) return `${file}:${lines.linePos(range[0]).line}`;
    }
    return `${file}:1`;
  };
  const data = interpolateAll(raw, env, (p) => `${where(p)}: ${dotted(p)}`, [], problems) as Record<string, unknown>;
  const doc: ComposeDocument = { file, data, where };
  if (problems.length > before) return undefined;
  if (!validator(data)) {
    problems.push(...(validator.errors ?? []).map((e) => schemaProblem(doc, e)));
    return undefined;
  }
  return doc;
}

const isNode = (n: unknown): n is Node => isMap(n) || isSeq(n) || isScalar(n);

/** The key node of `key` in map `parent`, so a message points at the key's own line. */
function keyNode(parent: Node | undefined, key: string | number): Node | undefined {
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

/** Reads `path` (shown as `file` in messages) and parses it; see {@link parseComposeText}. */
export function loadComposeFile(
  path: string,
  file: string,
  env: Readonly<Record<string, string>>,
  problems: string[],
): { doc?: ComposeDocument; text?: string } {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    problems.push(`${file} cannot be read (${code}); composeFile is relative to the Pulumi project directory: fix the path.`);
    return {};
  }
  return { doc: parseComposeText(file, text, env, problems), text };
}

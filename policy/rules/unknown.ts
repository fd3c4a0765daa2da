import { ReportViolation } from "@pulumi/policy";

/**
 * During a preview some inputs are not known yet (an ID AWS assigns on create, a stack reference
 * output). @pulumi/policy hands rules a proxy that throws its UnknownValueError when such a value
 * is read, and then reports the whole rule as "can't run during preview", losing every other
 * finding of that rule on the resource. Which value a rule happened to read first would decide
 * what is reported. So rules never read the proxy directly: `snapshot` copies the props into plain
 * data first, with every unknown value replaced by UNKNOWN, and rules decide per value.
 */

/** A value Pulumi will only know after apply. */
export const UNKNOWN: unique symbol = Symbol("known after apply");
export type Unknown = typeof UNKNOWN;

function isUnknownValueError(e: unknown): boolean {
  // The class is internal to @pulumi/policy (and the pack may load its own copy), so match by name.
  return e instanceof Error && e.constructor.name === "UnknownValueError";
}

/** `read()`, or UNKNOWN when it touches a value that is unknown during a preview. */
export function readKnown<T>(read: () => T): T | Unknown {
  try {
    return read();
  } catch (e) {
    if (isUnknownValueError(e)) return UNKNOWN;
    throw e;
  }
}

// The values @pulumi/policy's proxy treats as unknown. Stack policies and tests may hand over raw
// props that still hold them rather than the throwing proxy.
// proxy.d.ts strips these @internal exports, so the module is loaded untyped.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy: Record<string, unknown> = require("@pulumi/policy/proxy");
const UNKNOWN_SENTINELS = new Set<unknown>([
  proxy.unknownBooleanValue,
  proxy.unknownNumberValue,
  proxy.unknownStringValue,
  proxy.unknownArrayValue,
  proxy.unknownAssetValue,
  proxy.unknownArchiveValue,
  proxy.unknownObjectValue,
]);

/** Deeper than any AWS resource's inputs; guards against self-referencing objects. */
const MAX_DEPTH = 32;

/**
 * A plain copy of `value` in which every value that is unknown during a preview is UNKNOWN.
 * Never throws: a property whose read fails for any reason is treated as unknown.
 */
export function snapshot(value: unknown, depth = 0): unknown {
  if (typeof value === "string" && UNKNOWN_SENTINELS.has(value)) return UNKNOWN;
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) return UNKNOWN;
  const read = (key: string | number): unknown => {
    try {
      return snapshot(Reflect.get(value, key), depth + 1);
    } catch {
      return UNKNOWN;
    }
  };
  if (Array.isArray(value)) {
    const length = readKnown(() => value.length);
    if (typeof length !== "number") return UNKNOWN;
    return Array.from({ length }, (_, i) => read(i));
  }
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch {
    return UNKNOWN;
  }
  return Object.fromEntries(keys.map((k) => [k, read(k)]));
}

/** Whether `value` holds UNKNOWN anywhere. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null) {
    return Object.values(value).some(containsUnknown);
  }
  return false;
}

/** The object form of a violation that @pulumi/policy's server accepts next to a plain message. */
interface ViolationObject {
  message: string;
  urn?: string;
  enforcementLevel: "advisory";
}

/**
 * Reports `message` as advisory whatever the rule's level. ReportViolation is typed for a string,
 * but the server also takes `{ message, urn, enforcementLevel }` and then uses that level for this
 * one violation (makeReportViolationFun in @pulumi/policy/server.js; the pack-server test proves
 * it over gRPC). Used for "cannot check until known" and for settings AWS already defaults safely.
 */
export function reportAdvisory(report: ReportViolation, message: string, urn?: string): void {
  const violation: ViolationObject = { message, enforcementLevel: "advisory" };
  if (urn !== undefined) violation.urn = urn;
  (report as unknown as (v: ViolationObject) => void)(violation);
}

/** The advisory for a value a preview does not know: `<where> is not known until apply; ...`. */
export function reportNotKnown(report: ReportViolation, where: string, what: string): void {
  reportAdvisory(
    report,
    `${where} is not known until apply, so ${what} cannot be checked until it is known; ` +
      `the check runs again on pulumi up.`,
  );
}

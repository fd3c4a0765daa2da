import { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { snapshot, Unknown, UNKNOWN } from "./unknown";

/**
 * Readers for snapshotted props (see unknown.ts). Real programs hand rules every shape: a list with
 * a null where a stack reference output was missing, a number where a string belongs, a string
 * where a list belongs. Rules read props only through these, so no shape makes them throw.
 */

export type Props = Record<string, unknown>;

export function isRecord(value: unknown): value is Props {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/** `value[key]` when value is an object, else undefined. */
export function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** The entries of a list with their positions; a single object counts as a list of one. */
export function entries(value: unknown): { item: unknown; i: number }[] {
  if (Array.isArray(value)) return value.map((item, i) => ({ item, i }));
  return isRecord(value) ? [{ item: value, i: 0 }] : [];
}

/** A string, UNKNOWN, or undefined for anything else (null, numbers, objects). */
export function text(value: unknown): string | Unknown | undefined {
  if (isUnknown(value)) return UNKNOWN;
  return typeof value === "string" ? value : undefined;
}

/** A whole number, also from a numeric string ("22"), UNKNOWN, or undefined. */
export function int(value: unknown): number | Unknown | undefined {
  if (isUnknown(value)) return UNKNOWN;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

/** Strings of a list (or a lone string), each string or UNKNOWN; nulls and other types dropped. */
export function strings(value: unknown): (string | Unknown)[] {
  if (isUnknown(value)) return [UNKNOWN];
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.flatMap((v): (string | Unknown)[] =>
    typeof v === "string" ? [v] : isUnknown(v) ? [UNKNOWN] : [],
  );
}

/** `true` and `"true"` (launch templates take strings) are true; UNKNOWN stays UNKNOWN. */
export function flag(value: unknown): boolean | Unknown | undefined {
  if (isUnknown(value)) return UNKNOWN;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  return undefined;
}

type ResourceClass = Parameters<ResourceValidationArgs["isType"]>[0];

/** A props check on a plain snapshot, whatever the props look like. */
export type PropsCheck = (
  props: Props,
  args: ResourceValidationArgs,
  report: ReportViolation,
) => void;

/**
 * Like validateResourceOfType, but the check gets a snapshot of the props (plain data, UNKNOWN
 * for values a preview does not know) typed as what it really is: anything.
 */
export function ofType(resourceClass: ResourceClass, check: PropsCheck): ResourceValidation {
  return (args, report) => {
    if (!args.isType(resourceClass)) return;
    const props = snapshot(args.props);
    check(isRecord(props) ? props : {}, args, report);
  };
}

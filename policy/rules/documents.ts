import * as aws from "@pulumi/aws";
import {
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  validateResourceOfType,
} from "@pulumi/policy";
import { describeResource } from "./where";

/**
 * IAM policy documents reach a policy as JSON strings or as objects; `Statement` may be one object
 * or an array; `Action`, `NotAction`, `Resource` and `NotResource` may be a string or an array.
 * This module reads all of those into one shape so the IAM rules never look at raw JSON.
 * Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */

/** One `Effect: Allow` statement, normalised. Deny statements only ever take permissions away. */
export interface AllowStatement {
  /** e.g. `role policy "registry" statement 2 (Sid "Objects")`. */
  where: string;
  /** `Action`, or undefined when the statement uses `NotAction`. */
  actions?: string[];
  /** `NotAction`: with Allow it grants every action *not* listed. */
  notActions?: string[];
  /** `Resource`, or undefined when the statement uses `NotResource`. */
  resources?: string[];
  /** `NotResource`: with Allow it grants every resource *not* listed. */
  notResources?: string[];
}

export type ParsedDocument =
  { valid: true; statements: AllowStatement[] } | { valid: false; where: string; error: string };

/** An IAM rule's predicate: inspects one parsed document. */
export type DocumentCheck = (
  document: ParsedDocument,
  report: ReportViolation,
  args: ResourceValidationArgs,
) => void;

export type DocumentAdapter = (check: DocumentCheck) => ResourceValidation;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string => typeof v === "string");
}

/** Reads a policy document given as a JSON string or an object. */
export function parsePolicyDocument(document: unknown, where: string): ParsedDocument {
  let parsed: unknown = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch (e) {
      return { valid: false, where, error: e instanceof Error ? e.message : String(e) };
    }
  }
  if (!isRecord(parsed)) {
    return { valid: false, where, error: "the document is not a JSON object" };
  }
  const raw = parsed.Statement;
  const list: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const statements: AllowStatement[] = [];
  list.forEach((s, i) => {
    if (!isRecord(s) || s.Effect !== "Allow") return;
    const sid = typeof s.Sid === "string" && s.Sid !== "" ? ` (Sid "${s.Sid}")` : "";
    statements.push({
      where: `${where} statement ${i + 1}${sid}`,
      actions: strings(s.Action),
      notActions: strings(s.NotAction),
      resources: strings(s.Resource),
      notResources: strings(s.NotResource),
    });
  });
  return { valid: true, statements };
}

/** IAM wildcards: `*` any run of characters, `?` one character; actions are case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${regex}$`, "i").test(action);
}

export function isWildcard(action: string): boolean {
  return /[*?]/.test(action);
}

const READ_ONLY_VERBS = ["describe", "list", "get"];

/**
 * Read-only means every action the pattern can match starts with Describe, List or Get: the
 * literal text before the first wildcard must already begin with one of them (`ec2:Describe*`,
 * `s3:GetObject`), and the service part must be literal.
 */
export function isReadOnlyAction(action: string): boolean {
  const colon = action.indexOf(":");
  if (colon < 1 || isWildcard(action.slice(0, colon))) return false;
  const literal = action
    .slice(colon + 1)
    .split(/[*?]/)[0]
    .toLowerCase();
  return READ_ONLY_VERBS.some((verb) => literal.startsWith(verb));
}

/** Whether the statement applies to every resource: `Resource: "*"` or any `NotResource`. */
export function coversAllResources(statement: AllowStatement): boolean {
  return statement.notResources !== undefined || (statement.resources ?? []).includes("*");
}

/** `every resource ("*")`, or `every resource outside its NotResource list`. */
export function describeAllResources(statement: AllowStatement): string {
  return statement.notResources !== undefined
    ? "every resource outside its NotResource list"
    : 'every resource ("*")';
}

/** Checks the document in the `policy` property of the resource being validated. */
function checkPolicy(
  document: unknown,
  check: DocumentCheck,
  args: ResourceValidationArgs,
  report: ReportViolation,
): void {
  check(parsePolicyDocument(document, describeResource(args.type, args.name)), report, args);
}

/** Validator for a resource whose `policy` property, when set, is the document itself. */
function ownPolicy(check: DocumentCheck) {
  return (props: { policy?: unknown }, args: ResourceValidationArgs, report: ReportViolation): void => {
    if (props.policy) checkPolicy(props.policy, check, args, report);
  };
}

/**
 * Every resource whose properties carry an identity or bucket policy document. Trust policies
 * (`assumeRolePolicy`) are left out: they name principals, not actions on resources. KMS key
 * policies are left out too: their `Resource: "*"` means "this key".
 */
export const documentAdapters: readonly DocumentAdapter[] = [
  (check) => validateResourceOfType(aws.iam.Policy, ownPolicy(check)),
  (check) => validateResourceOfType(aws.iam.RolePolicy, ownPolicy(check)),
  (check) => validateResourceOfType(aws.iam.UserPolicy, ownPolicy(check)),
  (check) => validateResourceOfType(aws.iam.GroupPolicy, ownPolicy(check)),
  (check) => validateResourceOfType(aws.s3.BucketPolicy, ownPolicy(check)),
  (check) => validateResourceOfType(aws.s3.Bucket, ownPolicy(check)),
  (check) => validateResourceOfType(aws.s3.BucketV2, ownPolicy(check)),
  (check) =>
    validateResourceOfType(aws.iam.Role, (role, args, report) =>
      (role.inlinePolicies ?? []).forEach((inline, i) => {
        if (!inline.policy) return;
        const name = inline.name ? ` ("${inline.name}")` : "";
        const where = `${describeResource(args.type, args.name)} inlinePolicies[${i}]${name}`;
        check(parsePolicyDocument(inline.policy, where), report, args);
      }),
    ),
];

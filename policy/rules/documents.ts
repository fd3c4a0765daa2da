import * as aws from "@pulumi/aws";
import { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { entries, field, isRecord as isProps, isUnknown, ofType, text } from "./read";
import { containsUnknown, reportNotKnown } from "./unknown";
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
  /** A resource policy's `Principal` is `"*"` or `{ AWS: "*" }`, or it uses `NotPrincipal`. */
  anyone?: true;
  /** The statement has a non-empty `Condition`, which can scope even a `*` principal. */
  conditioned?: true;
}

export type ParsedDocument =
  | { valid: true; statements: AllowStatement[] }
  | { valid: false; where: string; error: string };

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

/** `"*"`, `{ AWS: "*" }` or `{ AWS: ["…", "*"] }`: every principal of every account. */
function isAnyone(principal: unknown): boolean {
  if (principal === "*") return true;
  return isRecord(principal) && (strings(principal.AWS) ?? []).includes("*");
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
    const anyone = s.NotPrincipal !== undefined || isAnyone(s.Principal);
    const conditioned = isRecord(s.Condition) && Object.keys(s.Condition).length > 0;
    statements.push({
      where: `${where} statement ${i + 1}${sid}`,
      actions: strings(s.Action),
      notActions: strings(s.NotAction),
      resources: strings(s.Resource),
      notResources: strings(s.NotResource),
      ...(anyone ? { anyone: true as const } : {}),
      ...(conditioned ? { conditioned: true as const } : {}),
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

/**
 * Checks one policy document property. A document a preview does not know yet is advisory; one
 * with unknown parts is checked for what is known and also reported as advisory.
 */
function checkDocument(
  document: unknown,
  where: string,
  check: DocumentCheck,
  args: ResourceValidationArgs,
  report: ReportViolation,
): void {
  if (document === undefined || document === null || document === "") return;
  if (containsUnknown(document)) {
    reportNotKnown(report, where, "its statements");
    if (isUnknown(document)) return;
  }
  check(parsePolicyDocument(document, where), report, args);
}

type ResourceClass = Parameters<ResourceValidationArgs["isType"]>[0];

/** Validator for a resource whose `property` (by default `policy`), when set, is the document. */
export function documentProperty(
  resourceClass: ResourceClass,
  property = "policy",
): DocumentAdapter {
  return (check) =>
    ofType(resourceClass, (props, args, report) => {
      const where = describeResource(args.type, args.name);
      checkDocument(
        props[property],
        property === "policy" ? where : `${where} ${property}`,
        check,
        args,
        report,
      );
    });
}

/** Inline policies of an aws.iam.Role, each a `{ name, policy }`; nulls skipped. */
const roleInlinePolicies: DocumentAdapter = (check) =>
  ofType(aws.iam.Role, (role, args, report) => {
    const here = describeResource(args.type, args.name);
    if (isUnknown(role.inlinePolicies)) {
      reportNotKnown(report, `${here} inlinePolicies`, "their statements");
      return;
    }
    for (const { item, i } of entries(role.inlinePolicies)) {
      if (!isProps(item)) continue;
      const name = text(item.name);
      const shownName = typeof name === "string" && name !== "" ? ` ("${name}")` : "";
      checkDocument(
        field(item, "policy"),
        `${here} inlinePolicies[${i}]${shownName}`,
        check,
        args,
        report,
      );
    }
  });

/**
 * Every resource whose properties carry an identity or bucket policy document. Trust policies
 * (`assumeRolePolicy`) are left out: they name principals, not actions on resources. KMS key
 * policies are left out too: their `Resource: "*"` means "this key".
 */
export const documentAdapters: readonly DocumentAdapter[] = [
  documentProperty(aws.iam.Policy),
  documentProperty(aws.iam.RolePolicy),
  documentProperty(aws.iam.UserPolicy),
  documentProperty(aws.iam.GroupPolicy),
  documentProperty(aws.s3.BucketPolicy),
  documentProperty(aws.s3.Bucket),
  documentProperty(aws.s3.BucketV2),
  roleInlinePolicies,
];

/**
 * Every resource policy, where `Principal` says who may act on the resource: buckets, ECR
 * repositories, SQS queues, SNS topics and KMS keys.
 */
export const resourcePolicyAdapters: readonly DocumentAdapter[] = [
  documentProperty(aws.s3.BucketPolicy),
  documentProperty(aws.s3.Bucket),
  documentProperty(aws.s3.BucketV2),
  documentProperty(aws.ecr.RepositoryPolicy),
  documentProperty(aws.ecr.RegistryPolicy),
  documentProperty(aws.sqs.QueuePolicy),
  documentProperty(aws.sqs.Queue),
  documentProperty(aws.sns.TopicPolicy, "policy"),
  documentProperty(aws.sns.Topic),
  documentProperty(aws.kms.Key),
  documentProperty(aws.kms.KeyPolicy),
];

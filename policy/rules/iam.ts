import * as aws from "@pulumi/aws";
import {
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import {
  actionMatches,
  AllowStatement,
  coversAllResources,
  describeAllResources,
  documentAdapters,
  isReadOnlyAction,
  isWildcard,
  ParsedDocument,
} from "./documents";
import { describeResource, quotedList } from "./where";

function reportWildcardActions(document: ParsedDocument, report: ReportViolation): void {
  if (!document.valid) {
    report(
      `${document.where} is not a valid policy document (${document.error}); fix the JSON so its ` +
        `statements can be checked.`,
    );
    return;
  }
  for (const statement of document.statements) {
    if (statement.notActions !== undefined) {
      report(
        `${statement.where} uses NotAction with Effect Allow, which allows every action not ` +
          `listed; replace NotAction with an explicit Action list.`,
      );
    }
    const wildcards = (statement.actions ?? []).filter(
      (a) => isWildcard(a) && !isReadOnlyAction(a),
    );
    if (wildcards.length > 0) {
      report(
        `${statement.where} allows wildcard action${wildcards.length > 1 ? "s" : ""} ` +
          `${quotedList(wildcards)}, which include${wildcards.length > 1 ? "" : "s"} write ` +
          `actions; list the exact actions the workload needs (only Describe*, List* and Get* ` +
          `wildcards are allowed).`,
      );
    }
  }
}

export const swarmNoWildcardIamActions: ResourceValidationPolicy = {
  name: "swarm-no-wildcard-iam-actions",
  description:
    'Forbids Allow statements with Action "*", a wildcard that can match write actions ' +
    '("s3:*", "ec2:*Instances"), or NotAction; read-only Describe*, List* and Get* wildcards pass. ' +
    "Also reports policy documents that cannot be parsed.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "List the exact actions the workload calls.",
  validateResource: documentAdapters.map((adapt) => adapt(reportWildcardActions)),
};

function writeActions(statement: AllowStatement): string | undefined {
  if (statement.notActions !== undefined) return "every action outside its NotAction list";
  const writes = (statement.actions ?? []).filter((a) => !isReadOnlyAction(a));
  if (writes.length === 0) return undefined;
  return `write action${writes.length > 1 ? "s" : ""} ${quotedList(writes)}`;
}

function reportWritesOnAllResources(document: ParsedDocument, report: ReportViolation): void {
  if (!document.valid) return;
  for (const statement of document.statements.filter(coversAllResources)) {
    const writes = writeActions(statement);
    if (writes === undefined) continue;
    report(
      `${statement.where} allows ${writes} on ${describeAllResources(statement)}; scope Resource ` +
        `to the ARNs those actions need (only Describe*, List* and Get* may use "*").`,
    );
  }
}

export const swarmNoWriteActionsOnAllResources: ResourceValidationPolicy = {
  name: "swarm-no-write-actions-on-all-resources",
  description:
    "Forbids Allow statements that grant any action other than Describe*, List* or Get* on " +
    'Resource "*" (or through NotResource).',
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set Resource to the ARNs (bucket, bucket/*, role ...) the actions act on.",
  validateResource: documentAdapters.map((adapt) => adapt(reportWritesOnAllResources)),
};

const PASS_ROLE = "iam:PassRole";

/** How the statement grants iam:PassRole, or undefined when it does not. */
function passRoleGrant(statement: AllowStatement): string | undefined {
  if (statement.notActions !== undefined) {
    return statement.notActions.some((a) => actionMatches(a, PASS_ROLE)) ? undefined : "NotAction";
  }
  return (statement.actions ?? []).find((a) => actionMatches(a, PASS_ROLE));
}

function reportPassRoleOnAllResources(document: ParsedDocument, report: ReportViolation): void {
  if (!document.valid) return;
  for (const statement of document.statements.filter(coversAllResources)) {
    const via = passRoleGrant(statement);
    if (via === undefined) continue;
    const how =
      via === "NotAction" ? " (via NotAction)" : via === PASS_ROLE ? "" : ` (via "${via}")`;
    report(
      `${statement.where} allows ${PASS_ROLE}${how} on ${describeAllResources(statement)}, so ` +
        `its holder can hand any role, admin roles included, to a service it launches; limit ` +
        `Resource to the ARNs of the roles it must pass.`,
    );
  }
}

export const swarmNoPassRoleOnAllResources: ResourceValidationPolicy = {
  name: "swarm-no-passrole-on-all-resources",
  description:
    'Forbids Allow statements that grant iam:PassRole (directly, by a wildcard such as "iam:*", ' +
    'or through NotAction) on Resource "*" or through NotResource.',
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Set Resource to the ARNs of the roles that may be passed.",
  validateResource: documentAdapters.map((adapt) => adapt(reportPassRoleOnAllResources)),
};

/** AWS managed policies that amount to administrator access, and what each grants. */
const ADMIN_POLICIES: Record<string, string> = {
  AdministratorAccess: "every action on every resource",
  PowerUserAccess: "every action outside IAM and Organizations",
  IAMFullAccess: "full control of IAM, enough to make itself an administrator",
};

/** `arn:<partition>:iam::aws:policy[/path]/<name>`; partitions: aws, aws-cn, aws-us-gov, ... */
const AWS_MANAGED_POLICY_ARN = /^arn:aws[a-z-]*:iam::aws:policy\/(?:[^/]+\/)*([^/]+)$/;

function reportAdminPolicy(arn: unknown, where: string, report: ReportViolation): void {
  if (typeof arn !== "string") return;
  const name = AWS_MANAGED_POLICY_ARN.exec(arn)?.[1];
  if (name === undefined || !(name in ADMIN_POLICIES)) return;
  report(
    `${where} attaches the AWS managed policy ${name} (${arn}), which grants ` +
      `${ADMIN_POLICIES[name]}; attach a customer-managed policy with only the actions and ` +
      `resources the workload needs.`,
  );
}

function here(args: ResourceValidationArgs): string {
  return describeResource(args.type, args.name);
}

function reportEachArn(
  arns: readonly string[] | undefined,
  property: string,
  args: ResourceValidationArgs,
  report: ReportViolation,
): void {
  (arns ?? []).forEach((arn, i) =>
    reportAdminPolicy(arn, `${here(args)} ${property}[${i}]`, report),
  );
}

/** Every way to attach a managed policy to a role, user or group. */
const attachmentValidations: ResourceValidation[] = [
  validateResourceOfType(aws.iam.RolePolicyAttachment, (a, args, report) =>
    reportAdminPolicy(a.policyArn, here(args), report),
  ),
  validateResourceOfType(aws.iam.UserPolicyAttachment, (a, args, report) =>
    reportAdminPolicy(a.policyArn, here(args), report),
  ),
  validateResourceOfType(aws.iam.GroupPolicyAttachment, (a, args, report) =>
    reportAdminPolicy(a.policyArn, here(args), report),
  ),
  validateResourceOfType(aws.iam.PolicyAttachment, (a, args, report) =>
    reportAdminPolicy(a.policyArn, here(args), report),
  ),
  validateResourceOfType(aws.iam.Role, (role, args, report) =>
    reportEachArn(role.managedPolicyArns, "managedPolicyArns", args, report),
  ),
  validateResourceOfType(aws.iam.RolePolicyAttachmentsExclusive, (a, args, report) =>
    reportEachArn(a.policyArns, "policyArns", args, report),
  ),
  validateResourceOfType(aws.iam.UserPolicyAttachmentsExclusive, (a, args, report) =>
    reportEachArn(a.policyArns, "policyArns", args, report),
  ),
  validateResourceOfType(aws.iam.GroupPolicyAttachmentsExclusive, (a, args, report) =>
    reportEachArn(a.policyArns, "policyArns", args, report),
  ),
];

export const swarmNoAdminManagedPolicies: ResourceValidationPolicy = {
  name: "swarm-no-admin-managed-policies",
  description:
    "Forbids attaching the AWS managed policies AdministratorAccess, PowerUserAccess or " +
    "IAMFullAccess (policy attachments of roles, users and groups, and role managedPolicyArns).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Write a customer-managed policy with the actions and resources needed.",
  validateResource: attachmentValidations,
};

export const swarmNoIamAccessKeys: ResourceValidationPolicy = {
  name: "swarm-no-iam-access-keys",
  description: "Forbids aws.iam.AccessKey: long-lived static credentials.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Use an IAM role: an instance profile on EC2, OIDC federation in CI, IAM Identity Center " +
    "for people.",
  validateResource: validateResourceOfType(aws.iam.AccessKey, (key, args, report) => {
    const user = typeof key.user === "string" ? ` for user "${key.user}"` : "";
    report(
      `${here(args)}${user} creates a long-lived static credential; remove it and use an IAM ` +
        `role instead (an instance profile on EC2, OIDC federation in CI).`,
    );
  }),
};

import * as aws from "@pulumi/aws";
import {
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
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
import { entries, isUnknown, ofType, Props } from "./read";
import { reportNotKnown } from "./unknown";
import { isUnscopableAction, unscopableMatches } from "./unscoped";
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
  // Actions with no resource type can only be granted on "*" (see unscoped.ts).
  const writes = (statement.actions ?? []).filter(
    (a) => !isReadOnlyAction(a) && !isUnscopableAction(a),
  );
  if (writes.length === 0) return undefined;
  const unscopable = writes.flatMap(unscopableMatches);
  const hint =
    unscopable.length === 0
      ? ""
      : ` (of these, only ${quotedList(unscopable)} must use "*": list them by name instead of the wildcard)`;
  return `write action${writes.length > 1 ? "s" : ""} ${quotedList(writes)}${hint}`;
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
    'Resource "*" (or through NotResource). Actions AWS accepts only on "*" (ssmmessages, ' +
    "cloudwatch:PutMetricData, xray:PutTraceSegments, ecr:GetAuthorizationToken, …; the table " +
    "in policy/rules/unscoped.ts cites AWS's Service Authorization Reference) pass when named.",
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

const COMPLETE_LIFECYCLE = "autoscaling:CompleteLifecycleAction";

/** How the statement grants autoscaling:CompleteLifecycleAction, or undefined when it does not. */
function completeLifecycleGrant(statement: AllowStatement): string | undefined {
  if (statement.notActions !== undefined) {
    return statement.notActions.some((a) => actionMatches(a, COMPLETE_LIFECYCLE)) ? undefined : "NotAction";
  }
  return (statement.actions ?? []).find((a) => actionMatches(a, COMPLETE_LIFECYCLE));
}

function reportCompleteLifecycleOnAllGroups(document: ParsedDocument, report: ReportViolation): void {
  if (!document.valid) return;
  for (const statement of document.statements.filter(coversAllResources)) {
    const via = completeLifecycleGrant(statement);
    if (via === undefined) continue;
    const how = via === "NotAction" ? " (via NotAction)" : via === COMPLETE_LIFECYCLE ? "" : ` (via "${via}")`;
    report(
      `${statement.where} allows ${COMPLETE_LIFECYCLE}${how} on ${describeAllResources(statement)}, so ` +
        `its holder can cut short the drain of any Auto Scaling group's leaving instances; limit ` +
        `Resource to the ARNs of the swarm's worker groups.`,
    );
  }
}

export const swarmNoLifecycleCompletionOnAllGroups: ResourceValidationPolicy = {
  name: "swarm-no-lifecycle-completion-on-all-groups",
  description:
    'Forbids Allow statements that grant autoscaling:CompleteLifecycleAction (directly, by a wildcard, ' +
    'or through NotAction) on Resource "*" or through NotResource.',
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set Resource to the ARNs of the Auto Scaling groups whose hooks the keeper completes.",
  validateResource: documentAdapters.map((adapt) => adapt(reportCompleteLifecycleOnAllGroups)),
};

/** AWS managed policies that amount to administrator access, and what each grants. */
const ADMIN_POLICIES: Record<string, string> = {
  AdministratorAccess: "every action on every resource",
  PowerUserAccess: "every action outside IAM and Organizations",
  IAMFullAccess: "full control of IAM, enough to make itself an administrator",
};

/** `arn:<partition>:iam::aws:policy[/path]/<name>`; partitions: aws, aws-cn, aws-us-gov, ... */
const AWS_MANAGED_POLICY_ARN = /^arn:aws[a-z-]*:iam::aws:policy\/(?:[^/]+\/)*([^/]+)$/;

/** The name of an AWS managed policy ARN, or undefined for any other value. */
export function awsManagedPolicyName(arn: unknown): string | undefined {
  return typeof arn === "string" ? AWS_MANAGED_POLICY_ARN.exec(arn)?.[1] : undefined;
}

/** One managed-policy ARN a resource attaches, with where it was written. */
type AttachedArn = (
  arn: string,
  where: string,
  report: ReportViolation,
  args: ResourceValidationArgs,
) => void;

function here(args: ResourceValidationArgs): string {
  return describeResource(args.type, args.name);
}

function eachArn(
  check: AttachedArn,
  value: unknown,
  where: string,
  args: ResourceValidationArgs,
  report: ReportViolation,
) {
  if (isUnknown(value)) {
    reportNotKnown(report, where, "which managed policy it attaches");
    return;
  }
  if (typeof value === "string") check(value, where, report, args);
}

function eachListedArn(check: AttachedArn, property: string) {
  return (props: Props, args: ResourceValidationArgs, report: ReportViolation) => {
    const list = props[property];
    if (isUnknown(list)) {
      reportNotKnown(report, `${here(args)} ${property}`, "which managed policies it attaches");
      return;
    }
    for (const { item, i } of entries(Array.isArray(list) ? list : [])) {
      eachArn(check, item, `${here(args)} ${property}[${i}]`, args, report);
    }
  };
}

/** Every way to attach a managed policy to a role, user or group. */
function attachmentValidations(check: AttachedArn): ResourceValidation[] {
  const single = (props: Props, args: ResourceValidationArgs, report: ReportViolation) =>
    eachArn(check, props.policyArn, here(args), args, report);
  return [
    ofType(aws.iam.RolePolicyAttachment, single),
    ofType(aws.iam.UserPolicyAttachment, single),
    ofType(aws.iam.GroupPolicyAttachment, single),
    ofType(aws.iam.PolicyAttachment, single),
    ofType(aws.iam.Role, eachListedArn(check, "managedPolicyArns")),
    ofType(aws.iam.RolePolicyAttachmentsExclusive, eachListedArn(check, "policyArns")),
    ofType(aws.iam.UserPolicyAttachmentsExclusive, eachListedArn(check, "policyArns")),
    ofType(aws.iam.GroupPolicyAttachmentsExclusive, eachListedArn(check, "policyArns")),
  ];
}

const reportAdminPolicy: AttachedArn = (arn, where, report) => {
  const name = awsManagedPolicyName(arn);
  if (name === undefined || !(name in ADMIN_POLICIES)) return;
  report(
    `${where} attaches the AWS managed policy ${name} (${arn}), which grants ` +
      `${ADMIN_POLICIES[name]}; attach a customer-managed policy with only the actions and ` +
      `resources the workload needs.`,
  );
};

export const swarmNoAdminManagedPolicies: ResourceValidationPolicy = {
  name: "swarm-no-admin-managed-policies",
  description:
    "Forbids attaching the AWS managed policies AdministratorAccess, PowerUserAccess or " +
    "IAMFullAccess (policy attachments of roles, users and groups, and role managedPolicyArns).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Write a customer-managed policy with the actions and resources needed.",
  validateResource: attachmentValidations(reportAdminPolicy),
};

/** Policy config of {@link swarmNoFullAccessManagedPolicies}. */
export interface FullAccessPolicyConfig {
  /** AWS managed *FullAccess policy names allowed anyway, e.g. ["CloudWatchAgentServerPolicy"]. */
  allowedManagedPolicies?: string[];
}

const reportFullAccessPolicy: AttachedArn = (arn, where, report, args) => {
  const name = awsManagedPolicyName(arn);
  // IAMFullAccess is an administrator policy and reported by swarm-no-admin-managed-policies.
  if (name === undefined || !/FullAccess/i.test(name) || name in ADMIN_POLICIES) return;
  const allowed = args.getConfig<FullAccessPolicyConfig>().allowedManagedPolicies;
  if (Array.isArray(allowed) && allowed.includes(name)) return;
  report(
    `${where} attaches the AWS managed policy ${name} (${arn}), which grants every action of ` +
      `its service on every resource; attach a customer-managed policy with the actions and ` +
      `resource ARNs the workload needs, or list "${name}" in this rule's ` +
      `allowedManagedPolicies config if it is a deliberate exception.`,
  );
};

export const swarmNoFullAccessManagedPolicies: ResourceValidationPolicy = {
  name: "swarm-no-full-access-managed-policies",
  description:
    "Forbids attaching AWS managed *FullAccess policies (AmazonEC2FullAccess, " +
    "AmazonS3FullAccess, AmazonECS_FullAccess, …) to roles, users or groups, unless listed in " +
    "the allowedManagedPolicies config; the same rights written inline fail the wildcard rules.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Write a customer-managed policy with the exact actions and resource ARNs, or list the " +
    "policy name in allowedManagedPolicies.",
  configSchema: {
    properties: {
      allowedManagedPolicies: {
        type: "array",
        items: { type: "string" },
        description: 'AWS managed policy names allowed anyway, e.g. ["AmazonSSMFullAccess"].',
      },
    },
  },
  validateResource: attachmentValidations(reportFullAccessPolicy),
};

export const swarmNoIamAccessKeys: ResourceValidationPolicy = {
  name: "swarm-no-iam-access-keys",
  description: "Forbids aws.iam.AccessKey: long-lived static credentials.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Use an IAM role: an instance profile on EC2, OIDC federation in CI, IAM Identity Center " +
    "for people.",
  validateResource: ofType(aws.iam.AccessKey, (key, args, report) => {
    const user = typeof key.user === "string" ? ` for user "${key.user}"` : "";
    report(
      `${here(args)}${user} creates a long-lived static credential; remove it and use an IAM ` +
        `role instead (an instance profile on EC2, OIDC federation in CI).`,
    );
  }),
};

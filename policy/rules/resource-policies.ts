import { ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";
import { ParsedDocument, resourcePolicyAdapters } from "./documents";
import { quotedList } from "./where";

/**
 * Resource policies say who may act on a resource. `Principal: "*"` without a Condition is
 * anyone on the internet with an AWS account, or none; a Condition such as aws:SourceArn or
 * aws:PrincipalOrgID is how AWS's own examples scope a service or an organisation.
 */
function reportPublicPrincipal(document: ParsedDocument, report: ReportViolation): void {
  if (!document.valid) return;
  for (const statement of document.statements) {
    if (!statement.anyone || statement.conditioned) continue;
    const what =
      statement.notActions !== undefined
        ? "every action outside its NotAction list"
        : quotedList(statement.actions ?? []);
    report(
      `${statement.where} allows ${what} to Principal "*" with no Condition, so anyone, in any ` +
        `AWS account or none, can use the resource; name the accounts, roles or services in ` +
        `Principal, or add a Condition such as aws:SourceArn, aws:SourceAccount or ` +
        `aws:PrincipalOrgID.`,
    );
  }
}

export const swarmNoPublicResourcePolicies: ResourceValidationPolicy = {
  name: "swarm-no-public-resource-policies",
  description:
    'Forbids resource policies with an Allow statement for Principal "*" (or NotPrincipal) and ' +
    "no Condition: S3 bucket policies, ECR repository and registry policies, SQS queue " +
    "policies, SNS topic policies and KMS key policies.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Name the principals, or scope the statement with aws:SourceArn, aws:SourceAccount or " +
    "aws:PrincipalOrgID.",
  validateResource: resourcePolicyAdapters.map((adapt) => adapt(reportPublicPrincipal)),
};

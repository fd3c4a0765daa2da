import { actionMatches } from "./documents";

/**
 * Actions that support no resource type, so AWS accepts them only with `Resource: "*"`. Each
 * entry is taken from the "Resource types" column of AWS's Service Authorization Reference, where
 * an empty cell means "you must specify all resources ("*")":
 *
 * - ssmmessages (Session Manager channels): CreateControlChannel, CreateDataChannel,
 *   OpenControlChannel, OpenDataChannel; none lists a resource type.
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmessagegatewayservice.html
 * - cloudwatch:PutMetricData: no resource type; it is scoped with the cloudwatch:namespace
 *   condition key instead, and AWS's own examples use `"Resource": "*"`.
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
 * - xray:PutTraceSegments, xray:PutTelemetryRecords, xray:GetSamplingRules,
 *   xray:GetSamplingTargets, xray:GetSamplingStatisticSummaries: the X-Ray daemon's permissions,
 *   from the X-Ray page; its table rows were not in the excerpt we could read, so this entry
 *   rests on the page plus AWS's managed policy AWSXRayDaemonWriteAccess, which grants exactly
 *   these five on "*".
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
 * - ecr:GetAuthorizationToken (`docker login` to ECR): from the ECR page, corroborated by AWS
 *   CDK's AuthorizationToken.grantRead, which grants it on "*" only.
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 *
 * A wildcard (`xray:Put*`) is never looked up here: it may match actions that do take a
 * resource, so only literal action names are exempt.
 */
export const UNSCOPABLE_ACTIONS: readonly string[] = [
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
  "cloudwatch:PutMetricData",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "xray:GetSamplingStatisticSummaries",
  "ecr:GetAuthorizationToken",
];

/**
 * Services all of whose actions take no resource type, so even `service:*` cannot be scoped.
 * ssmmessages has exactly the four actions above (same reference page).
 */
const UNSCOPABLE_SERVICES = ["ssmmessages"];

/** Whether `action` (as written in a policy) can only ever be granted on `Resource: "*"`. */
export function isUnscopableAction(action: string): boolean {
  const colon = action.indexOf(":");
  const service = action.slice(0, colon).toLowerCase();
  if (colon > 0 && UNSCOPABLE_SERVICES.includes(service) && !/[*?]/.test(service)) return true;
  if (/[*?]/.test(action)) return false;
  return UNSCOPABLE_ACTIONS.some((known) => actionMatches(known, action));
}

/** The listed unscopable actions a wildcard such as `xray:Put*` would cover, to name in a fix. */
export function unscopableMatches(pattern: string): string[] {
  return UNSCOPABLE_ACTIONS.filter((known) => actionMatches(pattern, known));
}

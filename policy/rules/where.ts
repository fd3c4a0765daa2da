/**
 * Human names for resource types, so every violation says where it was found in words a reader
 * of the program recognises (`security group "nodes" ingress[2]`), not only as a type token.
 */

const LABELS: Record<string, string> = {
  "aws:ec2/securityGroup:SecurityGroup": "security group",
  "aws:ec2/securityGroupRule:SecurityGroupRule": "security group rule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "ingress rule",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "default security group",
  "aws:eks/nodeGroup:NodeGroup": "EKS node group",
  "aws:ec2/instance:Instance": "instance",
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest": "spot instance request",
  "aws:ec2/launchConfiguration:LaunchConfiguration": "launch configuration",
  "aws:autoscaling/group:Group": "auto scaling group",
  "aws:ecr/repositoryPolicy:RepositoryPolicy": "ECR repository policy",
  "aws:ecr/registryPolicy:RegistryPolicy": "ECR registry policy",
  "aws:sqs/queue:Queue": "SQS queue",
  "aws:sqs/queuePolicy:QueuePolicy": "SQS queue policy",
  "aws:sns/topic:Topic": "SNS topic",
  "aws:sns/topicPolicy:TopicPolicy": "SNS topic policy",
  "aws:kms/key:Key": "KMS key",
  "aws:kms/keyPolicy:KeyPolicy": "KMS key policy",
  "docker:index/service:Service": "Docker service",
  "aws:ec2/launchTemplate:LaunchTemplate": "launch template",
  "aws:ebs/volume:Volume": "EBS volume",
  "aws:iam/policy:Policy": "IAM policy",
  "aws:iam/rolePolicy:RolePolicy": "role policy",
  "aws:iam/userPolicy:UserPolicy": "user policy",
  "aws:iam/groupPolicy:GroupPolicy": "group policy",
  "aws:iam/role:Role": "role",
  "aws:iam/accessKey:AccessKey": "IAM access key",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role policy attachment",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment": "user policy attachment",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "group policy attachment",
  "aws:iam/policyAttachment:PolicyAttachment": "policy attachment",
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive":
    "role policy attachments",
  "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive":
    "user policy attachments",
  "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive":
    "group policy attachments",
  "aws:s3/bucket:Bucket": "S3 bucket",
  "aws:s3/bucketV2:BucketV2": "S3 bucket",
  "aws:s3/bucketPolicy:BucketPolicy": "bucket policy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "public access block",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
    "encryption configuration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
    "encryption configuration",
};

/** `instance "manager-1"`; unknown types fall back to their type token. */
export function describeResource(type: string, name: string): string {
  return `${LABELS[type] ?? type} "${name}"`;
}

/**
 * A value as a message shows it: `unset`, `false`, `"optional"`, `a list`. Never throws, whatever
 * the program put there (a list holding a preview's unknown cannot even be turned into a string).
 */
export function shown(value: unknown): string {
  if (value === undefined || value === null) return "unset";
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "symbol") return "not known until apply";
  return Array.isArray(value) ? "a list" : "an object";
}

/** `port 22` or `ports 2375, 2376`. */
export function portList(ports: readonly number[]): string {
  return `${ports.length === 1 ? "port" : "ports"} ${ports.join(", ")}`;
}

/** `"a"`, `"a", "b"`: quoted and comma-separated. */
export function quotedList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(", ");
}

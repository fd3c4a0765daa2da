import * as assert from "node:assert";
import * as fc from "fast-check";
import { swarmPolicies } from "../../policy/rules/all";
import type { ResourceValidationPolicy, StackValidationPolicy } from "../../policy/rules/all";
import {
  runPolicy,
  stackArgs,
  UNKNOWN_ARRAY,
  UNKNOWN_STRING,
  untypedResourceArgs,
  untypedStackResource,
} from "../helpers/policy";

/**
 * No rule throws on any input shape, and the findings do not depend on the order in which a rule
 * meets the values. Props are random trees built from the property names and values the rules
 * read, mixed with nulls, preview unknowns, wrong types and deep nesting.
 */

const INGRESS = [
  "protocol",
  "fromPort",
  "toPort",
  "cidrBlocks",
  "ipv6CidrBlocks",
  "prefixListIds",
  "securityGroups",
  "self",
];
const EC2 = [
  "metadataOptions",
  "httpTokens",
  "httpEndpoint",
  "launchTemplate",
  "rootBlockDevice",
  "ebsBlockDevices",
  "encrypted",
  "deviceName",
  "userData",
  "userDataBase64",
  "tags",
  "tagsAll",
  "volumeTags",
];
const DOCUMENT = [
  "policy",
  "Statement",
  "Effect",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Principal",
  "NotPrincipal",
  "Condition",
  "AWS",
  "Sid",
  "tags",
];
const S3 = [
  "bucket",
  "acl",
  "id",
  "policy",
  "rules",
  "rule",
  "applyServerSideEncryptionByDefault",
  "sseAlgorithm",
  "serverSideEncryptionConfiguration",
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
  "tags",
];

/** Every resource type some rule reads, with the property names (at any depth) its rules read. */
const TYPES: Record<string, string[]> = {
  "aws:ec2/securityGroup:SecurityGroup": ["ingress", ...INGRESS, "tags"],
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ["ingress", ...INGRESS],
  "aws:ec2/securityGroupRule:SecurityGroupRule": ["type", "sourceSecurityGroupId", ...INGRESS],
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": [
    "ipProtocol",
    "fromPort",
    "toPort",
    "cidrIpv4",
    "cidrIpv6",
    "prefixListId",
    "referencedSecurityGroupId",
  ],
  "aws:eks/nodeGroup:NodeGroup": ["remoteAccess", "ec2SshKey", "sourceSecurityGroupIds", "tags"],
  "aws:ec2/instance:Instance": EC2,
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest": EC2,
  "aws:ec2/launchTemplate:LaunchTemplate": [
    "metadataOptions",
    "httpTokens",
    "blockDeviceMappings",
    "ebs",
    "encrypted",
    "deviceName",
    "userData",
    "tagSpecifications",
    "tags",
    "resourceType",
  ],
  "aws:ec2/launchConfiguration:LaunchConfiguration": EC2,
  "aws:autoscaling/group:Group": ["tags", "key", "value", "propagateAtLaunch"],
  "aws:ebs/volume:Volume": ["encrypted", "tags"],
  "aws:iam/policy:Policy": DOCUMENT,
  "aws:iam/rolePolicy:RolePolicy": DOCUMENT,
  "aws:iam/role:Role": ["inlinePolicies", "name", "managedPolicyArns", ...DOCUMENT],
  "aws:iam/accessKey:AccessKey": ["user"],
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["policyArn", "role"],
  "aws:iam/policyAttachment:PolicyAttachment": ["policyArn", "roles"],
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ["policyArns"],
  "aws:s3/bucket:Bucket": S3,
  "aws:s3/bucketV2:BucketV2": S3,
  "aws:s3/bucketPolicy:BucketPolicy": DOCUMENT,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": S3,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": S3,
  "aws:ecr/repositoryPolicy:RepositoryPolicy": DOCUMENT,
  "aws:sqs/queuePolicy:QueuePolicy": DOCUMENT,
  "aws:sns/topicPolicy:TopicPolicy": DOCUMENT,
  "aws:kms/key:Key": DOCUMENT,
};

const STRINGS = [
  "",
  "0.0.0.0/0",
  "::/0",
  "10.0.0.0/8",
  "not-a-cidr",
  "-1",
  "all",
  "tcp",
  "udp",
  "6",
  "50",
  "icmp",
  "22",
  "2377",
  "ingress",
  "egress",
  "required",
  "optional",
  "disabled",
  "true",
  "false",
  "Allow",
  "Deny",
  "*",
  "s3:*",
  "ec2:Describe*",
  "iam:PassRole",
  "xray:Put*",
  "cloudwatch:PutMetricData",
  "arn:aws:iam::aws:policy/AdministratorAccess",
  "arn:aws:iam::aws:policy/AmazonS3FullAccess",
  "SWMTKN-1-abc-def",
  "-----BEGIN RSA PRIVATE KEY-----",
  "AKIAABCDEFGHIJKLMNOP",
  "PASSWORD=hunter2",
  "mysqladmin -u root password 'x'",
  "aws:kms",
  '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
  '{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:*"}}',
  "{not json",
  "public-read",
  "sg-1",
  "manager",
  UNKNOWN_STRING,
  UNKNOWN_ARRAY,
];

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.integer({ min: -2, max: 70000 }),
  fc.double(),
  fc.string(),
);

/** Random props for a resource whose rules read `keys`: nested lists and objects of them. */
function propsFor(keys: string[]): fc.Arbitrary<Record<string, unknown>> {
  const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.array(tie("tree"), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom(...keys), tie("tree"), { maxKeys: 5 }),
    ),
  }));
  return fc.dictionary(fc.constantFrom(...keys), tree, { maxKeys: 6 });
}

/** A resource type and random props for it. */
const resource = fc
  .constantFrom(...Object.keys(TYPES))
  .chain((type) => propsFor(TYPES[type]).map((raw) => ({ type, raw })));

/** The same tree with every object's keys in reverse order, so rules meet values in another order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

function reversedProps(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

const resourcePolicies = swarmPolicies.filter(
  (p): p is ResourceValidationPolicy => "validateResource" in p,
);
const stackPolicies = swarmPolicies.filter((p): p is StackValidationPolicy => "validateStack" in p);

async function findings(type: string, raw: Record<string, unknown>, preview: boolean) {
  const all: string[] = [];
  for (const policy of resourcePolicies) {
    const args = untypedResourceArgs(type, raw, { name: "r", preview });
    all.push(...(await runPolicy(policy, args)).map((m) => `${policy.name}: ${m}`));
  }
  return all.sort();
}

/** Runs per property; FC_SCALE scales them for a longer local hunt. @default 1 */
const SCALE = Number(process.env.FC_SCALE ?? "1");
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

describe("every rule on random resource inputs", function () {
  this.timeout(120000);

  it("never throws, in a preview (unknowns) or on up, for any resource type", async () => {
    await fc.assert(
      fc.asyncProperty(resource, fc.boolean(), async ({ type, raw }, preview) => {
        await findings(type, raw, preview);
      }),
      { numRuns: runs(3000) },
    );
  });

  it("finds the same whatever order the values come in", async () => {
    await fc.assert(
      fc.asyncProperty(resource, fc.boolean(), async ({ type, raw }, preview) => {
        assert.deepStrictEqual(
          await findings(type, reversedProps(raw), preview),
          await findings(type, raw, preview),
        );
      }),
      { numRuns: runs(1000) },
    );
  });

  it("never throws in the stack rules over random resources", async () => {
    const member = fc.record({ r: resource, n: fc.nat(3) });
    await fc.assert(
      fc.asyncProperty(fc.array(member, { maxLength: 6 }), async (members) => {
        const list = members.map(({ r, n }, i) =>
          untypedStackResource(r.type, r.raw, { name: `r${i}`, outputs: { id: `r${n}` } }),
        );
        for (const policy of stackPolicies) await runPolicy(policy, stackArgs(list));
      }),
      { numRuns: runs(500) },
    );
  });
});

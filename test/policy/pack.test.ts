import * as assert from "node:assert";
import * as aws from "@pulumi/aws";
import { swarmPolicies } from "../../policy/rules/all";
import { created } from "../helpers/mocks";
import { PackViolation, runPack, whenSettled } from "../helpers/policy";

const byPolicyThenResource = (a: PackViolation, b: PackViolation) =>
  a.policy.localeCompare(b.policy) ||
  a.resource.localeCompare(b.resource) ||
  a.message.localeCompare(b.message);

describe("the aws-swarm policy pack", () => {
  it("lists twenty rules with unique kebab-case names prefixed swarm-", () => {
    const names = swarmPolicies.map((p) => p.name);
    assert.deepStrictEqual(names, [
      "swarm-no-ssh-from-world-or-unlisted-cidrs",
      "swarm-no-world-open-docker-or-swarm-ports",
      "swarm-no-docker-api-ingress",
      "swarm-no-cidr-ingress-to-swarm-ports",
      "swarm-no-world-open-ports-across-rules",
      "swarm-no-wildcard-iam-actions",
      "swarm-no-write-actions-on-all-resources",
      "swarm-no-passrole-on-all-resources",
      "swarm-no-lifecycle-completion-on-all-groups",
      "swarm-no-admin-managed-policies",
      "swarm-no-full-access-managed-policies",
      "swarm-no-public-resource-policies",
      "swarm-no-iam-access-keys",
      "swarm-no-public-s3-buckets",
      "swarm-no-unencrypted-s3-buckets",
      "swarm-no-partial-s3-public-access-block",
      "swarm-no-imdsv1",
      "swarm-no-unencrypted-ebs",
      "swarm-no-secrets-in-user-data-or-tags",
      "swarm-no-even-or-oversized-manager-quorum",
      "swarm-no-host-root-services",
    ]);
    assert.deepStrictEqual(
      names.filter((n) => !/^swarm-no(-[a-z0-9]+)+$/.test(n)),
      [],
    );
  });

  it("makes every rule mandatory by default", () => {
    assert.deepStrictEqual(
      swarmPolicies.filter((p) => p.enforcementLevel !== "mandatory").map((p) => p.name),
      [],
    );
  });

  it("gives every rule a description and remediation steps", () => {
    assert.deepStrictEqual(
      swarmPolicies.filter((p) => !p.description || !p.remediationSteps).map((p) => p.name),
      [],
    );
  });

  it("declares policy config only on the SSH and FullAccess rules", () => {
    assert.deepStrictEqual(
      swarmPolicies.filter((p) => p.configSchema !== undefined).map((p) => p.name),
      ["swarm-no-ssh-from-world-or-unlisted-cidrs", "swarm-no-full-access-managed-policies"],
    );
  });
});

describe("a deliberately bad program under the pack", () => {
  let violations: PackViolation[];

  before(async () => {
    created.length = 0;
    const sg = new aws.ec2.SecurityGroup("bad-sg", {
      vpcId: "vpc-1",
      ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
    });
    new aws.vpc.SecurityGroupIngressRule("bad-docker-api", {
      securityGroupId: sg.id,
      ipProtocol: "tcp",
      fromPort: 2375,
      toPort: 2375,
      cidrIpv4: "0.0.0.0/0",
    });
    const role = new aws.iam.Role("bad-role", {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "ec2.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    });
    new aws.iam.RolePolicyAttachment("bad-admin", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    });
    const user = new aws.iam.User("bad-user", { name: "deployer" });
    new aws.iam.AccessKey("bad-key", { user: user.name });
    new aws.s3.Bucket("bad-bucket", { acl: "public-read" });
    new aws.ec2.Instance("bad-node", {
      ami: "ami-0123456789abcdef0",
      instanceType: "t3.micro",
      vpcSecurityGroupIds: [sg.id],
      rootBlockDevice: { encrypted: true },
    });
    await whenSettled(created);
    violations = await runPack(swarmPolicies, [...created]);
  });

  it("records the eight resources it declared", () => {
    assert.deepStrictEqual(created.map((r) => r.name).sort(), [
      "bad-admin",
      "bad-bucket",
      "bad-docker-api",
      "bad-key",
      "bad-node",
      "bad-role",
      "bad-sg",
      "bad-user",
    ]);
  });

  it("reports every expected violation and nothing else", () => {
    const expected: PackViolation[] = [
      {
        policy: "swarm-no-ssh-from-world-or-unlisted-cidrs",
        resource: "bad-sg",
        message:
          'security group "bad-sg" ingress[0] allows 22/tcp from 0.0.0.0/0, the whole internet, exposing SSH (port 22); allow SSH only from specific admin CIDRs or a bastion security group.',
      },
      {
        policy: "swarm-no-world-open-docker-or-swarm-ports",
        resource: "bad-docker-api",
        message:
          'ingress rule "bad-docker-api" allows 2375/tcp from 0.0.0.0/0, the whole internet, exposing the Docker API 2375; remove 0.0.0.0/0 and allow only the CIDRs or security groups that need access.',
      },
      {
        policy: "swarm-no-admin-managed-policies",
        resource: "bad-admin",
        message:
          'role policy attachment "bad-admin" attaches the AWS managed policy AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess), which grants every action on every resource; attach a customer-managed policy with only the actions and resources the workload needs.',
      },
      {
        policy: "swarm-no-iam-access-keys",
        resource: "bad-key",
        message:
          'IAM access key "bad-key" for user "deployer" creates a long-lived static credential; remove it and use an IAM role instead (an instance profile on EC2, OIDC federation in CI).',
      },
      {
        policy: "swarm-no-public-s3-buckets",
        resource: "bad-bucket",
        message:
          'S3 bucket "bad-bucket" sets acl "public-read" and has no aws.s3.BucketPublicAccessBlock, so it is public; set acl "private" and add a public access block for this bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.',
      },
      {
        policy: "swarm-no-unencrypted-s3-buckets",
        resource: "bad-bucket",
        message:
          'S3 bucket "bad-bucket" has no server-side encryption configuration; AWS encrypts new buckets with SSE-S3 by default since January 2023, so this is advisory; add an aws.s3.BucketServerSideEncryptionConfiguration to choose "aws:kms" or "AES256" in code.',
        advisory: true,
      },
      {
        policy: "swarm-no-imdsv1",
        resource: "bad-node",
        message:
          `instance "bad-node" metadataOptions.httpTokens is unset, so the AMI's default applies: IMDSv2-only for AMIs marked ImdsSupport v2.0 (every Amazon Linux 2023 AMI), IMDSv1 allowed for most others; set metadataOptions.httpTokens to "required" to be sure.`,
        advisory: true,
      },
    ];
    assert.deepStrictEqual(
      [...violations].sort(byPolicyThenResource),
      expected.sort(byPolicyThenResource),
    );
  });
});

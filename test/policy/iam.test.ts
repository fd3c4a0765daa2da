import * as assert from "node:assert";
import * as aws from "@pulumi/aws";
import {
  swarmNoAdminManagedPolicies,
  swarmNoIamAccessKeys,
  swarmNoLifecycleCompletionOnAllGroups,
  swarmNoPassRoleOnAllResources,
  swarmNoWildcardIamActions,
  swarmNoWriteActionsOnAllResources,
} from "../../policy/rules/iam";
import { resourceArgs, runPolicy } from "../helpers/policy";

type Statement = {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
};

/** A policy document as the JSON string most programs pass. */
function json(...statements: Statement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** An aws.iam.Policy named "app" with this document. */
function iamPolicy(policy: string) {
  return resourceArgs(aws.iam.Policy, { policy }, { name: "app" });
}

describe("swarm-no-wildcard-iam-actions", () => {
  const policy = swarmNoWildcardIamActions;
  const FIX =
    "list the exact actions the workload needs (only Describe*, List* and Get* wildcards are allowed).";

  it('reports Action "*" in a JSON string document', async () => {
    const args = iamPolicy(json({ Effect: "Allow", Action: "*", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows wildcard action "*", which includes write actions; ${FIX}`,
    ]);
  });

  it("reports a service-wide wildcard in an object document, naming the Sid", async () => {
    const args = resourceArgs(
      aws.iam.RolePolicy,
      {
        role: "node",
        policy: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" },
            {
              Sid: "Bucket",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:*"],
              Resource: "arn:aws:s3:::b/*",
            },
          ],
        },
      },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `role policy "node" statement 2 (Sid "Bucket") allows wildcard action "s3:*", which includes write actions; ${FIX}`,
    ]);
  });

  it("reports every write wildcard of one statement in one message", async () => {
    const args = resourceArgs(
      aws.iam.GroupPolicy,
      {
        group: "ops",
        policy: json({ Effect: "Allow", Action: ["ec2:*Instances", "s3:Put*"], Resource: "*" }),
      },
      { name: "ops" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `group policy "ops" statement 1 allows wildcard actions "ec2:*Instances", "s3:Put*", which include write actions; ${FIX}`,
    ]);
  });

  it("passes read-only Describe*, List* and Get* wildcards", async () => {
    const args = iamPolicy(
      json({ Effect: "Allow", Action: ["ec2:Describe*", "s3:List*", "s3:Get*"], Resource: "*" }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports NotAction with Effect Allow in a statement given as a single object", async () => {
    const doc = JSON.stringify({
      Version: "2012-10-17",
      Statement: { Effect: "Allow", NotAction: "iam:*", Resource: "*" },
    });
    const args = resourceArgs(aws.iam.UserPolicy, { user: "dev", policy: doc }, { name: "dev" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'user policy "dev" statement 1 uses NotAction with Effect Allow, which allows every action not listed; replace NotAction with an explicit Action list.',
    ]);
  });

  it("passes a Deny statement with Action *", async () => {
    const args = iamPolicy(json({ Effect: "Deny", Action: "*", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a wildcard in a bucket policy", async () => {
    const args = resourceArgs(
      aws.s3.BucketPolicy,
      {
        bucket: "logs",
        policy: json({ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::logs/*" }),
      },
      { name: "logs" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `bucket policy "logs" statement 1 allows wildcard action "s3:*", which includes write actions; ${FIX}`,
    ]);
  });

  it("reports a wildcard in a role's inline policy", async () => {
    const args = resourceArgs(
      aws.iam.Role,
      {
        assumeRolePolicy: "{}",
        inlinePolicies: [
          { name: "ok", policy: json({ Effect: "Allow", Action: "ec2:Describe*", Resource: "*" }) },
          { name: "wide", policy: json({ Effect: "Allow", Action: "iam:*", Resource: "*" }) },
        ],
      },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `role "node" inlinePolicies[1] ("wide") statement 1 allows wildcard action "iam:*", which includes write actions; ${FIX}`,
    ]);
  });

  it("reports a document that is not valid JSON", async () => {
    const broken = '{"Statement": [';
    const detail = parseError(broken);
    assert.deepStrictEqual(await runPolicy(policy, iamPolicy(broken)), [
      `IAM policy "app" is not a valid policy document (${detail}); fix the JSON so its statements can be checked.`,
    ]);
  });

  it("passes a bucket with no policy set", async () => {
    const args = resourceArgs(aws.s3.Bucket, {}, { name: "logs" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a role with no inline policies set", async () => {
    const args = resourceArgs(aws.iam.Role, { assumeRolePolicy: "{}" }, { name: "node" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

function parseError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error(`${text} parsed`);
}

describe("swarm-no-write-actions-on-all-resources", () => {
  const policy = swarmNoWriteActionsOnAllResources;
  const FIX =
    'scope Resource to the ARNs those actions need (only Describe*, List* and Get* may use "*").';

  it('reports a write action on Resource "*"', async () => {
    const args = iamPolicy(
      json({ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "*" }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows write action "s3:PutObject" on every resource ("*"); ${FIX}`,
    ]);
  });

  it('reports several write actions when "*" is one of the resources', async () => {
    const args = iamPolicy(
      json({
        Effect: "Allow",
        Action: ["ec2:RunInstances", "ec2:TerminateInstances"],
        Resource: ["arn:aws:ec2:*:*:instance/*", "*"],
      }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows write actions "ec2:RunInstances", "ec2:TerminateInstances" on every resource ("*"); ${FIX}`,
    ]);
  });

  it("reports a write action through NotResource", async () => {
    const args = iamPolicy(
      json({ Effect: "Allow", Action: "s3:DeleteObject", NotResource: "arn:aws:s3:::keep/*" }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows write action "s3:DeleteObject" on every resource outside its NotResource list; ${FIX}`,
    ]);
  });

  it('reports NotAction on Resource "*"', async () => {
    const args = iamPolicy(json({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows every action outside its NotAction list on every resource ("*"); ${FIX}`,
    ]);
  });

  it('passes read-only actions on Resource "*"', async () => {
    const args = iamPolicy(
      json({ Effect: "Allow", Action: ["ec2:DescribeInstances", "ec2:Describe*"], Resource: "*" }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes write actions scoped to ARNs", async () => {
    const args = iamPolicy(
      json({ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::registry/*" }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it('passes a Deny of write actions on "*"', async () => {
    const args = iamPolicy(json({ Effect: "Deny", Action: "s3:PutObject", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a statement with no Resource set", async () => {
    const args = iamPolicy(json({ Effect: "Allow", Action: "s3:PutObject" }));
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("leaves an unparseable document to swarm-no-wildcard-iam-actions", async () => {
    assert.deepStrictEqual(await runPolicy(policy, iamPolicy("not json")), []);
  });
});

describe("swarm-no-passrole-on-all-resources", () => {
  const policy = swarmNoPassRoleOnAllResources;
  const TAIL =
    "so its holder can hand any role, admin roles included, to a service it launches; limit Resource to the ARNs of the roles it must pass.";

  it('reports iam:PassRole on Resource "*"', async () => {
    const args = iamPolicy(json({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows iam:PassRole on every resource ("*"), ${TAIL}`,
    ]);
  });

  it('reports iam:PassRole granted by "iam:*"', async () => {
    const args = iamPolicy(
      json({ Effect: "Allow", Action: ["s3:GetObject", "iam:*"], Resource: "*" }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows iam:PassRole (via "iam:*") on every resource ("*"), ${TAIL}`,
    ]);
  });

  it('reports iam:PassRole granted by "*" through NotResource', async () => {
    const args = iamPolicy(
      json({ Effect: "Allow", Action: "*", NotResource: "arn:aws:iam::1:role/x" }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows iam:PassRole (via "*") on every resource outside its NotResource list, ${TAIL}`,
    ]);
  });

  it("reports iam:PassRole granted through a NotAction that does not exclude it", async () => {
    const args = iamPolicy(json({ Effect: "Allow", NotAction: "s3:*", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows iam:PassRole (via NotAction) on every resource ("*"), ${TAIL}`,
    ]);
  });

  it("passes a NotAction that excludes iam:PassRole", async () => {
    const args = iamPolicy(json({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes iam:PassRole scoped to a role ARN", async () => {
    const args = iamPolicy(
      json({
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: "arn:aws:iam::123456789012:role/app",
      }),
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a statement with no Action set", async () => {
    const args = iamPolicy(json({ Effect: "Allow", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("swarm-no-lifecycle-completion-on-all-groups", () => {
  const policy = swarmNoLifecycleCompletionOnAllGroups;
  const TAIL =
    "so its holder can cut short the drain of any Auto Scaling group's leaving instances; limit Resource to the ARNs of the swarm's worker groups.";
  const GROUP = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0000:autoScalingGroupName/swarm-general";

  it('reports autoscaling:CompleteLifecycleAction on Resource "*"', async () => {
    const args = iamPolicy(json({ Effect: "Allow", Action: "autoscaling:CompleteLifecycleAction", Resource: "*" }));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows autoscaling:CompleteLifecycleAction on every resource ("*"), ${TAIL}`,
    ]);
  });

  it('reports it granted by "autoscaling:Complete*" through NotResource', async () => {
    const args = iamPolicy(json({ Effect: "Allow", Action: "autoscaling:Complete*", NotResource: GROUP }));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `IAM policy "app" statement 1 allows autoscaling:CompleteLifecycleAction (via "autoscaling:Complete*") on every resource outside its NotResource list, ${TAIL}`,
    ]);
  });

  it("passes it scoped to the groups' ARNs, and read-only describes on *", async () => {
    const args = iamPolicy(json(
      { Effect: "Allow", Action: "autoscaling:CompleteLifecycleAction", Resource: [GROUP] },
      { Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingInstances", "ec2:DescribeInstances"], Resource: "*" },
    ));
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a statement with no Action set", async () => {
    assert.deepStrictEqual(await runPolicy(policy, iamPolicy(json({ Effect: "Allow", Resource: "*" }))), []);
  });
});

describe("swarm-no-admin-managed-policies", () => {
  const policy = swarmNoAdminManagedPolicies;
  const FIX =
    "attach a customer-managed policy with only the actions and resources the workload needs.";
  const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";

  it("reports AdministratorAccess attached to a role", async () => {
    const args = resourceArgs(
      aws.iam.RolePolicyAttachment,
      { role: "node", policyArn: ADMIN },
      { name: "admin" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `role policy attachment "admin" attaches the AWS managed policy AdministratorAccess (${ADMIN}), which grants every action on every resource; ${FIX}`,
    ]);
  });

  it("reports PowerUserAccess attached to a user", async () => {
    const arn = "arn:aws:iam::aws:policy/PowerUserAccess";
    const args = resourceArgs(
      aws.iam.UserPolicyAttachment,
      { user: "dev", policyArn: arn },
      { name: "power" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `user policy attachment "power" attaches the AWS managed policy PowerUserAccess (${arn}), which grants every action outside IAM and Organizations; ${FIX}`,
    ]);
  });

  it("reports IAMFullAccess attached to a group", async () => {
    const arn = "arn:aws:iam::aws:policy/IAMFullAccess";
    const args = resourceArgs(
      aws.iam.GroupPolicyAttachment,
      { group: "ops", policyArn: arn },
      { name: "iam" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `group policy attachment "iam" attaches the AWS managed policy IAMFullAccess (${arn}), which grants full control of IAM, enough to make itself an administrator; ${FIX}`,
    ]);
  });

  it("reports AdministratorAccess of another partition through aws.iam.PolicyAttachment", async () => {
    const arn = "arn:aws-us-gov:iam::aws:policy/AdministratorAccess";
    const args = resourceArgs(
      aws.iam.PolicyAttachment,
      { roles: ["node"], policyArn: arn },
      { name: "all" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `policy attachment "all" attaches the AWS managed policy AdministratorAccess (${arn}), which grants every action on every resource; ${FIX}`,
    ]);
  });

  it("reports AdministratorAccess in a role's managedPolicyArns", async () => {
    const args = resourceArgs(
      aws.iam.Role,
      {
        assumeRolePolicy: "{}",
        managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess", ADMIN],
      },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `role "node" managedPolicyArns[1] attaches the AWS managed policy AdministratorAccess (${ADMIN}), which grants every action on every resource; ${FIX}`,
    ]);
  });

  it("reports AdministratorAccess in exclusive role policy attachments", async () => {
    const args = resourceArgs(
      aws.iam.RolePolicyAttachmentsExclusive,
      { roleName: "node", policyArns: [ADMIN] },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `role policy attachments "node" policyArns[0] attaches the AWS managed policy AdministratorAccess (${ADMIN}), which grants every action on every resource; ${FIX}`,
    ]);
  });

  it("passes ReadOnlyAccess", async () => {
    const arn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    const args = resourceArgs(
      aws.iam.RolePolicyAttachment,
      { role: "node", policyArn: arn },
      { name: "ro" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a customer-managed policy that happens to be named AdministratorAccess", async () => {
    const arn = "arn:aws:iam::123456789012:policy/AdministratorAccess";
    const args = resourceArgs(
      aws.iam.RolePolicyAttachment,
      { role: "node", policyArn: arn },
      { name: "own" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes an AWS managed policy whose name only starts with AdministratorAccess", async () => {
    const arn = "arn:aws:iam::aws:policy/AdministratorAccess-Amplify";
    const args = resourceArgs(
      aws.iam.RolePolicyAttachment,
      { role: "node", policyArn: arn },
      { name: "amplify" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a role with no managedPolicyArns set", async () => {
    const args = resourceArgs(aws.iam.Role, { assumeRolePolicy: "{}" }, { name: "node" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("swarm-no-iam-access-keys", () => {
  const policy = swarmNoIamAccessKeys;

  it("reports an access key, naming its user", async () => {
    const args = resourceArgs(aws.iam.AccessKey, { user: "ci" }, { name: "ci-key" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'IAM access key "ci-key" for user "ci" creates a long-lived static credential; remove it and use an IAM role instead (an instance profile on EC2, OIDC federation in CI).',
    ]);
  });

  it("passes an IAM user without access keys", async () => {
    const args = resourceArgs(aws.iam.User, { name: "ci" }, { name: "ci" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

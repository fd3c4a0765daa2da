import * as assert from "node:assert";
import * as aws from "@pulumi/aws";
import { swarmPolicies } from "../../policy/rules/all";
import {
  swarmNoImdsv1,
  swarmNoPublicS3Buckets,
  swarmNoSecretsInUserDataOrTags,
  swarmNoUnencryptedEbs,
  swarmNoUnencryptedS3Buckets,
} from "../../policy/rules/data";
import { credentialAssignments } from "../../policy/rules/secrets";
import {
  swarmNoFullAccessManagedPolicies,
  swarmNoWriteActionsOnAllResources,
} from "../../policy/rules/iam";
import {
  swarmNoSshFromWorldOrUnlistedCidrs,
  swarmNoWorldOpenDockerOrSwarmPorts,
} from "../../policy/rules/ports";
import { swarmNoPublicResourcePolicies } from "../../policy/rules/resource-policies";
import { swarmNoEvenOrOversizedManagerQuorum } from "../../policy/rules/stack";
import {
  ADVISORY,
  resourceArgs,
  runPolicy,
  stackArgs,
  stackResource,
  UNKNOWN_STRING,
  untypedResourceArgs,
} from "../helpers/policy";

/**
 * One failing and one passing case per shape that real programs showed the pack (issue 16).
 */

const TOKEN =
  "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx";
const WORLD_SSH = { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] };

describe("nulls inside lists", () => {
  it("reports the other ingress blocks of a group whose ingress list holds a null", async () => {
    const args = untypedResourceArgs(
      "aws:ec2/securityGroup:SecurityGroup",
      { ingress: [null, { ...WORLD_SSH, cidrBlocks: [null, "0.0.0.0/0"] }] },
      { name: "web" },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSshFromWorldOrUnlistedCidrs, args), [
      'security group "web" ingress[1] allows 22/tcp from 0.0.0.0/0, the whole internet, exposing SSH (port 22); allow SSH only from specific admin CIDRs or a bastion security group.',
    ]);
  });

  it("passes a group whose only ingress entries are null", async () => {
    const args = untypedResourceArgs("aws:ec2/securityGroup:SecurityGroup", {
      ingress: [null, { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [null] }],
    });
    assert.deepStrictEqual(await runPolicy(swarmNoSshFromWorldOrUnlistedCidrs, args), []);
  });

  it("reports an unencrypted device next to a null one in ebsBlockDevices", async () => {
    const args = untypedResourceArgs(
      "aws:ec2/instance:Instance",
      {
        ami: "ami-1",
        rootBlockDevice: { encrypted: true },
        ebsBlockDevices: [null, { deviceName: "/dev/sdf", encrypted: false }],
      },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoUnencryptedEbs, args), [
      'instance "node" ebsBlockDevices[1] (/dev/sdf) encrypted is false, so that volume is not encrypted; set encrypted to true.',
    ]);
  });

  it("reports a join token in a tag next to a null tagSpecification", async () => {
    const args = untypedResourceArgs(
      "aws:ec2/launchTemplate:LaunchTemplate",
      { tagSpecifications: [null, { resourceType: "instance", tags: { join: TOKEN } }] },
      { name: "lt" },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSecretsInUserDataOrTags, args), [
      `launch template "lt" tagSpecifications[1].tags["join"] contains a Swarm join token (SWMTKN-…), which anyone who can read the resource's configuration can see; pass join tokens to \`docker swarm join\` over SSH stdin at join time instead.`,
    ]);
  });
});

describe("values a preview does not know yet", () => {
  it("reports unknown user data as advisory and still reports the known secret in its tags", async () => {
    const args = untypedResourceArgs(
      "aws:ec2/instance:Instance",
      { ami: "ami-1", userData: UNKNOWN_STRING, tags: { join: TOKEN } },
      { name: "node", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSecretsInUserDataOrTags, args), [
      `${ADVISORY}instance "node" userData is not known until apply, so whether it holds a secret cannot be checked until it is known; the check runs again on pulumi up.`,
      `instance "node" tags["join"] contains a Swarm join token (SWMTKN-…), which anyone who can read the resource's configuration can see; pass join tokens to \`docker swarm join\` over SSH stdin at join time instead.`,
    ]);
  });

  it("reports an unknown httpTokens as advisory, never as IMDSv1", async () => {
    const args = untypedResourceArgs(
      "aws:ec2/launchTemplate:LaunchTemplate",
      { metadataOptions: { httpTokens: UNKNOWN_STRING } },
      { name: "lt", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoImdsv1, args), [
      `${ADVISORY}launch template "lt" metadataOptions is not known until apply, so whether IMDSv1 is allowed cannot be checked until it is known; the check runs again on pulumi up.`,
    ]);
  });

  it("reports an unknown policy document as advisory", async () => {
    const args = untypedResourceArgs(
      "aws:iam/rolePolicy:RolePolicy",
      { role: "r", policy: UNKNOWN_STRING },
      { name: "p", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoWriteActionsOnAllResources, args), [
      `${ADVISORY}role policy "p" is not known until apply, so its statements cannot be checked until it is known; the check runs again on pulumi up.`,
    ]);
  });
});

describe("resource types the pack reads", () => {
  it("reports a launch configuration's IMDSv1, unencrypted root volume and join token", async () => {
    const args = resourceArgs(
      aws.ec2.LaunchConfiguration,
      {
        imageId: "ami-1",
        instanceType: "t3.micro",
        metadataOptions: { httpTokens: "optional" },
        rootBlockDevice: { encrypted: false },
        userData: `#!/bin/sh\ndocker swarm join --token ${TOKEN} 10.0.0.10:2377\n`,
      },
      { name: "workers" },
    );
    const found = [
      ...(await runPolicy(swarmNoImdsv1, args)),
      ...(await runPolicy(swarmNoUnencryptedEbs, args)),
      ...(await runPolicy(swarmNoSecretsInUserDataOrTags, args)),
    ];
    assert.deepStrictEqual(found, [
      `launch configuration "workers" metadataOptions.httpTokens is "optional", which allows IMDSv1, so a request forgery on the host can read the instance role's credentials; set metadataOptions.httpTokens to "required".`,
      `launch configuration "workers" rootBlockDevice.encrypted is false, so the root volume is not encrypted; set rootBlockDevice.encrypted to true.`,
      `launch configuration "workers" userData contains a Swarm join token (SWMTKN-…), which anyone who can read the resource's configuration can see; pass join tokens to \`docker swarm join\` over SSH stdin at join time instead.`,
    ]);
  });

  it("passes a launch configuration with IMDSv2, encrypted volumes and clean user data", async () => {
    const args = resourceArgs(aws.ec2.LaunchConfiguration, {
      imageId: "ami-1",
      instanceType: "t3.micro",
      metadataOptions: { httpTokens: "required" },
      rootBlockDevice: { encrypted: true },
      userData: "#!/bin/sh\nsystemctl enable --now docker\n",
    });
    for (const policy of [swarmNoImdsv1, swarmNoUnencryptedEbs, swarmNoSecretsInUserDataOrTags]) {
      assert.deepStrictEqual(await runPolicy(policy, args), [], policy.name);
    }
  });

  it("reports a spot instance request with IMDSv1", async () => {
    const args = resourceArgs(
      aws.ec2.SpotInstanceRequest,
      { ami: "ami-1", metadataOptions: { httpTokens: "optional" } },
      { name: "spot" },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoImdsv1, args), [
      `spot instance request "spot" metadataOptions.httpTokens is "optional", which allows IMDSv1, so a request forgery on the host can read the instance role's credentials; set metadataOptions.httpTokens to "required".`,
    ]);
  });

  it("passes a spot instance request with IMDSv2", async () => {
    const args = resourceArgs(aws.ec2.SpotInstanceRequest, {
      ami: "ami-1",
      metadataOptions: { httpTokens: "required" },
    });
    assert.deepStrictEqual(await runPolicy(swarmNoImdsv1, args), []);
  });

  it("reports SSH open to the world on a default security group", async () => {
    const args = resourceArgs(
      aws.ec2.DefaultSecurityGroup,
      { vpcId: "vpc-1", ingress: [WORLD_SSH] },
      { name: "default" },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSshFromWorldOrUnlistedCidrs, args), [
      'default security group "default" ingress[0] allows 22/tcp from 0.0.0.0/0, the whole internet, exposing SSH (port 22); allow SSH only from specific admin CIDRs or a bastion security group.',
    ]);
  });

  it("passes a default security group that admits only itself", async () => {
    const args = resourceArgs(aws.ec2.DefaultSecurityGroup, {
      vpcId: "vpc-1",
      ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }],
    });
    assert.deepStrictEqual(await runPolicy(swarmNoWorldOpenDockerOrSwarmPorts, args), []);
  });

  it("reports an EKS node group with an SSH key and no source security groups", async () => {
    const args = resourceArgs(
      aws.eks.NodeGroup,
      {
        clusterName: "c",
        nodeRoleArn: "arn:aws:iam::1:role/n",
        subnetIds: ["subnet-1"],
        scalingConfig: { desiredSize: 1, maxSize: 1, minSize: 1 },
        remoteAccess: { ec2SshKey: "ops" },
      },
      { name: "ng" },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSshFromWorldOrUnlistedCidrs, args), [
      'EKS node group "ng" remoteAccess (ec2SshKey set, no sourceSecurityGroupIds, so EKS opens SSH to the internet) allows 22/tcp from 0.0.0.0/0, the whole internet, exposing SSH (port 22); allow SSH only from specific admin CIDRs or a bastion security group.',
    ]);
  });

  it("passes an EKS node group whose SSH comes from a bastion security group", async () => {
    const args = resourceArgs(aws.eks.NodeGroup, {
      clusterName: "c",
      nodeRoleArn: "arn:aws:iam::1:role/n",
      subnetIds: ["subnet-1"],
      scalingConfig: { desiredSize: 1, maxSize: 1, minSize: 1 },
      remoteAccess: { ec2SshKey: "ops", sourceSecurityGroupIds: ["sg-bastion"] },
    });
    assert.deepStrictEqual(await runPolicy(swarmNoSshFromWorldOrUnlistedCidrs, args), []);
  });
});

describe("Auto Scaling group tags", () => {
  const group = (value: string) =>
    resourceArgs(
      aws.autoscaling.Group,
      { maxSize: 1, minSize: 1, tags: [{ key: "swarm-join", value, propagateAtLaunch: true }] },
      { name: "asg" },
    );

  it("reports a join token in a { key, value } tag", async () => {
    assert.deepStrictEqual(await runPolicy(swarmNoSecretsInUserDataOrTags, group(TOKEN)), [
      `auto scaling group "asg" tags[0]["swarm-join"] contains a Swarm join token (SWMTKN-…), which anyone who can read the resource's configuration can see; pass join tokens to \`docker swarm join\` over SSH stdin at join time instead.`,
    ]);
  });

  it("passes ordinary tags", async () => {
    assert.deepStrictEqual(await runPolicy(swarmNoSecretsInUserDataOrTags, group("workers")), []);
  });
});

describe("credential assignments in user data", () => {
  it("finds common plain-text credential assignments, naming them but never their values", () => {
    const script = [
      "mysqladmin -u root password 'S3cret!'",
      'mysql -uroot -phunter2 -e "select 1"',
      "export MYSQL_ROOT_PASSWORD=hunter2",
      "DB_PASS='x9'",
      "app --password=abc123 --api-key abc",
      "  password: changeme",
    ].join("\n");
    assert.deepStrictEqual(credentialAssignments(script), [
      "MYSQL_ROOT_PASSWORD",
      "DB_PASS",
      "--password",
      "--api-key",
      "password",
      "-p",
    ]);
    assert.deepStrictEqual(
      credentialAssignments("users:\n  - name: ops\n    passwd: $6$rounds"),
      [],
    );
    assert.deepStrictEqual(credentialAssignments("chpasswd:\n  password: changeme"), ["password"]);
  });

  it("leaves ordinary scripts alone", () => {
    const script = [
      'TOKEN=$(curl -s -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")',
      'DB_PASSWORD="$(aws ssm get-parameter --name /db/pw --with-decryption --query Parameter.Value --output text)"',
      'echo "$DB_PASSWORD" | docker login --username AWS --password-stdin 1.dkr.ecr.us-east-1.amazonaws.com',
      "PASSWORD_FILE=/run/secrets/db",
      "TOKEN_TTL=21600",
      "read -r -s PASSWORD",
      "passwd -l ubuntu",
      'mysql -u app -p"$DB_PASSWORD" app',
      "ssh_pwauth: false",
      "docker swarm join --token ${WORKER_TOKEN} 10.0.0.10:2377",
    ].join("\n");
    assert.deepStrictEqual(credentialAssignments(script), []);
  });

  it("reports a password set in an instance's user data", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { ami: "ami-1", userData: "#!/bin/sh\nmysqladmin -u root password 'S3cret!'\n" },
      { name: "db" },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSecretsInUserDataOrTags, args), [
      `instance "db" userData sets password to a literal value, a credential in plain text that anyone who can read the resource's configuration can see; fetch the value at boot from Secrets Manager or SSM Parameter Store (SecureString) instead and change the exposed one.`,
    ]);
  });
});

describe("IAM shapes", () => {
  const attach = (policyArn: string, config?: object) =>
    resourceArgs(
      aws.iam.RolePolicyAttachment,
      { role: "node", policyArn },
      { name: "node-ec2", config },
    );

  it("reports an AWS managed *FullAccess policy", async () => {
    const arn = "arn:aws:iam::aws:policy/AmazonEC2FullAccess";
    assert.deepStrictEqual(await runPolicy(swarmNoFullAccessManagedPolicies, attach(arn)), [
      `role policy attachment "node-ec2" attaches the AWS managed policy AmazonEC2FullAccess (${arn}), which grants every action of its service on every resource; attach a customer-managed policy with the actions and resource ARNs the workload needs, or list "AmazonEC2FullAccess" in this rule's allowedManagedPolicies config if it is a deliberate exception.`,
    ]);
  });

  it("passes a *FullAccess policy listed in allowedManagedPolicies, and narrow managed policies", async () => {
    const arn = "arn:aws:iam::aws:policy/service-role/AmazonECS_FullAccess";
    const config = { allowedManagedPolicies: ["AmazonECS_FullAccess"] };
    assert.deepStrictEqual(
      await runPolicy(swarmNoFullAccessManagedPolicies, attach(arn, config)),
      [],
    );
    const core = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
    assert.deepStrictEqual(await runPolicy(swarmNoFullAccessManagedPolicies, attach(core)), []);
  });

  const PUBLIC = JSON.stringify({
    Statement: [{ Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*" }],
  });
  const SCOPED = JSON.stringify({
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: "*",
      },
      {
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: "sqs:SendMessage",
        Resource: "*",
        Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:sns:us-east-1:1:t" } },
      },
    ],
  });
  const resourcePolicies: [string, Record<string, unknown>][] = [
    ["aws:ecr/repositoryPolicy:RepositoryPolicy", { repository: "r" }],
    ["aws:sqs/queuePolicy:QueuePolicy", { queueUrl: "q" }],
    ["aws:sqs/queue:Queue", {}],
    ["aws:sns/topicPolicy:TopicPolicy", { arn: "t" }],
    ["aws:kms/key:Key", {}],
    ["aws:s3/bucketPolicy:BucketPolicy", { bucket: "b" }],
  ];
  for (const [type, props] of resourcePolicies) {
    it(`reports Principal "*" without a Condition in ${type}, and passes scoped ones`, async () => {
      const bad = untypedResourceArgs(type, { ...props, policy: PUBLIC }, { name: "p" });
      const found = await runPolicy(swarmNoPublicResourcePolicies, bad);
      assert.strictEqual(found.length, 1);
      assert.match(
        found[0],
        /statement 1 allows "sqs:SendMessage" to Principal "\*" with no Condition/,
      );
      const good = untypedResourceArgs(type, { ...props, policy: SCOPED }, { name: "p" });
      assert.deepStrictEqual(await runPolicy(swarmNoPublicResourcePolicies, good), []);
    });
  }

  const rolePolicy = (...Action: string[]) =>
    resourceArgs(
      aws.iam.RolePolicy,
      {
        role: "node",
        policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action, Resource: "*" }] }),
      },
      { name: "agent" },
    );

  it('passes actions AWS accepts only on Resource "*"', async () => {
    const args = rolePolicy(
      "ssmmessages:CreateControlChannel",
      "ssmmessages:OpenDataChannel",
      "cloudwatch:PutMetricData",
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "ecr:GetAuthorizationToken",
    );
    assert.deepStrictEqual(await runPolicy(swarmNoWriteActionsOnAllResources, args), []);
  });

  it('still reports a wildcard over them and a scopable write, naming what must use "*"', async () => {
    const args = rolePolicy("xray:Put*", "s3:PutObject");
    assert.deepStrictEqual(await runPolicy(swarmNoWriteActionsOnAllResources, args), [
      `role policy "agent" statement 1 allows write actions "xray:Put*", "s3:PutObject" (of these, only "xray:PutTraceSegments", "xray:PutTelemetryRecords" must use "*": list them by name instead of the wildcard) on every resource ("*"); scope Resource to the ARNs those actions need (only Describe*, List* and Get* may use "*").`,
    ]);
  });
});

describe("S3 defaults", () => {
  const bucket = (props: Record<string, unknown>) =>
    stackResource(aws.s3.Bucket, props, { name: "site", outputs: { id: "site-1" } });

  it("passes a bucket with inline serverSideEncryptionConfiguration", async () => {
    const b = bucket({
      serverSideEncryptionConfiguration: {
        rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } },
      },
    });
    assert.deepStrictEqual(await runPolicy(swarmNoUnencryptedS3Buckets, stackArgs([b])), []);
  });

  it("reports inline serverSideEncryptionConfiguration without an algorithm as mandatory", async () => {
    const b = bucket({ serverSideEncryptionConfiguration: { rule: {} } });
    assert.deepStrictEqual(await runPolicy(swarmNoUnencryptedS3Buckets, stackArgs([b])), [
      'S3 bucket "site" has an inline serverSideEncryptionConfiguration, but none of its rules sets applyServerSideEncryptionByDefault.sseAlgorithm; add a rule with sseAlgorithm "aws:kms" or "AES256".',
    ]);
  });

  it("reports a public canned ACL without a public access block as mandatory", async () => {
    const found = await runPolicy(
      swarmNoPublicS3Buckets,
      stackArgs([bucket({ acl: "public-read" })]),
    );
    assert.strictEqual(found.length, 1);
    assert.ok(!found[0].startsWith(ADVISORY), found[0]);
  });

  it("reports a bucket that only leaves both unset as advisory", async () => {
    const args = stackArgs([bucket({})]);
    const found = [
      ...(await runPolicy(swarmNoPublicS3Buckets, args)),
      ...(await runPolicy(swarmNoUnencryptedS3Buckets, args)),
    ];
    assert.strictEqual(found.length, 2);
    assert.ok(
      found.every((m) => m.startsWith(ADVISORY)),
      found.join("\n"),
    );
  });
});

describe("the quorum rule on other programs", () => {
  it("says plainly that it counts only aws-swarm's tagged managers", () => {
    assert.match(
      swarmNoEvenOrOversizedManagerQuorum.description,
      /^For clusters built by aws-swarm's components only/,
    );
  });

  it("counts no manager in an untagged program", async () => {
    const managers = [1, 2].map((i) =>
      stackResource(
        aws.ec2.Instance,
        { ami: "ami-1", tags: { Name: `manager-${i}` } },
        { name: `m${i}` },
      ),
    );
    assert.deepStrictEqual(
      await runPolicy(swarmNoEvenOrOversizedManagerQuorum, stackArgs(managers)),
      [],
    );
  });
});

describe("every rule", () => {
  it("has a description and a kebab-case name", () => {
    for (const p of swarmPolicies) assert.match(p.name, /^swarm-[a-z0-9-]+$/);
  });
});

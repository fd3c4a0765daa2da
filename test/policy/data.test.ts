import * as assert from "node:assert";
import * as aws from "@pulumi/aws";
import { gzipSync } from "zlib";
import {
  swarmNoImdsv1,
  swarmNoPartialS3PublicAccessBlock,
  swarmNoPublicS3Buckets,
  swarmNoSecretsInUserDataOrTags,
  swarmNoUnencryptedEbs,
  swarmNoUnencryptedS3Buckets,
} from "../../policy/rules/data";
import {
  ADVISORY,
  resourceArgs,
  runPolicy,
  runWithUrns,
  stackArgs,
  stackResource,
  UNKNOWN_STRING,
  untypedStackResource,
} from "../helpers/policy";
import type { PolicyResource } from "../../policy/rules/all";

const ALL_FOUR = "blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets";
const CLOSED = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
};
type EncryptionRule = {
  applyServerSideEncryptionByDefault?: { sseAlgorithm: string };
  bucketKeyEnabled?: boolean;
};
const AES: EncryptionRule[] = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }];

/** An autonamed bucket "logs" as the stack sees it after creation: name and id in its outputs. */
function bucket(name = "logs"): PolicyResource {
  return stackResource(
    aws.s3.Bucket,
    { bucketPrefix: `${name}-` },
    {
      name,
      outputs: { id: `${name}-8f3a`, bucket: `${name}-8f3a` },
    },
  );
}

/** A public access block whose `bucket` property was wired from `target.id`. */
function blockFor(
  target: PolicyResource,
  settings: Partial<typeof CLOSED>,
  name = `${target.name}-pab`,
) {
  return stackResource(
    aws.s3.BucketPublicAccessBlock,
    { bucket: `${target.name}-8f3a`, ...settings },
    {
      name,
      propertyDependencies: { bucket: [target] },
    },
  );
}

/** An encryption configuration whose `bucket` property was wired from `target.id`. */
function encryptionFor(
  target: PolicyResource,
  rules: EncryptionRule[] = AES,
  name = `${target.name}-sse`,
) {
  return stackResource(
    aws.s3.BucketServerSideEncryptionConfiguration,
    { bucket: `${target.name}-8f3a`, rules },
    {
      name,
      propertyDependencies: { bucket: [target] },
    },
  );
}

describe("swarm-no-public-s3-buckets", () => {
  const policy = swarmNoPublicS3Buckets;

  it("passes a bucket whose linked public access block sets all four settings", async () => {
    const logs = bucket();
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, blockFor(logs, CLOSED)])), []);
  });

  it("reports a bucket with no public access block, against the bucket's URN", async () => {
    const logs = bucket();
    assert.deepStrictEqual(await runWithUrns(policy, stackArgs([logs])), [
      {
        message: `S3 bucket "logs" has no aws.s3.BucketPublicAccessBlock; AWS blocks public access on new buckets by default since April 2023, but an account or later change can undo that; add one for this bucket with ${ALL_FOUR} all true to keep it in code.`,
        urn: logs.urn,
        advisory: true,
      },
    ]);
  });

  it("reports a bucket whose public access block leaves settings off or unset", async () => {
    const logs = bucket();
    const block = blockFor(logs, {
      blockPublicAcls: true,
      blockPublicPolicy: false,
      ignorePublicAcls: true,
    });
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, block])), [
      `S3 bucket "logs" has public access block "logs-pab", but it leaves blockPublicPolicy false, restrictPublicBuckets unset; set ${ALL_FOUR} all to true.`,
    ]);
  });

  it("reports the bucket a public access block of another bucket does not cover", async () => {
    const logs = bucket();
    const data = bucket("data");
    assert.deepStrictEqual(
      await runPolicy(policy, stackArgs([logs, data, blockFor(data, CLOSED)])),
      [
        `${ADVISORY}S3 bucket "logs" has no aws.s3.BucketPublicAccessBlock; AWS blocks public access on new buckets by default since April 2023, but an account or later change can undo that; add one for this bucket with ${ALL_FOUR} all true to keep it in code.`,
      ],
    );
  });

  it("matches a public access block that names the bucket literally", async () => {
    const logs = stackResource(
      aws.s3.Bucket,
      { bucket: "acme-logs" },
      { name: "logs", outputs: { id: "acme-logs" } },
    );
    const block = stackResource(
      aws.s3.BucketPublicAccessBlock,
      { bucket: "acme-logs", ...CLOSED },
      { name: "pab" },
    );
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, block])), []);
  });

  it("matches a public access block whose bucket name came from a non-bucket resource", async () => {
    const logs = stackResource(
      aws.s3.Bucket,
      { bucket: "logs-k3x9" },
      { name: "logs", outputs: { id: "logs-k3x9" } },
    );
    const suffix = untypedStackResource(
      "random:index/randomString:RandomString",
      { length: 4 },
      {
        name: "suffix",
        outputs: { result: "k3x9" },
      },
    );
    const block = stackResource(
      aws.s3.BucketPublicAccessBlock,
      { bucket: "logs-k3x9", ...CLOSED },
      { name: "pab", propertyDependencies: { bucket: [suffix] } },
    );
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, suffix, block])), []);
  });

  it("reports an aws.s3.BucketV2 with no public access block", async () => {
    const legacy = stackResource(
      aws.s3.BucketV2,
      { bucket: "legacy" },
      { name: "legacy", outputs: { id: "legacy" } },
    );
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([legacy])), [
      `${ADVISORY}S3 bucket "legacy" has no aws.s3.BucketPublicAccessBlock; AWS blocks public access on new buckets by default since April 2023, but an account or later change can undo that; add one for this bucket with ${ALL_FOUR} all true to keep it in code.`,
    ]);
  });

  it("passes a stack without buckets", async () => {
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([])), []);
  });
});

describe("swarm-no-unencrypted-s3-buckets", () => {
  const policy = swarmNoUnencryptedS3Buckets;

  it("passes a bucket with a linked encryption configuration", async () => {
    const logs = bucket();
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, encryptionFor(logs)])), []);
  });

  it("passes a bucket encrypted by the V2 configuration resource with aws:kms", async () => {
    const logs = bucket();
    const sse = stackResource(
      aws.s3.BucketServerSideEncryptionConfigurationV2,
      {
        bucket: "logs-8f3a",
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
      },
      { name: "sse" },
    );
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, sse])), []);
  });

  it("reports a bucket with no encryption configuration", async () => {
    const logs = bucket();
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, blockFor(logs, CLOSED)])), [
      `${ADVISORY}S3 bucket "logs" has no server-side encryption configuration; AWS encrypts new buckets with SSE-S3 by default since January 2023, so this is advisory; add an aws.s3.BucketServerSideEncryptionConfiguration to choose "aws:kms" or "AES256" in code.`,
    ]);
  });

  it("reports a bucket whose encryption configuration sets no default algorithm", async () => {
    const logs = bucket();
    const sse = encryptionFor(logs, [{ bucketKeyEnabled: true }]);
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([logs, sse])), [
      'S3 bucket "logs" has encryption configuration "logs-sse", but none of its rules sets applyServerSideEncryptionByDefault.sseAlgorithm; add a rule with sseAlgorithm "aws:kms" or "AES256".',
    ]);
  });
});

describe("swarm-no-partial-s3-public-access-block", () => {
  const policy = swarmNoPartialS3PublicAccessBlock;

  it("passes a public access block with all four settings true", async () => {
    const args = resourceArgs(
      aws.s3.BucketPublicAccessBlock,
      { bucket: "logs", ...CLOSED },
      { name: "pab" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports each setting that is false", async () => {
    const args = resourceArgs(
      aws.s3.BucketPublicAccessBlock,
      { bucket: "logs", ...CLOSED, ignorePublicAcls: false, restrictPublicBuckets: false },
      { name: "pab" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `public access block "pab" leaves ignorePublicAcls false, restrictPublicBuckets false; set ${ALL_FOUR} all to true.`,
    ]);
  });

  it("reports settings left unset", async () => {
    const args = resourceArgs(aws.s3.BucketPublicAccessBlock, { bucket: "logs" }, { name: "pab" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `public access block "pab" leaves blockPublicAcls unset, blockPublicPolicy unset, ignorePublicAcls unset, restrictPublicBuckets unset; set ${ALL_FOUR} all to true.`,
    ]);
  });
});

describe("swarm-no-imdsv1", () => {
  const policy = swarmNoImdsv1;
  const TAIL =
    'which allows IMDSv1, so a request forgery on the host can read the instance role\'s credentials; set metadataOptions.httpTokens to "required".';

  it("passes an instance that requires IMDSv2", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { metadataOptions: { httpTokens: "required" } },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports an instance with httpTokens optional", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { metadataOptions: { httpTokens: "optional" } },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `instance "node" metadataOptions.httpTokens is "optional", ${TAIL}`,
    ]);
  });

  it("reports an instance with no metadataOptions set", async () => {
    const args = resourceArgs(aws.ec2.Instance, { ami: "ami-1" }, { name: "node" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `${ADVISORY}instance "node" metadataOptions.httpTokens is unset, so the AMI's default applies: IMDSv2-only for AMIs marked ImdsSupport v2.0 (every Amazon Linux 2023 AMI), IMDSv1 allowed for most others; set metadataOptions.httpTokens to "required" to be sure.`,
    ]);
  });

  it("passes an instance with the metadata endpoint disabled", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { metadataOptions: { httpEndpoint: "disabled" } },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("leaves an instance launched from a template to the template's check", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { launchTemplate: { id: "lt-1" } },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a launch template that requires IMDSv2", async () => {
    const args = resourceArgs(
      aws.ec2.LaunchTemplate,
      { metadataOptions: { httpTokens: "required" } },
      { name: "lt" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a launch template with no metadataOptions set", async () => {
    const args = resourceArgs(aws.ec2.LaunchTemplate, {}, { name: "lt" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `${ADVISORY}launch template "lt" metadataOptions.httpTokens is unset, so the AMI's default applies: IMDSv2-only for AMIs marked ImdsSupport v2.0 (every Amazon Linux 2023 AMI), IMDSv1 allowed for most others; set metadataOptions.httpTokens to "required" to be sure.`,
    ]);
  });
});

describe("swarm-no-unencrypted-ebs", () => {
  const policy = swarmNoUnencryptedEbs;

  it("passes an instance whose root and data volumes are encrypted", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      {
        rootBlockDevice: { encrypted: true },
        ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }],
      },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports an instance with no rootBlockDevice set", async () => {
    const args = resourceArgs(aws.ec2.Instance, { ami: "ami-1" }, { name: "node" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'instance "node" rootBlockDevice.encrypted is unset, so the root volume is not encrypted; set rootBlockDevice.encrypted to true.',
    ]);
  });

  it("reports an unencrypted EBS block device by index and device name", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      {
        rootBlockDevice: { encrypted: true },
        ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }],
      },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'instance "node" ebsBlockDevices[0] (/dev/sdf) encrypted is false, so that volume is not encrypted; set encrypted to true.',
    ]);
  });

  it("passes a launch template whose EBS mappings are encrypted", async () => {
    const args = resourceArgs(
      aws.ec2.LaunchTemplate,
      { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }] },
      { name: "lt" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a launch template mapping with ebs.encrypted false", async () => {
    const args = resourceArgs(
      aws.ec2.LaunchTemplate,
      {
        blockDeviceMappings: [
          { deviceName: "/dev/sdb", virtualName: "ephemeral0" },
          { deviceName: "/dev/xvda", ebs: { encrypted: "false" } },
        ],
      },
      { name: "lt" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'launch template "lt" blockDeviceMappings[1] (/dev/xvda) ebs.encrypted is "false", so that volume is not encrypted; set ebs.encrypted to "true".',
    ]);
  });

  it("reports a launch template with no EBS mapping", async () => {
    const args = resourceArgs(aws.ec2.LaunchTemplate, {}, { name: "lt" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'launch template "lt" has no blockDeviceMappings with ebs, so its root volume is encrypted only if the AMI\'s snapshot is; add a mapping for the root device with ebs.encrypted "true".',
    ]);
  });

  it("reports an EBS volume with encrypted unset", async () => {
    const args = resourceArgs(
      aws.ebs.Volume,
      { availabilityZone: "us-east-1a", size: 10 },
      { name: "data" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'EBS volume "data" encrypted is unset; set encrypted to true.',
    ]);
  });

  it("passes an encrypted EBS volume", async () => {
    const args = resourceArgs(
      aws.ebs.Volume,
      { availabilityZone: "us-east-1a", encrypted: true },
      { name: "data" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("swarm-no-secrets-in-user-data-or-tags", () => {
  const policy = swarmNoSecretsInUserDataOrTags;
  const SEEN = "which anyone who can read the resource's configuration can see";
  const TOKEN =
    "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx";
  const PRIVATE_KEY =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
  const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
  const TOKEN_FIX = "pass join tokens to `docker swarm join` over SSH stdin at join time instead.";
  const KEY_FIX =
    "fetch it at boot from Secrets Manager or SSM Parameter Store (SecureString) instead.";
  const AWS_FIX = "use the instance role instead of static keys, and rotate the exposed key.";

  it("reports a Swarm join token in userData", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { userData: `#!/bin/sh\ndocker swarm join --token ${TOKEN} 10.0.0.4:2377\n` },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `instance "node" userData contains a Swarm join token (SWMTKN-…), ${SEEN}; ${TOKEN_FIX}`,
    ]);
  });

  it("reports a private key in base64-encoded userDataBase64", async () => {
    const userDataBase64 = Buffer.from(
      `#!/bin/sh\ncat > /root/.ssh/id <<EOF\n${PRIVATE_KEY}EOF\n`,
    ).toString("base64");
    const args = resourceArgs(aws.ec2.Instance, { userDataBase64 }, { name: "node" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `instance "node" userDataBase64 (base64-decoded) contains a private key (-----BEGIN … PRIVATE KEY-----), ${SEEN}; ${KEY_FIX}`,
    ]);
  });

  it("reports an AWS access key ID in gzip-compressed launch template user data", async () => {
    const userData = gzipSync(
      Buffer.from(`#!/bin/sh\nexport AWS_ACCESS_KEY_ID=${ACCESS_KEY}\n`),
    ).toString("base64");
    const args = resourceArgs(aws.ec2.LaunchTemplate, { userData }, { name: "lt" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `launch template "lt" userData (base64-decoded) contains an AWS access key ID (AKIA…/ASIA…), ${SEEN}; ${AWS_FIX}`,
    ]);
  });

  it("reports every kind of secret found in one user data script", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { userData: `${TOKEN}\n${PRIVATE_KEY}${ACCESS_KEY}\n` },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `instance "node" userData contains a Swarm join token (SWMTKN-…), ${SEEN}; ${TOKEN_FIX}`,
      `instance "node" userData contains a private key (-----BEGIN … PRIVATE KEY-----), ${SEEN}; ${KEY_FIX}`,
      `instance "node" userData contains an AWS access key ID (AKIA…/ASIA…), ${SEEN}; ${AWS_FIX}`,
    ]);
  });

  it("passes user data that installs Docker", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { userData: "#!/bin/sh\ndnf install -y docker\nsystemctl enable --now docker\n" },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes an instance with no user data or tags set", async () => {
    const args = resourceArgs(aws.ec2.Instance, { ami: "ami-1" }, { name: "node" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a join token in an instance tag value", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { tags: { Name: "node", "swarm:token": TOKEN } },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `instance "node" tags["swarm:token"] contains a Swarm join token (SWMTKN-…), ${SEEN}; ${TOKEN_FIX}`,
    ]);
  });

  it("reports an access key ID in tagsAll of any resource type", async () => {
    const args = resourceArgs(
      aws.s3.BucketV2,
      { tagsAll: { owner: ACCESS_KEY } },
      { name: "logs" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `S3 bucket "logs" tagsAll["owner"] contains an AWS access key ID (AKIA…/ASIA…), ${SEEN}; ${AWS_FIX}`,
    ]);
  });

  it("reports a secret used as a tag key without repeating the key", async () => {
    const args = resourceArgs(aws.ec2.SecurityGroup, { tags: { [TOKEN]: "1" } }, { name: "web" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group "web" tags (a tag key) contains a Swarm join token (SWMTKN-…), ${SEEN}; ${TOKEN_FIX}`,
    ]);
  });

  it("reports a join token in an instance's volumeTags", async () => {
    const args = resourceArgs(aws.ec2.Instance, { volumeTags: { token: TOKEN } }, { name: "node" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `instance "node" volumeTags["token"] contains a Swarm join token (SWMTKN-…), ${SEEN}; ${TOKEN_FIX}`,
    ]);
  });

  it("reports a join token in a launch template's tagSpecifications", async () => {
    const args = resourceArgs(
      aws.ec2.LaunchTemplate,
      { tagSpecifications: [{ resourceType: "instance", tags: { token: TOKEN } }] },
      { name: "lt" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `launch template "lt" tagSpecifications[0].tags["token"] contains a Swarm join token (SWMTKN-…), ${SEEN}; ${TOKEN_FIX}`,
    ]);
  });

  it("passes ordinary tags", async () => {
    const args = resourceArgs(
      aws.ec2.Instance,
      { tags: { Name: "node", "swarm:role": "manager" } },
      { name: "node" },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("swarm-no-secrets-in-user-data-or-tags during a preview", () => {
  it("checks tags while tagsAll is known only after apply", async () => {
    const args = resourceArgs(
      aws.s3.BucketV2,
      { tags: { owner: "AKIAIOSFODNN7EXAMPLE" }, tagsAll: { owner: UNKNOWN_STRING } },
      { name: "logs", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSecretsInUserDataOrTags, args), [
      `S3 bucket "logs" tags["owner"] contains an AWS access key ID (AKIA…/ASIA…), which anyone who can read the resource's configuration can see; use the instance role instead of static keys, and rotate the exposed key.`,
    ]);
  });
});

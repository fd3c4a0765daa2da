import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
  bucketPrefixFor,
  Registry,
  RegistryArgs,
  registryPolicyDocument,
} from "../../components/registry";
import { created, recordedUnder, registeredOutputs, settle, valueOf } from "../helpers/mocks";

type Recorded = pulumi.runtime.MockResourceArgs;
const roles = { managers: "mgr-role", workers: "wkr-role" };

async function build(name: string, args: Partial<RegistryArgs> = {}) {
  const registry = new Registry(name, { roles, ...args });
  const recorded = await recordedUnder(name);
  const one = (type: string): Recorded => {
    const found = recorded.filter((r) => r.type === `aws:${type}`);
    assert.strictEqual(found.length, 1, type);
    return found[0];
  };
  return { registry, recorded, one };
}

describe("Registry", () => {
  beforeEach(() => {
    created.length = 0;
  });

  it("grants exactly the S3 actions of the DESIGN's IAM table", async () => {
    const { one } = await build("reg-iam");
    const arn = "arn:aws:s3:::reg-iam-bucket";
    assert.deepStrictEqual(JSON.parse(one("iam/policy:Policy").inputs.policy), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "RegistryBucket",
          Effect: "Allow",
          Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
          Resource: arn,
        },
        {
          Sid: "RegistryObjects",
          Effect: "Allow",
          Action: [
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
          ],
          Resource: `${arn}/*`,
        },
      ],
    });
  });

  it("uses no wildcard action or resource", () => {
    const text = JSON.stringify(registryPolicyDocument("arn:aws:s3:::b"));
    assert.doesNotMatch(text, /"\*"|s3:\*|"Resource":"arn:aws:s3:::\*/);
  });

  it("attaches the policy to each role, named by its key", async () => {
    const { recorded } = await build("reg-attach");
    const attachments = recorded.filter(
      (r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    );
    assert.deepStrictEqual(
      attachments.map((a) => [a.name, a.inputs.role, a.inputs.policyArn]).sort(),
      [
        ["reg-attach-managers-access", "mgr-role", "arn:aws:mock:::reg-attach-access"],
        ["reg-attach-workers-access", "wkr-role", "arn:aws:mock:::reg-attach-access"],
      ],
    );
    assert.deepStrictEqual(recorded.filter((r) => /accessKey|userPolicy/.test(r.type)), []);
  });

  it("keeps the bucket private: all four public-access blocks", async () => {
    const { one } = await build("reg-pab");
    const { bucket, ...flags } = one("s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    assert.strictEqual(bucket, "reg-pab-bucket-id");
    assert.deepStrictEqual(flags, {
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it("encrypts, versions, enforces bucket ownership and aborts stale uploads", async () => {
    const { one } = await build("reg-data");
    const sse = "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
    assert.deepStrictEqual(one(sse).inputs, {
      bucket: "reg-data-bucket-id",
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    assert.deepStrictEqual(one("s3/bucketVersioning:BucketVersioning").inputs, {
      bucket: "reg-data-bucket-id",
      versioningConfiguration: { status: "Enabled" },
    });
    const lifecycle = "s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
    assert.deepStrictEqual(one(lifecycle).inputs, {
      bucket: "reg-data-bucket-id",
      rules: [
        {
          id: "abort-incomplete-multipart-uploads",
          status: "Enabled",
          filter: { prefix: "" },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    });
    assert.deepStrictEqual(one("s3/bucketOwnershipControls:BucketOwnershipControls").inputs, {
      bucket: "reg-data-bucket-id",
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
  });

  it("names the bucket by prefix and keeps it unless forceDestroy is set", async () => {
    const kept = (await build("reg-Keep_Me")).one("s3/bucket:Bucket").inputs;
    assert.deepStrictEqual(
      [kept.bucketPrefix, kept.forceDestroy, kept.tags],
      ["reg-keep-me-", false, { Name: "reg-Keep_Me-bucket" }],
    );
    const dev = (await build("reg-dev", { forceDestroy: true })).one("s3/bucket:Bucket").inputs;
    assert.strictEqual(dev.forceDestroy, true);
    assert.strictEqual(bucketPrefixFor("x".repeat(80)).length, 37);
  });

  it("exposes bucket, region, image, address and policy", async () => {
    const { registry } = await build("reg-out", { image: "registry:2.8.3" });
    const { bucketName, bucketArn, region, image, policyArn } = registry;
    const values = await valueOf(pulumi.all([bucketName, bucketArn, region, image, policyArn]));
    assert.deepStrictEqual(values, [
      "reg-out-bucket-bucket",
      "arn:aws:s3:::reg-out-bucket",
      "us-east-1",
      "registry:2.8.3",
      "arn:aws:mock:::reg-out-access",
    ]);
    assert.strictEqual(registry.address, "127.0.0.1:5000");
    assert.strictEqual(await valueOf(new Registry("reg-default", {}).image), "registry:2");
  });

  it("rejects role keys that cannot name a resource, before creating anything", async () => {
    assert.throws(
      () => new Registry("reg-bad", { roles: { "Manager Nodes": "r" } }),
      /roles key "Manager Nodes" names a resource; use kebab-case such as "workers"\./,
    );
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith("reg-bad")), []);
  });

  it("parents its children and registers its outputs", async () => {
    const parents = new Map<string, pulumi.Resource | undefined>();
    const registry = new Registry("reg-parent", { roles }, {
      transformations: [(a) => (parents.set(a.name, a.opts.parent), undefined)],
    });
    const recorded = (await recordedUnder("reg-parent")).filter((r) => r.custom);
    assert.strictEqual(recorded.length, 9);
    for (const r of recorded) assert.strictEqual(parents.get(r.name), registry, r.name);
    const outputs = registeredOutputs.get("reg-parent");
    assert.ok(outputs);
    assert.strictEqual(outputs.bucketName, registry.bucketName);
    assert.strictEqual(outputs.address, "127.0.0.1:5000");
  });
});

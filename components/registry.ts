import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { shown, throwIfInvalid } from "./errors";
import { REGISTRY_PORT } from "./ports";

export interface RegistryArgs {
  /**
   * Node roles allowed to use the registry bucket, by a stable key that names the attachment
   * (`${name}-<key>-access`), e.g. `{ managers: quorum.role.name, workers: pool.role.name }`.
   * Keys are kebab-case (a-z, 0-9, "-"). @default {}
   */
  roles?: Record<string, pulumi.Input<string>>;
  /** Delete stored images with the stack; for dev stacks only. @default false */
  forceDestroy?: boolean;
  /** Registry image every node runs. @default "registry:2" */
  image?: pulumi.Input<string>;
  /** Tags added to every resource (`Name` is set for you). @default {} */
  tags?: Record<string, string>;
}

/** Actions on the bucket itself, and on its objects: exactly DESIGN.md's IAM table. */
export const REGISTRY_BUCKET_ACTIONS = [
  "s3:ListBucket",
  "s3:GetBucketLocation",
  "s3:ListBucketMultipartUploads",
];
export const REGISTRY_OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:ListMultipartUploadParts",
  "s3:AbortMultipartUpload",
];

/** Where every node's registry listens; services pull `127.0.0.1:5000/<image>`. */
export const REGISTRY_ADDRESS = `127.0.0.1:${REGISTRY_PORT}`;

/** The registry's IAM policy for `bucketArn`: the bucket actions on it, object actions on `/*`. */
export function registryPolicyDocument(bucketArn: string): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "RegistryBucket",
        Effect: "Allow",
        Action: REGISTRY_BUCKET_ACTIONS,
        Resource: bucketArn,
      },
      {
        Sid: "RegistryObjects",
        Effect: "Allow",
        Action: REGISTRY_OBJECT_ACTIONS,
        Resource: `${bucketArn}/*`,
      },
    ],
  };
}

/** Every problem with `args`. */
export function registryProblems(args: RegistryArgs): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(args.roles ?? {})) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(key)) {
      problems.push(`roles key ${shown(key)} names a resource; use kebab-case such as "workers".`);
    }
  }
  if (args.forceDestroy !== undefined && typeof args.forceDestroy !== "boolean") {
    problems.push(`forceDestroy is ${shown(args.forceDestroy)}; use true or false.`);
  }
  return problems;
}

/** An S3 bucket name prefix from a component name: lowercase, [a-z0-9-], at most 37 chars. */
export function bucketPrefixFor(name: string): string {
  const base = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 36);
  return `${base || "registry"}-`;
}

/**
 * The registry's storage: a private, encrypted, versioned S3 bucket and one IAM policy with
 * exactly the S3 actions the registry's S3 driver needs, attached to the node roles. Nodes use
 * their instance role; there are no access keys.
 */
export class Registry extends pulumi.ComponentResource {
  /** The bucket name (the registry's `storage.s3.bucket`). */
  public readonly bucketName: pulumi.Output<string>;
  /** The bucket ARN. */
  public readonly bucketArn: pulumi.Output<string>;
  /** The bucket's region (the registry's `storage.s3.region`). */
  public readonly region: pulumi.Output<string>;
  /** Registry image to run on every node. */
  public readonly image: pulumi.Output<string>;
  /** Where each node's registry listens: "127.0.0.1:5000". */
  public readonly address: string;
  /** ARN of the registry access policy. */
  public readonly policyArn: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:Registry", name, {}, opts);
    throwIfInvalid(this, registryProblems(args));
    const parent = this;
    const tags = (n: string) => ({ ...args.tags, Name: n });

    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      {
        bucketPrefix: bucketPrefixFor(name),
        forceDestroy: args.forceDestroy ?? false,
        tags: tags(`${name}-bucket`),
      },
      { parent },
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent },
    );
    // S3 rejects concurrent configuration changes on one bucket ("OperationAborted"), so the
    // ownership setting waits for the public-access block.
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent, dependsOn: [publicAccess] },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      { parent },
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      { parent },
    );
    // AWS recommends applying lifecycle rules only after versioning is configured.
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      { parent, dependsOn: [versioning] },
    );

    const policy = new aws.iam.Policy(
      `${name}-access`,
      {
        description: `Registry storage in the ${name} bucket, for Swarm nodes`,
        policy: bucket.arn.apply((arn) => JSON.stringify(registryPolicyDocument(arn))),
        tags: tags(`${name}-access`),
      },
      { parent },
    );
    for (const [key, role] of Object.entries(args.roles ?? {})) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${key}-access`,
        { role, policyArn: policy.arn },
        { parent },
      );
    }

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.region = aws.getRegionOutput({}, { parent }).region;
    this.image = pulumi.output(args.image ?? "registry:2");
    this.address = REGISTRY_ADDRESS;
    this.policyArn = policy.arn;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      region: this.region,
      image: this.image,
      address: this.address,
      policyArn: this.policyArn,
    });
  }
}

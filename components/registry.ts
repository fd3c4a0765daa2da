import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SwarmHost } from "./bootstrap";
import { shown, throwIfInvalid } from "./errors";
import { imageReferenceProblems } from "./image-reference";
import { DEFAULT_DOCKER_WAIT_SECONDS, waitSecondsProblems } from "./waits";
import { hostNamesProblems } from "./host-names";

/** The registry image when none is given: Docker's own distribution registry, v2 API. */
export const DEFAULT_REGISTRY_IMAGE = "registry:2";
import { REGISTRY_PORT } from "./ports";
import { stepCommand } from "./scripts";

/** Arguments of {@link Registry}: the bucket and the nodes that run a registry. */
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
  /**
   * Nodes that run a registry container at 127.0.0.1:5000, one remote command each, named
   * `${name}-${host.name}`. Their instance role needs the registry policy (see `roles`) and
   * IMDSv2 with hop limit 2. @default []
   */
  hosts?: SwarmHost[];
  /**
   * S3-compatible endpoint URL (http:// or https://) for S3-compatible stores; the registry then
   * uses path-style requests. @default AWS S3 of the bucket's region
   */
  endpoint?: pulumi.Input<string>;
  /** Seconds each node's command waits for the Docker daemon to answer: 1 to 3600. @default 300 */
  dockerWaitSeconds?: number;
  /**
   * Remove a node's registry container when the node leaves `hosts`. Set it to false when
   * removed hosts are destroyed anyway (cloud instances): the delete then never dials the host,
   * so a host that died cannot fail or stall `pulumi up` and `pulumi destroy`. @default true
   */
  removeOnDelete?: boolean;
  /**
   * Objects under a prefix that S3 deletes (current and old versions) after `days`, e.g. the
   * Raft backups under "backups/". @default []
   */
  retentionRules?: {
    /** The lifecycle rule's id. */
    id: string;
    /** Key prefix the rule applies to, e.g. "backups/". */
    prefix: string;
    /** Days after which objects under the prefix expire. */
    days: number;
  }[];
}

/** What {@link registryNodeCommands} needs; the caller resolves the defaults. */
export interface RegistryNodeArgs {
  /** Nodes that run the registry container. */
  hosts: SwarmHost[];
  /** Registry image, e.g. "registry:2". */
  image: pulumi.Input<string>;
  /** Bucket the registries store images in. */
  bucket: pulumi.Input<string>;
  /** The bucket's region. */
  region: pulumi.Input<string>;
  /** S3-compatible endpoint URL; unset or "" for AWS S3. */
  endpoint?: pulumi.Input<string>;
  /** Seconds each command waits for Docker: 1 to 3600. @default 300 */
  dockerWaitSeconds?: number;
  /** See {@link RegistryArgs.removeOnDelete}. @default true */
  removeOnDelete?: boolean;
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
  return [...problems, ...registryNodeProblems(args)];
}

/** Problems with the node settings shared by {@link RegistryArgs} and {@link RegistryNodeArgs}. */
export function registryNodeProblems(args: {
  hosts?: SwarmHost[];
  image?: pulumi.Input<string>;
  endpoint?: pulumi.Input<string>;
  dockerWaitSeconds?: number;
}): string[] {
  const problems: string[] = [];
  const { image, endpoint, dockerWaitSeconds: wait } = args;
  // An Output is checked by the Services/config layer that produced it; a plain value here.
  if (typeof image === "string") problems.push(...imageReferenceProblems(image, "image", DEFAULT_REGISTRY_IMAGE));
  problems.push(...hostNamesProblems((args.hosts ?? []).map((h) => h.name), "hosts"));
  if (typeof endpoint === "string" && endpoint !== "" && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    problems.push(
      `endpoint is ${shown(endpoint)}; use an http:// or https:// URL such as ` +
        `"https://s3.example.com", or leave it unset for AWS S3.`,
    );
  }
  problems.push(...waitSecondsProblems(wait, "dockerWaitSeconds"));
  return problems;
}

/**
 * One remote command per host that runs the registry container at 127.0.0.1:5000 (create) and
 * removes it (delete), named `${name}-${host.name}`. The command text holds the image, bucket,
 * region and endpoint, none of them secret, and never a key: the container takes the instance
 * role's credentials from IMDSv2. A new host address replaces the command. Used by Registry, and
 * by tests that run the commands on hosts of their own.
 */
export function registryNodeCommands(
  name: string,
  args: RegistryNodeArgs,
  opts: pulumi.CustomResourceOptions = {},
): command.remote.Command[] {
  throwIfInvalid(opts.parent, registryNodeProblems(args));
  const wait = args.dockerWaitSeconds ?? DEFAULT_DOCKER_WAIT_SECONDS;
  const endpoint = args.endpoint === undefined ? [] : [args.endpoint];
  const create = stepCommand("registry", [wait, args.image, args.bucket, args.region, ...endpoint]);
  const remove = stepCommand("registry-remove", [wait]);
  return args.hosts.map(
    (host) =>
      new command.remote.Command(
        `${name}-${host.name}`,
        {
          connection: host.connection,
          create,
          ...(args.removeOnDelete ?? true ? { delete: remove } : {}),
          triggers: [host.privateIp],
          // The provider would pass the old stdout through SSH SetEnv; a stock sshd refuses it.
          addPreviousOutputInEnv: false,
        },
        { ...opts },
      ),
  );
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
 * The registry: a private, encrypted, versioned S3 bucket, one IAM policy with exactly the S3
 * actions the registry's S3 driver needs, attached to the node roles, and a registry container
 * on every node in `hosts` at 127.0.0.1:5000, all backed by that bucket. Nodes use their
 * instance role; there are no access keys.
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
  /**
   * Registry container IDs, one per host in the order given; resolves once every node's
   * registry answers. Services that pull `127.0.0.1:5000/...` should depend on it.
   */
  public readonly ready: pulumi.Output<string[]>;

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
          ...(args.retentionRules ?? []).map((r) => ({
            id: r.id,
            status: "Enabled",
            filter: { prefix: r.prefix },
            expiration: { days: r.days },
            noncurrentVersionExpiration: { noncurrentDays: 1 },
          })),
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
    const attachments = Object.entries(args.roles ?? {}).map(
      ([key, role]) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${key}-access`,
          { role, policyArn: policy.arn },
          { parent },
        ),
    );

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.region = aws.getRegionOutput({}, { parent }).region;
    this.image = pulumi.output(args.image ?? DEFAULT_REGISTRY_IMAGE);
    this.address = REGISTRY_ADDRESS;
    this.policyArn = policy.arn;
    // The containers start once the roles may use the bucket, so their first S3 call succeeds.
    const nodes = registryNodeCommands(
      name,
      {
        hosts: args.hosts ?? [],
        image: this.image,
        bucket: this.bucketName,
        region: this.region,
        endpoint: args.endpoint,
        dockerWaitSeconds: args.dockerWaitSeconds,
        removeOnDelete: args.removeOnDelete,
      },
      { parent, dependsOn: attachments },
    );
    this.ready = pulumi.all(nodes.map((n) => n.stdout));
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      region: this.region,
      image: this.image,
      address: this.address,
      policyArn: this.policyArn,
      ready: this.ready,
    });
  }
}

import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SwarmHost } from "./bootstrap";
import { throwIfInvalid } from "./errors";
import { BACKUPS_PREFIX, BackupsArgs, parseBackups, restoreFromProblems, autolockProblems } from "./operations-config";
import { BackupTarget, renderOpsCommand, renderOpsInstall } from "./ops-scripts";
import { RECOVER_UPLOAD_PATH, recoverBinaryPath, recoverDigest, recoverToolProblems } from "./recover-tool";

/** Managers' access for autolock and backups; single ARNs, as DESIGN.md's IAM section asks. */
export function operationsPolicyDocument(a: { keyArn: string; secretArn?: string }): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      // Encrypt and decrypt the unlock key and the backup archives (SSE-KMS).
      { Sid: "StackKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], Resource: a.keyArn },
      ...(a.secretArn
        ? [{ Sid: "UnlockKey", Effect: "Allow" as const, Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], Resource: a.secretArn }]
        : []),
    ],
  };
}

/**
 * Workers share the registry's bucket policy; this keeps them away from the archives (which hold
 * the swarm's secrets): they could not decrypt them anyway, but neither may they replace or
 * delete them.
 */
export function workersBackupsDenyDocument(bucketArn: string): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{
      Sid: "NoRaftBackups", Effect: "Deny",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: `${bucketArn}/${BACKUPS_PREFIX}*`,
    }],
  };
}

/** Where autolock and backups run, and what they may use. */
export interface SwarmOperationsArgs {
  /** The managers: each gets the programs and units; the first one is restored onto. */
  managers: SwarmHost[];
  /** Name of the managers' IAM role (the only one that may read the unlock key). */
  managerRoleName: pulumi.Input<string>;
  /** Name of the workers' IAM role, denied the archives when backups run. @default none */
  workerRoleName?: pulumi.Input<string>;
  /** Autolock the managers; the key goes to Secrets Manager under the stack key. @default false */
  autolock?: boolean;
  /** Raft backups; need `bucket`. @default { enabled: true, schedule: "hourly", retentionDays: 14 } */
  backups?: BackupsArgs;
  /** Bucket of the archives (the registry's); backups are off without one. @default none */
  bucket?: {
    /** The bucket's name. */
    name: pulumi.Input<string>;
    /** The bucket's ARN. */
    arn: pulumi.Input<string>;
  };
  /** S3 key (or prefix ending in "/") of an archive the first manager is restored from. @default none */
  restoreFrom?: string;
  /** Seconds the restore waits for Docker. @default 300 */
  dockerWaitSeconds?: number;
  /** Tags of every AWS resource. @default {} */
  tags?: Record<string, string>;
}

/** What {@link opsNodeCommands} installs; plain values, so lab tests can point it at moto. */
export interface OpsNodeArgs {
  hosts: SwarmHost[];
  unlock?: { secretId: pulumi.Input<string>; region: pulumi.Input<string> };
  backup?: { [K in keyof BackupTarget]: pulumi.Input<BackupTarget[K]> } & { schedule: string };
}

/** One `${name}-${host.name}-ops` command per manager that installs the programs and units. */
export function opsNodeCommands(name: string, a: OpsNodeArgs, opts: pulumi.CustomResourceOptions = {}): command.remote.Command[] {
  const text = pulumi.all([a.unlock ?? null, a.backup ?? null]).apply(([unlock, backup]) =>
    renderOpsInstall({ unlock: unlock ?? undefined, backup: backup ?? undefined }));
  return a.hosts.map((host) => new command.remote.Command(`${name}-${host.name}-ops`, {
    connection: host.connection,
    create: text,
    triggers: [host.privateIp],
    addPreviousOutputInEnv: false,
  }, opts));
}

/**
 * The restore step on the first manager; bootstrap's init waits for it (see cluster.ts). It
 * uploads swarm-recover first (recover-tool.ts), which the program runs only if it has the digest
 * the command names.
 */
export function restoreCommand(
  name: string,
  host: SwarmHost,
  a: { wait: number; bucket: pulumi.Input<string>; key: string; region: pulumi.Input<string>; secretId?: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions = {},
): command.remote.Command {
  const upload = new command.remote.CopyToRemote(`${name}-recover-tool`, {
    connection: host.connection,
    source: new pulumi.asset.FileAsset(recoverBinaryPath()),
    remotePath: RECOVER_UPLOAD_PATH,
    triggers: [host.privateIp],
  }, { ...opts, dependsOn: [] });
  const digest = recoverDigest();
  const create = pulumi.all([a.bucket, a.region, host.privateIp, a.secretId ?? "-"]).apply(([bucket, region, ip, secret]) =>
    renderOpsCommand("restore", [a.wait, bucket, a.key, region || "-", ip, secret, RECOVER_UPLOAD_PATH, digest]));
  const dependsOn = pulumi.output(opts.dependsOn ?? []).apply((d) => [...(Array.isArray(d) ? d : [d]), upload]);
  return new command.remote.Command(`${name}-restore`, {
    connection: host.connection, create, triggers: [host.privateIp], addPreviousOutputInEnv: false,
  }, { ...opts, dependsOn });
}

/**
 * Autolock and Raft backups on the managers: the stack's KMS key, the unlock-key secret (its
 * value is written by a manager, never by Pulumi), the managers' policy, the programs and units
 * on each manager, and, with `restoreFrom`, the restore of the first manager. Created before the
 * bootstrap, whose init waits for {@link restore}; the unlock key itself is SwarmAutolock's.
 */
export class SwarmOperations extends pulumi.ComponentResource {
  /** ARN of the stack KMS key (unlock key, archives). */
  readonly kmsKeyArn: pulumi.Output<string>;
  /** ARN of the unlock-key secret; undefined without autolock. */
  readonly unlockKeySecretArn?: pulumi.Output<string>;
  /** The region of the secret and the bucket. */
  readonly region: pulumi.Output<string>;
  /** Install commands, one per manager. */
  readonly installs: command.remote.Command[];
  /** The restore step, when `restoreFrom` is set. */
  readonly restore?: command.remote.Command;
  /** Managers' policy attachment; steps that call AWS wait for it. */
  readonly access: aws.iam.RolePolicyAttachment;

  constructor(name: string, args: SwarmOperationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmOperations", name, {}, opts);
    const parsed = parseBackups(args.backups, "backups");
    throwIfInvalid(this, [
      ...autolockProblems(args.autolock, "autolock"), ...parsed.problems, ...restoreFromProblems(args.restoreFrom, "restoreFrom"),
      ...(args.restoreFrom !== undefined ? recoverToolProblems("restoreFrom") : []),
      ...(args.restoreFrom !== undefined && !args.bucket ? [`restoreFrom is ${JSON.stringify(args.restoreFrom)} but no bucket is given; pass the registry bucket.`] : []),
    ]);
    const parent = this;
    const tags = (n: string) => ({ ...args.tags, Name: n });
    const backups = args.bucket && parsed.backups.enabled ? parsed.backups : undefined;

    const key = new aws.kms.Key(`${name}-key`, {
      description: `${name}: the swarm's unlock key and Raft backups`,
      enableKeyRotation: true,
      tags: tags(`${name}-key`),
    }, { parent });
    this.kmsKeyArn = key.arn;
    this.region = aws.getRegionOutput({}, { parent }).region;
    if (args.autolock) {
      const secret = new aws.secretsmanager.Secret(`${name}-unlock-key`, {
        namePrefix: `${name}-unlock-key-`,
        description: `${name}: Docker Swarm unlock key, written by the managers`,
        kmsKeyId: key.arn,
        tags: tags(`${name}-unlock-key`),
      }, { parent });
      this.unlockKeySecretArn = secret.arn;
    }
    const policy = new aws.iam.Policy(`${name}-access`, {
      description: `${name}: managers read the unlock key and write Raft backups`,
      policy: pulumi.all([key.arn, this.unlockKeySecretArn]).apply(([keyArn, secretArn]) =>
        JSON.stringify(operationsPolicyDocument({ keyArn, secretArn }))),
      tags: tags(`${name}-access`),
    }, { parent });
    this.access = new aws.iam.RolePolicyAttachment(`${name}-managers-access`, { role: args.managerRoleName, policyArn: policy.arn }, { parent });
    if (backups && args.workerRoleName !== undefined) {
      const deny = new aws.iam.Policy(`${name}-workers-no-backups`, {
        description: `${name}: workers may not touch the Raft backups`,
        policy: pulumi.output(args.bucket!.arn).apply((arn) => JSON.stringify(workersBackupsDenyDocument(arn))),
        tags: tags(`${name}-workers-no-backups`),
      }, { parent });
      new aws.iam.RolePolicyAttachment(`${name}-workers-no-backups`, { role: args.workerRoleName, policyArn: deny.arn }, { parent });
    }

    this.installs = opsNodeCommands(name, {
      hosts: args.managers,
      unlock: this.unlockKeySecretArn ? { secretId: this.unlockKeySecretArn, region: this.region } : undefined,
      backup: backups ? {
        bucket: args.bucket!.name, prefix: BACKUPS_PREFIX, kmsKeyId: key.arn, region: this.region,
        secretId: this.unlockKeySecretArn, schedule: backups.schedule,
      } : undefined,
    }, { parent, dependsOn: [this.access] });
    if (args.restoreFrom !== undefined) {
      this.restore = restoreCommand(name, args.managers[0], {
        wait: args.dockerWaitSeconds ?? 300, bucket: args.bucket!.name, key: args.restoreFrom,
        region: this.region, secretId: this.unlockKeySecretArn,
      }, { parent, dependsOn: [this.installs[0], this.access] });
    }
    this.registerOutputs({
      kmsKeyArn: this.kmsKeyArn, unlockKeySecretArn: this.unlockKeySecretArn, region: this.region, restore: this.restore,
    });
  }
}

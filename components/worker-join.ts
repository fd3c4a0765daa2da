import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid, shown } from "./errors";
import { nodeRole } from "./roles";

/** What the worker groups' instances need to join: the token and the managers. */
export interface WorkerJoinArgs {
  /** The worker join token (SwarmBootstrap's `workerJoinToken`); kept secret. */
  workerJoinToken: pulumi.Input<string>;
  /** Addresses the instances join on (the managers' private IPs). */
  managerAddresses: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * SSM path under which both parameters live; unique per stack and cluster.
   * SSM reserves names that start with "aws" or "ssm". @default "/swarm/<project>/<stack>/<component name>"
   */
  parameterPath?: string;
  /** Tags for every resource. @default {} */
  tags?: Record<string, string>;
  /** Region of the parameters (for kms:ViaService). @default the provider's region */
  region?: pulumi.Input<string>;
}

const PATH = /^(\/[A-Za-z0-9_.-]+)+$/;
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
const RESERVED = /^\/?(aws|ssm)/i;

/** Problems with WorkerJoin arguments, each naming the setting, the value and the fix. */
export function workerJoinProblems(a: WorkerJoinArgs): string[] {
  const p = a.parameterPath;
  if (p === undefined || (PATH.test(p) && p.length <= 900 && !RESERVED.test(p))) return [];
  return [`parameterPath is ${shown(p)}; use an SSM path such as "/swarm/prod/swarm" (letters, digits, _ . - between slashes; SSM reserves names starting with "aws" or "ssm").`];
}

/**
 * The read policy of the worker groups' role: the two parameters by ARN, and Decrypt on the
 * stack key only when SSM asks for it (kms:ViaService), so the role cannot use the key directly.
 */
export function workerJoinPolicyDocument(tokenArn: string, managersArn: string, keyArn: string, region: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadJoinParameters", Effect: "Allow", Action: "ssm:GetParameter", Resource: [tokenArn, managersArn] },
      {
        Sid: "DecryptJoinTokenThroughSsm",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: keyArn,
        Condition: { StringEquals: { "kms:ViaService": `ssm.${region}.amazonaws.com` } },
      },
    ],
  };
}

/**
 * What the instances of worker groups need to join by themselves: the worker token in an SSM
 * SecureString under a KMS key of this stack, the manager addresses in a plain parameter, and
 * the one IAM role (with its instance profile) that may read them. One per cluster, shared by
 * every WorkerGroup.
 */
export class WorkerJoin extends pulumi.ComponentResource {
  /** The stack key that encrypts the token. */
  readonly key: aws.kms.Key;
  /** SecureString with the worker join token. */
  readonly tokenParameter: aws.ssm.Parameter;
  /** String with the manager addresses, comma-separated. */
  readonly managersParameter: aws.ssm.Parameter;
  /** The worker groups' role: the only one allowed to read the token. */
  readonly role: aws.iam.Role;
  /** The role's instance profile, for the groups' launch templates. */
  readonly instanceProfile: aws.iam.InstanceProfile;
  /** The role's read policy. */
  readonly readPolicy: aws.iam.RolePolicy;
  /** Names of the two parameters, for the instances' user data. */
  readonly tokenParameterName: pulumi.Output<string>;
  /** Name of the manager-addresses parameter. */
  readonly managersParameterName: pulumi.Output<string>;
  /** Region of the parameters. */
  readonly region: pulumi.Output<string>;

  constructor(name: string, args: WorkerJoinArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:WorkerJoin", name, {}, opts);
    throwIfInvalid(this, workerJoinProblems(args));
    const tags = args.tags ?? {};
    const path = args.parameterPath ?? `/swarm/${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
    const parent = this;

    this.key = new aws.kms.Key(`${name}-key`, {
      description: `Encrypts the Swarm worker join token of ${name}`,
      enableKeyRotation: true,
      deletionWindowInDays: 7,
      tags: { ...tags, Name: `${name}-key` },
    }, { parent });
    this.tokenParameter = new aws.ssm.Parameter(`${name}-token`, {
      name: `${path}/worker-join-token`,
      description: "Swarm worker join token, read at boot by worker group instances",
      type: "SecureString",
      keyId: this.key.arn,
      // The token is secret from the moment it exists; keep it so under mocks too.
      value: pulumi.secret(args.workerJoinToken),
      tags,
    }, { parent });
    this.managersParameter = new aws.ssm.Parameter(`${name}-managers`, {
      name: `${path}/manager-addresses`,
      description: "Swarm manager addresses (comma-separated) that worker group instances join on",
      type: "String",
      value: pulumi.output(args.managerAddresses).apply((ips) => ips.join(",")),
      tags,
    }, { parent });

    const { role, instanceProfile } = nodeRole(name, "worker", parent, tags);
    this.role = role;
    this.instanceProfile = instanceProfile;
    this.region = args.region !== undefined
      ? pulumi.output(args.region)
      : aws.getRegionOutput({}, { parent }).apply((r) => r.region ?? r.name);
    this.readPolicy = new aws.iam.RolePolicy(`${name}-read`, {
      role: role.name,
      policy: pulumi
        .all([this.tokenParameter.arn, this.managersParameter.arn, this.key.arn, this.region])
        .apply(([token, managers, key, region]) => JSON.stringify(workerJoinPolicyDocument(token, managers, key, region))),
    }, { parent });

    this.tokenParameterName = this.tokenParameter.name;
    this.managersParameterName = this.managersParameter.name;
    this.registerOutputs({
      tokenParameterName: this.tokenParameterName,
      managersParameterName: this.managersParameterName,
      region: this.region,
    });
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid, shown } from "./errors";
import { latestAmazonLinuxAmi } from "./node";
import { SWARM_CLUSTER_TAG, SWARM_ROLE_TAG } from "./ports";
import { WorkerGroupSpec, workerGroupProblems } from "./worker-groups-config";
import { workerUserDataBase64 } from "./worker-user-data";

export { WorkerGroupSpec, workerGroupProblems, workerGroupsProblems, MAX_GROUP_SIZE } from "./worker-groups-config";

/** Tag naming the group of an instance. */
export const SWARM_GROUP_TAG = "swarm:group";
/** Name of every group's termination hook (hook names are per group); the keeper completes it. */
export const DRAIN_HOOK_NAME = "aws-swarm-drain";

/** What a group's instances read at boot: WorkerJoin's parameters and role. */
export interface WorkerGroupJoin {
  /** SecureString parameter holding the worker join token. */
  tokenParameterName: pulumi.Input<string>;
  /** Plain parameter with the manager addresses, comma-separated. */
  managersParameterName: pulumi.Input<string>;
  /** Instance profile of the role allowed to read the token. */
  instanceProfileName: pulumi.Input<string>;
  /** That role's name: each group adds its own SetInstanceHealth permission to it. */
  roleName: pulumi.Input<string>;
  /** Region of the parameters and the group. */
  region: pulumi.Input<string>;
}

/** A worker group: the group as the user describes it (WorkerGroupSpec) and where it runs. */
export interface WorkerGroupArgs extends Omit<WorkerGroupSpec, "instanceType"> {
  /** EC2 instance type (x86_64 unless `amiId` says otherwise). @default "t3.small" */
  instanceType?: pulumi.Input<string>;
  /** Node subnets, one per AZ; the group spreads its instances over all of them. */
  subnetIds: pulumi.Input<string>[];
  /** Security groups of every instance (the Network's nodes group). */
  securityGroupIds: pulumi.Input<string>[];
  /** Where the token and manager addresses are, and the role that reads them (a WorkerJoin). */
  join: WorkerGroupJoin;
  /** The bootstrap's worker token step, named in the advice when a token is rejected. @default "the worker token step" */
  tokenStep?: string;
  /** AMI ID. @default latest Amazon Linux 2023, looked up once (later releases reach new templates only by replacing it) */
  amiId?: pulumi.Input<string>;
  /** EC2 key pair for SSH by hand. @default no key pair */
  keyName?: pulumi.Input<string>;
  /** Public IPv4 addresses (public node placement). @default false */
  associatePublicIpAddress?: boolean;
  /** Root volume in GiB: 8..16384. @default 20 */
  rootVolumeSize?: number;
  /** Seconds an instance may take from boot to joined; then it marks itself Unhealthy: 60..3600. @default 600 */
  joinSeconds?: number;
  /**
   * Seconds the keeper gives a terminating node's tasks to move; the lifecycle hook holds the
   * instance for this plus 180 s (two keeper periods and the removal): 10..3600. @default 120
   */
  drainSeconds?: number;
  /** The node's registry, when the cluster runs one (the role needs the registry's bucket policy). @default none */
  registry?: {
    /** Registry image every instance runs. */
    image: pulumi.Input<string>;
    /** The registry's S3 bucket. */
    bucket: pulumi.Input<string>;
    /** The bucket's region. */
    region: pulumi.Input<string>;
  };
  /** Value of the `swarm:cluster` tag; part of the group's name. @default the component name */
  clusterName?: string;
  /** Tags of every resource and instance. @default {} */
  tags?: Record<string, string>;
}

/** Seconds the hook holds a terminating instance beyond the drain time. */
export const HOOK_MARGIN_SECONDS = 180;

const seconds = (v: unknown, key: string, lo: number, hi: number): string[] =>
  v === undefined || (Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi)
    ? []
    : [`${key} is ${shown(v)}; use a whole number of seconds from ${lo} to ${hi}.`];

/** Every problem with WorkerGroupArgs: the group's own rule (shared with stack config) and the placement. */
export function workerGroupArgsProblems(a: WorkerGroupArgs): string[] {
  const { subnetIds, securityGroupIds, join, tokenStep, amiId, keyName, associatePublicIpAddress, rootVolumeSize,
    joinSeconds, drainSeconds, registry, clusterName, tags, instanceType, ...spec } = a;
  void tokenStep; void amiId; void keyName; void associatePublicIpAddress; void registry; void clusterName;
  // A known instance type is checked like stack config's; an Output is the provider's to judge.
  const problems = workerGroupProblems(typeof instanceType === "string" || instanceType === undefined ? { ...spec, instanceType } : spec, "");
  if (!Array.isArray(subnetIds) || subnetIds.length === 0) problems.push(`subnetIds is ${shown(subnetIds)}; give the node subnets, one per AZ.`);
  if (!Array.isArray(securityGroupIds) || securityGroupIds.length === 0) problems.push(`securityGroupIds is ${shown(securityGroupIds)}; give the Network's nodes security group.`);
  if (!join) problems.push("join is unset; pass a WorkerJoin's parameter names, instance profile, role and region.");
  if (rootVolumeSize !== undefined && !(Number.isInteger(rootVolumeSize) && rootVolumeSize >= 8 && rootVolumeSize <= 16384)) {
    problems.push(`rootVolumeSize is ${shown(rootVolumeSize)}; use a whole number of GiB from 8 to 16384.`);
  }
  problems.push(...seconds(joinSeconds, "joinSeconds", 60, 3600), ...seconds(drainSeconds, "drainSeconds", 10, 3600));
  for (const k of [SWARM_ROLE_TAG, SWARM_CLUSTER_TAG, SWARM_GROUP_TAG, "Name"]) {
    if (tags && k in tags) problems.push(`tags sets ${shown(k)}; the group sets that tag itself: remove it.`);
  }
  return problems;
}

/**
 * An Auto Scaling group of Swarm workers that join by themselves: a hardened launch template
 * (IMDSv2 only, hop limit 2, encrypted gp3 root volume, user data without secrets), the group
 * over every given subnet, and a termination lifecycle hook that holds a leaving instance until
 * the keeper on the managers has drained and removed its node. Its cost in resources does not
 * grow with its size.
 */
export class WorkerGroup extends pulumi.ComponentResource {
  /** The Auto Scaling group's name (the keeper lists it). */
  readonly groupName: pulumi.Output<string>;
  /** The Auto Scaling group's ARN (managers may complete lifecycle actions on it only). */
  readonly groupArn: pulumi.Output<string>;
  /** The instances' launch template (IMDSv2 only, encrypted volume, no secret in user data). */
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  /** The Auto Scaling group over every AZ's node subnet. */
  readonly group: aws.autoscaling.Group;
  /** Holds terminating instances until the keeper drained and removed their node. */
  readonly drainHook: aws.autoscaling.LifecycleHook;
  /** The group's own permission on the shared role: set its instances' health, nothing else. */
  readonly healthPolicy: aws.iam.RolePolicy;

  constructor(name: string, args: WorkerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:WorkerGroup", name, {}, opts);
    throwIfInvalid(this, workerGroupArgsProblems(args));
    const parent = this;
    const cluster = args.clusterName ?? name;
    const drain = args.drainSeconds ?? 120;
    const labels = args.labels ?? {};
    const tags = { ...(args.tags ?? {}), Name: `${cluster}-${args.name}`, [SWARM_ROLE_TAG]: "worker", [SWARM_CLUSTER_TAG]: cluster, [SWARM_GROUP_TAG]: args.name };

    const registry = args.registry ? pulumi.all([args.registry.image, args.registry.bucket, args.registry.region]) : pulumi.output(undefined);
    const userData = pulumi
      .all([args.join.tokenParameterName, args.join.managersParameterName, args.join.region, registry])
      .apply(([tokenParameter, managersParameter, region, reg]) =>
        workerUserDataBase64({
          group: args.name, tokenParameter, managersParameter, region, labels,
          joinSeconds: args.joinSeconds ?? 600,
          tokenStep: args.tokenStep ?? "the worker token step",
          registry: reg ? { image: reg[0], bucket: reg[1], region: reg[2] } : undefined,
        }));
    this.launchTemplate = new aws.ec2.LaunchTemplate(`${name}-template`, {
      description: `Swarm workers of group ${args.name} in ${cluster}`,
      imageId: args.amiId ?? latestAmazonLinuxAmi({ parent }),
      instanceType: args.instanceType ?? "t3.small",
      keyName: args.keyName,
      iamInstanceProfile: { name: args.join.instanceProfileName },
      // IMDSv2 only; hop limit 2 so the registry container reaches the role's credentials.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
      blockDeviceMappings: [{
        deviceName: "/dev/xvda",
        ebs: { encrypted: "true", volumeType: "gp3", volumeSize: args.rootVolumeSize ?? 20, deleteOnTermination: "true" },
      }],
      networkInterfaces: [{
        associatePublicIpAddress: String(args.associatePublicIpAddress ?? false),
        securityGroups: args.securityGroupIds,
        deleteOnTermination: "true",
      }],
      userData,
      updateDefaultVersion: true,
      tagSpecifications: [{ resourceType: "instance", tags }, { resourceType: "volume", tags }],
      tags,
    }, { parent, ignoreChanges: args.amiId === undefined ? ["imageId"] : [] });

    const template = { id: this.launchTemplate.id, version: pulumi.interpolate`${this.launchTemplate.latestVersion}` };
    const spot = args.spot ?? false;
    this.group = new aws.autoscaling.Group(`${name}-group`, {
      // Named, because the keeper on the managers lists the groups by name. One per stack and cluster.
      name: `${pulumi.getProject()}-${pulumi.getStack()}-${cluster}-${args.name}`,
      minSize: args.min,
      maxSize: args.max,
      desiredCapacity: args.desired ?? args.min,
      vpcZoneIdentifiers: args.subnetIds,
      healthCheckType: "EC2",
      healthCheckGracePeriod: 60,
      // Spot: any capacity pool the price-capacity strategy picks, replaced early on a rebalance notice.
      ...(spot
        ? {
            capacityRebalance: true,
            mixedInstancesPolicy: {
              instancesDistribution: {
                onDemandBaseCapacity: 0,
                onDemandPercentageAboveBaseCapacity: 0,
                spotAllocationStrategy: "price-capacity-optimized",
              },
              launchTemplate: { launchTemplateSpecification: { launchTemplateId: template.id, version: template.version } },
            },
          }
        : { launchTemplate: template }),
      // A new template version replaces instances a tenth at a time; each leaves through the hook.
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 90 } },
      tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      // Instances join in the background; the group need not wait for them to be in the swarm.
      waitForCapacityTimeout: "0",
    }, { parent });

    this.drainHook = new aws.autoscaling.LifecycleHook(`${name}-drain`, {
      name: DRAIN_HOOK_NAME,
      autoscalingGroupName: this.group.name,
      lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
      // Long enough for the keeper (every 20 s) to find the instance, drain it and remove its node.
      heartbeatTimeout: drain + HOOK_MARGIN_SECONDS,
      // When no keeper answers (quorum lost), the instance still goes: a stuck group is worse.
      defaultResult: "CONTINUE",
    }, { parent });

    this.healthPolicy = new aws.iam.RolePolicy(`${name}-health`, {
      role: args.join.roleName,
      policy: this.group.arn.apply((arn) => JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "MarkOwnInstancesUnhealthy", Effect: "Allow", Action: "autoscaling:SetInstanceHealth", Resource: arn }],
      })),
    }, { parent });

    this.groupName = this.group.name;
    this.groupArn = this.group.arn;
    this.registerOutputs({ groupName: this.groupName, groupArn: this.groupArn });
  }
}

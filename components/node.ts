/**
 * What every Swarm node has in common: the AMI lookup, the Docker user data, the hardened
 * aws.ec2.Instance, and the node group that ManagerQuorum and WorkerPool both build.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { spread } from "./azs";
import { shown } from "./errors";
import { DEFAULT_INSTANCE_TYPE, instanceTypeProblems } from "./instance-type";
import { SWARM_CLUSTER_TAG, SWARM_ROLE_TAG } from "./ports";
import { inBatches, RollingBatch, rollingBatchProblems, workerBatchSize } from "./rolling";
import { NodeKind, nodeRole } from "./roles";

/** AL2023 x86_64 (and arm64) standard AMIs; `al2023-ami-minimal-*` lacks the packages we use. */
export const AL2023_AMI_NAME = "al2023-ami-2023.*-kernel-*-";

/**
 * The newest Amazon Linux 2023 AMI owned by Amazon. Pass `{ parent: this }` so the invoke is
 * attributed to the component (and inherits its provider).
 */
export function latestAmazonLinuxAmi(
  opts?: pulumi.InvokeOutputOptions,
  architecture: "x86_64" | "arm64" = "x86_64",
): pulumi.Output<string> {
  return aws.ec2
    .getAmiOutput(
      {
        owners: ["amazon"],
        mostRecent: true,
        filters: [
          { name: "name", values: [`${AL2023_AMI_NAME}${architecture}`] },
          { name: "architecture", values: [architecture] },
          { name: "virtualization-type", values: ["hvm"] },
        ],
      },
      opts,
    )
    .apply((ami) => ami.id);
}

/**
 * Cloud-init shell for AL2023 that installs Docker from the distribution and starts it. It
 * holds nothing secret (tokens reach nodes over SSH stdin) and nothing that changes between
 * runs, so it never causes a diff. `dnf` is retried because a node in a private subnet can boot
 * before its NAT route works.
 */
export function dockerUserData(): string {
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    "for attempt in 1 2 3 4 5 6 7 8 9 10; do",
    "  if dnf install -y docker; then break; fi",
    '  if [ "$attempt" = 10 ]; then echo "docker install failed after 10 attempts" >&2; exit 1; fi',
    "  sleep 15",
    "done",
    "systemctl enable --now docker",
    "",
  ].join("\n");
}

/** Instance metadata: IMDSv2 only (session tokens), reachable within `hops` network hops. */
function imdsV2(hops: number): aws.types.input.ec2.InstanceMetadataOptions {
  return { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: hops };
}

/** Everything swarmInstance needs, with defaults already resolved. */
export interface SwarmInstanceArgs {
  /** Manager or worker; becomes the `swarm:role` tag. */
  kind: NodeKind;
  /** Value of the `swarm:cluster` tag. */
  clusterName: string;
  /** Subnet the instance is launched in (it fixes the AZ). */
  subnetId: pulumi.Input<string>;
  /** Security groups attached to the primary interface. */
  securityGroupIds: pulumi.Input<string>[];
  /** EC2 instance type, e.g. "t3.small". */
  instanceType: pulumi.Input<string>;
  /** EC2 key pair name, if any. */
  keyName?: pulumi.Input<string>;
  /** Whether the instance gets a public IPv4 address. */
  associatePublicIpAddress: boolean;
  /** AMI ID. */
  amiId: pulumi.Input<string>;
  /** Root volume size in GiB. */
  rootVolumeSize: number;
  /** Instance profile name. */
  instanceProfile: pulumi.Input<string>;
  /** Extra tags. */
  tags: Record<string, string>;
}

/**
 * One hardened Swarm node: IMDSv2 only, with a hop limit of 2 so containers (the registry)
 * reach role credentials through the docker bridge; encrypted gp3 root volume; Docker user data.
 */
export function swarmInstance(
  name: string,
  args: SwarmInstanceArgs,
  opts: pulumi.CustomResourceOptions,
): aws.ec2.Instance {
  const tags = {
    ...args.tags,
    Name: name,
    [SWARM_ROLE_TAG]: args.kind,
    [SWARM_CLUSTER_TAG]: args.clusterName,
  };
  return new aws.ec2.Instance(
    name,
    {
      ami: args.amiId,
      instanceType: args.instanceType,
      subnetId: args.subnetId,
      vpcSecurityGroupIds: args.securityGroupIds,
      associatePublicIpAddress: args.associatePublicIpAddress,
      keyName: args.keyName,
      iamInstanceProfile: args.instanceProfile,
      metadataOptions: imdsV2(2),
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: args.rootVolumeSize },
      userData: dockerUserData(),
      // A change that restarts the instance (type, user data) replaces it instead, so the
      // bootstrap can gate it: the new node joins before the old one is drained and removed
      // (rolling.ts). The AMI already forces a new instance.
      userDataReplaceOnChange: true,
      tags,
      volumeTags: tags,
    },
    pulumi.mergeOptions(opts, { replaceOnChanges: ["instanceType"] }),
  );
}

/** What a bastion needs; see bastionInstance. */
export interface BastionArgs {
  /** A public subnet. */
  subnetId: pulumi.Input<string>;
  /** The bastion's own security group (SSH from the allowed CIDRs). */
  securityGroupId: pulumi.Input<string>;
  /** EC2 instance type, e.g. "t3.nano". */
  instanceType: pulumi.Input<string>;
  /** EC2 key pair name, if any. */
  keyName?: pulumi.Input<string>;
  /** Tags, including `Name`. */
  tags: Record<string, string>;
}

/**
 * The SSH jump host for private nodes: latest AL2023, public IP, IMDSv2 with hop limit 1 (it
 * runs no containers), encrypted root volume, no instance profile and no user data.
 */
export function bastionInstance(
  name: string,
  args: BastionArgs,
  opts: pulumi.CustomResourceOptions,
): aws.ec2.Instance {
  return new aws.ec2.Instance(
    name,
    {
      ami: latestAmazonLinuxAmi({ parent: opts.parent }),
      instanceType: args.instanceType,
      subnetId: args.subnetId,
      vpcSecurityGroupIds: [args.securityGroupId],
      associatePublicIpAddress: true,
      keyName: args.keyName,
      metadataOptions: imdsV2(1),
      rootBlockDevice: { encrypted: true, volumeType: "gp3" },
      tags: args.tags,
      volumeTags: args.tags,
    },
    // A new AMI release must not replace the bastion and change the jump host's address.
    pulumi.mergeOptions(opts, { ignoreChanges: ["ami"] }),
  );
}

/** Arguments ManagerQuorum and WorkerPool share (everything but `count`). */
export interface NodeGroupArgs {
  /** Subnets to spread the nodes over, one per AZ, in AZ order; nodes go round-robin. */
  subnetIds: pulumi.Input<string>[];
  /**
   * AZ names in the same order as `subnetIds`, used for outputs and labels.
   * @default the instances' own AZs
   */
  availabilityZones?: pulumi.Input<string>[];
  /** Security groups for every node (the Network's nodes group, plus managers for managers). */
  securityGroupIds: pulumi.Input<string>[];
  /** EC2 instance type (x86_64 unless `amiId` is given). @default "t3.small" */
  instanceType?: pulumi.Input<string>;
  /** EC2 key pair name for SSH. @default no key pair */
  keyName?: pulumi.Input<string>;
  /** Give each node a public IPv4 address (public node placement only). @default false */
  associatePublicIpAddress?: boolean;
  /**
   * AMI ID. When unset the latest Amazon Linux 2023 is looked up once and later AMI releases
   * are ignored, so they never replace running nodes. @default latest Amazon Linux 2023
   */
  amiId?: pulumi.Input<string>;
  /** Root volume size in GiB; 8..16384. @default 20 */
  rootVolumeSize?: number;
  /** Value of the `swarm:cluster` tag. @default the component name */
  clusterName?: string;
  /** Tags for every resource; `Name`, `swarm:role`, `swarm:cluster` are set for you. @default {} */
  tags?: Record<string, string>;
  /**
   * How many instances a change reaches at a time: each manager waits for the previous one,
   * each batch of workers for the previous batch. @default { managers: 1, workers: "25%" }
   */
  rollingBatch?: RollingBatch;
}

/** Every problem with the shared node-group arguments; messages name the setting and value. */
export function nodeGroupProblems(a: NodeGroupArgs): string[] {
  const problems: string[] = instanceTypeProblems(a.instanceType, "instanceType");
  if (!Array.isArray(a.subnetIds) || a.subnetIds.length === 0) {
    problems.push(`subnetIds is ${shown(a.subnetIds)}; give at least one subnet ID (one per AZ).`);
  }
  if (a.availabilityZones !== undefined && Array.isArray(a.subnetIds)) {
    if (!Array.isArray(a.availabilityZones) || a.availabilityZones.length !== a.subnetIds.length) {
      const got = Array.isArray(a.availabilityZones) ? a.availabilityZones.length : 0;
      problems.push(
        `availabilityZones has ${got} entries but subnetIds has ${a.subnetIds.length}; ` +
          `give one AZ name per subnet, in the same order.`,
      );
    }
  }
  if (!Array.isArray(a.securityGroupIds) || a.securityGroupIds.length === 0) {
    problems.push(
      `securityGroupIds is ${shown(a.securityGroupIds)}; ` +
        `give the Network's node security group(s).`,
    );
  }
  const size = a.rootVolumeSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 8 || size > 16384)) {
    problems.push(`rootVolumeSize is ${shown(size)}; use a whole number of GiB from 8 to 16384.`);
  }
  if (a.clusterName !== undefined && (typeof a.clusterName !== "string" || a.clusterName === "")) {
    problems.push(`clusterName is ${shown(a.clusterName)}; use a non-empty name.`);
  }
  problems.push(...rollingBatchProblems(a.rollingBatch, "rollingBatch"));
  for (const key of [SWARM_ROLE_TAG, SWARM_CLUSTER_TAG, "Name"]) {
    if (a.tags && key in a.tags) {
      problems.push(`tags sets ${shown(key)}; the component sets that tag itself: remove it.`);
    }
  }
  return problems;
}

/** The nodes of one kind and their IAM role, as ManagerQuorum and WorkerPool expose them. */
export interface NodeGroup {
  instances: aws.ec2.Instance[];
  /** Stable logical names, e.g. "manager-1", in instance order. */
  nodeNames: string[];
  privateIps: pulumi.Output<string>[];
  publicIps: pulumi.Output<string>[];
  availabilityZones: pulumi.Output<string>[];
  instanceTypes: pulumi.Output<string>[];
  role: aws.iam.Role;
  instanceProfile: aws.iam.InstanceProfile;
}

/**
 * Creates the role, instance profile and `count` instances `${name}-${kind}-<i>` (1-based)
 * spread round-robin over the subnets, all parented to `parent`. Call after validation.
 */
export function createNodeGroup(
  parent: pulumi.ComponentResource,
  name: string,
  kind: NodeKind,
  count: number,
  args: NodeGroupArgs,
): NodeGroup {
  const tags = args.tags ?? {};
  const { role, instanceProfile } = nodeRole(name, kind, parent, tags);
  const amiId = args.amiId ?? latestAmazonLinuxAmi({ parent });
  // A new AL2023 release must not replace every node (and a quorum) on the next `up`.
  const ignoreChanges = args.amiId === undefined ? ["ami"] : [];
  const placement = spread(count, args.subnetIds.length);
  // A change reaches managers one at a time and workers a batch at a time: each instance
  // depends on the previous batch (rolling.ts), and the engine updates or replaces it only once
  // that batch is done. Day 1 pays for it: instances are created batch after batch too.
  const size = kind === "manager" ? 1 : workerBatchSize(args.rollingBatch, count);
  const instances: aws.ec2.Instance[] = [];
  for (const batch of inBatches(placement.map((az, i) => ({ az, i })), size)) {
    const previous = instances.slice(-size);
    for (const { az, i } of batch) {
      instances.push(swarmInstance(
        `${name}-${kind}-${i + 1}`,
        {
          kind,
          clusterName: args.clusterName ?? name,
          subnetId: args.subnetIds[az],
          securityGroupIds: args.securityGroupIds,
          instanceType: args.instanceType ?? DEFAULT_INSTANCE_TYPE,
          keyName: args.keyName,
          associatePublicIpAddress: args.associatePublicIpAddress ?? false,
          amiId,
          rootVolumeSize: args.rootVolumeSize ?? 20,
          instanceProfile: instanceProfile.name,
          tags,
        },
        { parent, ignoreChanges, dependsOn: previous },
      ));
    }
  }
  return {
    instances,
    nodeNames: instances.map((_, i) => `${kind}-${i + 1}`),
    privateIps: instances.map((x) => x.privateIp),
    publicIps: instances.map((x) => x.publicIp),
    availabilityZones: instances.map((x, i) => {
      const given = args.availabilityZones;
      return given ? pulumi.output(given[placement[i]]) : x.availabilityZone;
    }),
    instanceTypes: instances.map((x) => x.instanceType),
    role,
    instanceProfile,
  };
}

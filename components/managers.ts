import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid } from "./errors";
import { createNodeGroup, NodeGroupArgs, nodeGroupProblems } from "./node";
import { managerCountProblems } from "./quorum";

export { managerCountProblems };

/** Arguments of a ManagerQuorum; see NodeGroupArgs for the fields shared with WorkerPool. */
export interface ManagerQuorumArgs extends NodeGroupArgs {
  /**
   * Raft managers: 1, 3, 5 or 7. An odd count tolerates (count - 1) / 2 failures; an even one
   * tolerates no more than the odd count below it, and more than 7 slows every Raft write.
   * @default 3
   */
  count?: number;
}

/** Every problem with `args`; empty when the quorum can be built. */
export function managerQuorumProblems(args: ManagerQuorumArgs): string[] {
  return [...managerCountProblems(args.count ?? 3), ...nodeGroupProblems(args)];
}

/**
 * A fixed set of named Swarm manager instances `${name}-manager-<i>`, spread round-robin over
 * the given subnets (7 over 3 AZs land 3, 2, 2). Managers are plain instances, never an ASG, so
 * nothing replaces several of them at once and loses the quorum. Manager i keeps its name and
 * AZ when the count changes.
 */
export class ManagerQuorum extends pulumi.ComponentResource {
  /** The manager instances, manager-1 first (manager-1 initialises the swarm). */
  public readonly instances: aws.ec2.Instance[];
  /** Stable logical names ("manager-1", ...) in instance order. */
  public readonly nodeNames: string[];
  /** Private IPv4 address per manager; Swarm advertises and joins on these. */
  public readonly privateIps: pulumi.Output<string>[];
  /** Public IPv4 address per manager ("" without a public address). */
  public readonly publicIps: pulumi.Output<string>[];
  /** AZ name per manager. */
  public readonly availabilityZones: pulumi.Output<string>[];
  /** Instance type per manager. */
  public readonly instanceTypes: pulumi.Output<string>[];
  /** The managers' IAM role (no policies of its own). */
  public readonly role: aws.iam.Role;
  /** Instance profile carrying `role`. */
  public readonly instanceProfile: aws.iam.InstanceProfile;

  constructor(name: string, args: ManagerQuorumArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:ManagerQuorum", name, {}, opts);
    throwIfInvalid(this, managerQuorumProblems(args));
    const group = createNodeGroup(this, name, "manager", args.count ?? 3, args);
    this.instances = group.instances;
    this.nodeNames = group.nodeNames;
    this.privateIps = group.privateIps;
    this.publicIps = group.publicIps;
    this.availabilityZones = group.availabilityZones;
    this.instanceTypes = group.instanceTypes;
    this.role = group.role;
    this.instanceProfile = group.instanceProfile;
    this.registerOutputs({
      instances: this.instances,
      nodeNames: this.nodeNames,
      privateIps: this.privateIps,
      publicIps: this.publicIps,
      availabilityZones: this.availabilityZones,
      instanceTypes: this.instanceTypes,
      role: this.role,
      instanceProfile: this.instanceProfile,
    });
  }
}

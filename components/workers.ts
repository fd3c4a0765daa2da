import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid } from "./errors";
import { createNodeGroup, NodeGroupArgs, nodeGroupProblems } from "./node";
import { MAX_WORKER_COUNT, workerCountProblems } from "./quorum";

export { MAX_WORKER_COUNT, workerCountProblems };

/** Arguments of a WorkerPool; see NodeGroupArgs for the fields shared with ManagerQuorum. */
export interface WorkerPoolArgs extends NodeGroupArgs {
  /** Workers: a whole number from 0 to 1000. @default 2 */
  count?: number;
}

/** Every problem with `args`; empty when the pool can be built. */
export function workerPoolProblems(args: WorkerPoolArgs): string[] {
  return [...workerCountProblems(args.count ?? 2), ...nodeGroupProblems(args)];
}

/**
 * Swarm worker instances `${name}-worker-<i>`, spread round-robin over the given subnets.
 * Worker i keeps its name and AZ when the count changes; scaling down removes the highest ones.
 */
export class WorkerPool extends pulumi.ComponentResource {
  /** The worker instances, worker-1 first. */
  public readonly instances: aws.ec2.Instance[];
  /** Stable logical names ("worker-1", ...) in instance order. */
  public readonly nodeNames: string[];
  /** Private IPv4 address per worker. */
  public readonly privateIps: pulumi.Output<string>[];
  /** Public IPv4 address per worker ("" without a public address). */
  public readonly publicIps: pulumi.Output<string>[];
  /** AZ name per worker. */
  public readonly availabilityZones: pulumi.Output<string>[];
  /** Instance type per worker. */
  public readonly instanceTypes: pulumi.Output<string>[];
  /** The workers' IAM role (no policies of its own). */
  public readonly role: aws.iam.Role;
  /** Instance profile carrying `role`. */
  public readonly instanceProfile: aws.iam.InstanceProfile;

  constructor(name: string, args: WorkerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:WorkerPool", name, {}, opts);
    throwIfInvalid(this, workerPoolProblems(args));
    const group = createNodeGroup(this, name, "worker", args.count ?? 2, args);
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

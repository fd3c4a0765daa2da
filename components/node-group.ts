import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid } from "./errors";
import { createNodeGroup, NodeGroup, NodeGroupArgs } from "./node";
import { NodeKind } from "./roles";

/**
 * What ManagerQuorum and WorkerPool have in common: validate, create the role and the named
 * instances, expose them. The subclasses differ only in kind, default count and validation.
 */
export abstract class NodeGroupComponent extends pulumi.ComponentResource implements NodeGroup {
  /** The instances, `<kind>-1` first. */
  public readonly instances: aws.ec2.Instance[];
  /** Stable logical names ("manager-1", "worker-1", ...) in instance order. */
  public readonly nodeNames: string[];
  /** Private IPv4 address per node; Swarm advertises and joins on these. */
  public readonly privateIps: pulumi.Output<string>[];
  /** Public IPv4 address per node ("" without a public address). */
  public readonly publicIps: pulumi.Output<string>[];
  /** AZ name per node. */
  public readonly availabilityZones: pulumi.Output<string>[];
  /** Instance type per node. */
  public readonly instanceTypes: pulumi.Output<string>[];
  /** The nodes' IAM role (no policies of its own). */
  public readonly role: aws.iam.Role;
  /** Instance profile carrying `role`. */
  public readonly instanceProfile: aws.iam.InstanceProfile;

  protected constructor(
    type: string,
    name: string,
    kind: NodeKind,
    count: number,
    args: NodeGroupArgs,
    problems: string[],
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    throwIfInvalid(this, problems);
    const group = createNodeGroup(this, name, kind, count, args);
    this.instances = group.instances;
    this.nodeNames = group.nodeNames;
    this.privateIps = group.privateIps;
    this.publicIps = group.publicIps;
    this.availabilityZones = group.availabilityZones;
    this.instanceTypes = group.instanceTypes;
    this.role = group.role;
    this.instanceProfile = group.instanceProfile;
    this.registerOutputs({ ...group });
  }
}

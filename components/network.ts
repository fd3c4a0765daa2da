import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { azCountProblems, DEFAULT_AZ_COUNT, pickZones } from "./azs";
import {
  cidrNameKey,
  DEFAULT_VPC_CIDR,
  isValidIpv4Cidr,
  sshCidrProblems,
  subnetPlan,
  subnetPlanProblems,
} from "./cidr";
import { shown, throwIfInvalid } from "./errors";
import { ARGS_NAMES, SettingNames, Unchecked } from "./setting-names";
import { bastionInstance } from "./node";
import { IpProtocol, SSH_PORT, SWARM_PORTS } from "./ports";

/** Where Swarm nodes live: public subnets with public IPs, or private subnets behind NAT. */
export type NodePlacement = "public" | "private";

/** Placement when none is given: public nodes, no NAT gateway or bastion to pay for. */
export const DEFAULT_NODE_PLACEMENT: NodePlacement = "public";

/** Problems with a node placement: "public" or "private". */
export function nodePlacementProblems(value: unknown, setting = "nodePlacement"): string[] {
  if (value === "public" || value === "private") return [];
  return [
    `${setting} is ${shown(value)}; use "public" (nodes with public IPs, cheapest) or "private" ` +
      `(NAT gateway + bastion).`,
  ];
}

export interface NetworkArgs {
  /** IPv4 block of the VPC, /16 to /28, holding two subnets per AZ. @default "10.0.0.0/16" */
  vpcCidr?: string;
  /** Availability zones to use, 1..6; the region must have that many. @default 3 */
  azCount?: number;
  /**
   * `"public"`: nodes in public subnets with public IPs (cheap, for dev). `"private"`: nodes in
   * private subnets behind one NAT gateway, reached through a bastion. @default "public"
   */
  nodePlacement?: NodePlacement;
  /**
   * Who may SSH in: IPv4 or IPv6 network CIDRs such as "203.0.113.7/32". Required and never
   * 0.0.0.0/0 or ::/0. Public placement: allowed to the nodes; private: to the bastion only.
   */
  sshAllowedCidrs: string[];
  /** EC2 instance type of the bastion (private placement only). @default "t3.nano" */
  bastionInstanceType?: pulumi.Input<string>;
  /** EC2 key pair name for the bastion (private placement only). @default no key pair */
  keyName?: pulumi.Input<string>;
  /** Tags added to every resource (`Name` is set for you). @default {} */
  tags?: Record<string, string>;
}

/** One ingress rule of the network, as data: `key` is its stable name suffix. */
export interface IngressRuleSpec {
  /** Stable name suffix: the port's purpose or the SSH source CIDR, e.g. "gossip-udp". */
  key: string;
  /** Security group the rule is attached to. */
  target: "nodes" | "managers" | "bastion";
  /** EC2 protocol name or number ("50" is ESP). */
  protocol: IpProtocol;
  /** First and last port; absent for protocols without ports (ESP). */
  fromPort?: number;
  toPort?: number;
  /** Where traffic may come from: one of our security groups, or a CIDR. */
  source: { securityGroup: "nodes" | "bastion" } | { cidr: string };
  /** Rule description shown in the EC2 console. */
  description: string;
}

const hasPorts = (protocol: IpProtocol) => protocol === "tcp" || protocol === "udp";

/**
 * Every ingress rule for a placement, built from the port matrix in ports.ts: Swarm ports from
 * the nodes group, SSH from `sshAllowedCidrs` (public) or from the bastion group (private).
 * Keys come from a rule's purpose or CIDR text, never a list position, so editing the list
 * never replaces an unrelated rule.
 */
export function ingressPlan(placement: NodePlacement, sshCidrs: string[]): IngressRuleSpec[] {
  const swarm: IngressRuleSpec[] = SWARM_PORTS.map((p) => ({
    key: p.purpose,
    target: p.target,
    protocol: p.protocol,
    // Port ranges exist only for TCP, UDP and ICMP; ESP rules carry none.
    ...(hasPorts(p.protocol) ? { fromPort: p.fromPort, toPort: p.toPort } : {}),
    source: { securityGroup: "nodes" },
    description: p.description,
  }));
  const ssh = (target: "nodes" | "bastion", prefix: string) =>
    sshCidrs.map(
      (cidr): IngressRuleSpec => ({
        key: `${prefix}ssh-${cidrNameKey(cidr)}`,
        target,
        protocol: "tcp",
        fromPort: SSH_PORT,
        toPort: SSH_PORT,
        source: { cidr },
        description: `SSH from ${cidr}`,
      }),
    );
  if (placement === "public") return [...swarm, ...ssh("nodes", "")];
  return [
    ...swarm,
    {
      key: "ssh-from-bastion",
      target: "nodes",
      protocol: "tcp",
      fromPort: SSH_PORT,
      toPort: SSH_PORT,
      source: { securityGroup: "bastion" },
      description: "SSH from the bastion",
    },
    ...ssh("bastion", "bastion-"),
  ];
}

/**
 * Every problem with `args`; messages name the setting as the caller wrote it (`names.prefix`
 * is "aws-swarm:" when config.ts checks stack config), the value and the fix.
 */
export function networkProblems(
  args: Unchecked<Pick<NetworkArgs, "vpcCidr" | "azCount" | "nodePlacement" | "sshAllowedCidrs">>,
  names: SettingNames = ARGS_NAMES,
): string[] {
  const at = (field: string) => `${names.prefix}${field}`;
  const azCount = args.azCount ?? DEFAULT_AZ_COUNT;
  return [
    ...azCountProblems(azCount, at("azCount")),
    ...subnetPlanProblems(args.vpcCidr ?? DEFAULT_VPC_CIDR, azCount, at("vpcCidr")),
    ...nodePlacementProblems(args.nodePlacement ?? DEFAULT_NODE_PLACEMENT, at("nodePlacement")),
    ...sshCidrProblems(args.sshAllowedCidrs, at("sshAllowedCidrs"), names),
  ];
}

/**
 * A VPC over `azCount` AZs with one public subnet per AZ and, for private placement, one
 * private subnet per AZ behind a single NAT gateway plus a bastion. Security groups `nodes` and
 * `managers` carry only the rules of the port matrix; the VPC's default group is emptied.
 */
export class Network extends pulumi.ComponentResource {
  /** The VPC ID. */
  public readonly vpcId: pulumi.Output<string>;
  /** Where the nodes go. */
  public readonly nodePlacement: NodePlacement;
  /** One public subnet per AZ, in AZ order. */
  public readonly publicSubnetIds: pulumi.Output<string>[];
  /** One private subnet per AZ (empty for public placement). */
  public readonly privateSubnetIds: pulumi.Output<string>[];
  /** The subnets nodes are launched in: the public or the private ones. */
  public readonly nodeSubnetIds: pulumi.Output<string>[];
  /** AZ name per AZ index, same order as the subnets. */
  public readonly availabilityZones: pulumi.Output<string>[];
  /** Security group for every node (gossip, overlay, ESP, SSH). */
  public readonly nodesSecurityGroupId: pulumi.Output<string>;
  /** Security group for managers only (2377 from nodes). */
  public readonly managersSecurityGroupId: pulumi.Output<string>;
  /** The bastion's security group (private placement only). */
  public readonly bastionSecurityGroupId?: pulumi.Output<string>;
  /** The bastion host (private placement only). */
  public readonly bastion?: aws.ec2.Instance;
  /** The bastion's public IPv4 address, the SSH jump host (private placement only). */
  public readonly bastionPublicIp?: pulumi.Output<string>;
  /** Where nodes accept SSH from, for humans: the CIDR list or the bastion group. */
  public readonly sshIngressSource: string;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:Network", name, {}, opts);
    throwIfInvalid(this, networkProblems(args));
    const azCount = args.azCount ?? DEFAULT_AZ_COUNT;
    const placement = args.nodePlacement ?? DEFAULT_NODE_PLACEMENT;
    const vpcCidr = args.vpcCidr ?? DEFAULT_VPC_CIDR;
    const plan = subnetPlan(vpcCidr, azCount);
    const tags = (suffix: string) => ({ ...args.tags, Name: `${name}-${suffix}` });
    const parent = this;

    // Local and Wavelength zones report "available" too but lack NAT gateways and t3 types.
    const optIn = [{ name: "opt-in-status", values: ["opt-in-not-required"] }];
    const zones = aws
      .getAvailabilityZonesOutput({ state: "available", filters: optIn }, { parent })
      .apply((r) => pickZones(r.names, azCount));
    this.availabilityZones = plan.public.map((_, i) => zones.apply((z) => z[i]));

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags("vpc") },
      { parent },
    );
    const vpcId = vpc.id;
    // Adopting the default group with no rules deletes the allow-all rules AWS puts in it.
    new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      { vpcId, tags: tags("default-sg") },
      { parent },
    );
    const igw = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId, tags: tags("igw") },
      { parent },
    );

    type Tier = "public" | "private";
    const subnets = (tier: Tier, cidrs: string[]) =>
      cidrs.map((cidrBlock, i) => {
        const n = `${tier}-${i + 1}`;
        const availabilityZone = this.availabilityZones[i];
        const mapPublicIpOnLaunch = tier === "public" && placement === "public";
        return new aws.ec2.Subnet(
          `${name}-${n}`,
          { vpcId, cidrBlock, availabilityZone, mapPublicIpOnLaunch, tags: tags(n) },
          { parent },
        );
      });
    type Target = Omit<aws.ec2.RouteArgs, "routeTableId">;
    const route = (tier: Tier, list: aws.ec2.Subnet[], to: Target) => {
      const rt = new aws.ec2.RouteTable(
        `${name}-${tier}-rt`,
        { vpcId, tags: tags(`${tier}-rt`) },
        { parent },
      );
      const routeTableId = rt.id;
      new aws.ec2.Route(`${name}-${tier}-default-route`, { ...to, routeTableId }, { parent });
      list.forEach((s, i) => {
        const n = `${name}-${tier}-${i + 1}-rt`;
        new aws.ec2.RouteTableAssociation(n, { subnetId: s.id, routeTableId }, { parent });
      });
    };

    const publicSubnets = subnets("public", plan.public);
    route("public", publicSubnets, { destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });
    let privateSubnets: aws.ec2.Subnet[] = [];
    if (placement === "private") {
      const after = { parent, dependsOn: [igw] };
      const eip = new aws.ec2.Eip(
        `${name}-nat-eip`,
        { domain: "vpc", tags: tags("nat-eip") },
        after,
      );
      // One NAT gateway keeps the bill low; nodes lose egress (not the swarm) if its AZ fails.
      const nat = new aws.ec2.NatGateway(
        `${name}-nat`,
        { allocationId: eip.id, subnetId: publicSubnets[0].id, tags: tags("nat") },
        after,
      );
      privateSubnets = subnets("private", plan.private);
      route("private", privateSubnets, { destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id });
    }

    const group = (role: string, description: string) =>
      new aws.ec2.SecurityGroup(
        `${name}-${role}`,
        { vpcId, description, tags: tags(role) },
        { parent },
      );
    const groups: Record<string, aws.ec2.SecurityGroup> = {
      nodes: group("nodes", "Swarm nodes: gossip, overlay and SSH"),
      managers: group("managers", "Swarm managers: cluster management from nodes"),
    };
    if (placement === "private") groups.bastion = group("bastion", "SSH jump host for Swarm nodes");

    for (const rule of ingressPlan(placement, args.sshAllowedCidrs)) {
      const from = rule.source;
      const source =
        "securityGroup" in from
          ? { referencedSecurityGroupId: groups[from.securityGroup].id }
          : isValidIpv4Cidr(from.cidr)
            ? { cidrIpv4: from.cidr }
            : { cidrIpv6: from.cidr };
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${rule.key}`,
        {
          securityGroupId: groups[rule.target].id,
          ipProtocol: rule.protocol,
          fromPort: rule.fromPort,
          toPort: rule.toPort,
          ...source,
          description: rule.description,
          tags: tags(rule.key),
        },
        { parent },
      );
    }
    // Nodes fetch packages and images and reach S3; the bastion reaches nodes and updates.
    for (const role of Object.keys(groups).filter((g) => g !== "managers")) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${role}-egress`,
        {
          securityGroupId: groups[role].id,
          ipProtocol: "-1",
          cidrIpv4: "0.0.0.0/0",
          description: "All outbound traffic",
          tags: tags(`${role}-egress`),
        },
        { parent },
      );
    }

    if (placement === "private") {
      this.bastion = bastionInstance(
        `${name}-bastion`,
        {
          subnetId: publicSubnets[0].id,
          securityGroupId: groups.bastion.id,
          instanceType: args.bastionInstanceType ?? "t3.nano",
          keyName: args.keyName,
          tags: tags("bastion"),
        },
        { parent },
      );
      this.bastionSecurityGroupId = groups.bastion.id;
      this.bastionPublicIp = this.bastion.publicIp;
    }

    this.vpcId = vpc.id;
    this.nodePlacement = placement;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.nodeSubnetIds = placement === "public" ? this.publicSubnetIds : this.privateSubnetIds;
    this.nodesSecurityGroupId = groups.nodes.id;
    this.managersSecurityGroupId = groups.managers.id;
    this.sshIngressSource =
      placement === "public"
        ? `sshAllowedCidrs: ${args.sshAllowedCidrs.join(", ")}`
        : `bastion security group ${name}-bastion (open to ${args.sshAllowedCidrs.join(", ")})`;
    this.registerOutputs({
      vpcId: this.vpcId,
      nodePlacement: this.nodePlacement,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      nodeSubnetIds: this.nodeSubnetIds,
      availabilityZones: this.availabilityZones,
      nodesSecurityGroupId: this.nodesSecurityGroupId,
      managersSecurityGroupId: this.managersSecurityGroupId,
      bastionSecurityGroupId: this.bastionSecurityGroupId,
      bastion: this.bastion,
      bastionPublicIp: this.bastionPublicIp,
      sshIngressSource: this.sshIngressSource,
    });
  }
}

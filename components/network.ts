import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { pickZones, MAX_AZ_COUNT, MIN_AZ_COUNT } from "./azs";
import {
  cidrNameKey,
  isValidIpv4Cidr,
  isValidIpv6Cidr,
  isWorldCidr,
  subnetPlan,
  subnetPlanProblems,
} from "./cidr";
import { shown, throwIfInvalid } from "./errors";
import { latestAmazonLinuxAmi } from "./node";
import { IpProtocol, SSH_PORT, SWARM_PORTS } from "./ports";

/** Where Swarm nodes live: public subnets with public IPs, or private subnets behind NAT. */
export type NodePlacement = "public" | "private";

export interface NetworkArgs {
  /** IPv4 block of the VPC, /16 to /28, big enough for two subnets per AZ. @default "10.0.0.0/16" */
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
  key: string;
  /** Security group the rule is attached to. */
  target: "nodes" | "managers" | "bastion";
  protocol: IpProtocol;
  /** Port range; absent for protocols without ports (ESP). */
  fromPort?: number;
  toPort?: number;
  /** Where traffic may come from: one of our security groups, or a CIDR. */
  source: { securityGroup: "nodes" | "bastion" } | { cidr: string };
  description: string;
}

/**
 * Every ingress rule for a placement, built from the port matrix in ports.ts: Swarm ports from
 * the nodes group, SSH from `sshAllowedCidrs` (public) or from the bastion group (private).
 * Keys come from a rule's purpose or CIDR text, never a list position, so editing the list
 * never replaces an unrelated rule.
 */
export function ingressPlan(placement: NodePlacement, sshAllowedCidrs: string[]): IngressRuleSpec[] {
  const swarm: IngressRuleSpec[] = SWARM_PORTS.map((p) => ({
    key: p.purpose,
    target: p.target,
    protocol: p.protocol,
    ...(p.protocol === "tcp" || p.protocol === "udp" ? { fromPort: p.fromPort, toPort: p.toPort } : {}),
    source: { securityGroup: "nodes" },
    description: p.description,
  }));
  const ssh = (target: "nodes" | "bastion", prefix: string) =>
    sshAllowedCidrs.map(
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

/** Every problem with `args`; messages name the setting, the value and the fix. */
export function networkProblems(args: NetworkArgs): string[] {
  const problems: string[] = [];
  const azCount = args.azCount ?? 3;
  if (!Number.isInteger(azCount) || azCount < MIN_AZ_COUNT || azCount > MAX_AZ_COUNT) {
    problems.push(`azCount is ${shown(azCount)}; use a whole number from ${MIN_AZ_COUNT} to ${MAX_AZ_COUNT}.`);
  }
  problems.push(...subnetPlanProblems(args.vpcCidr ?? "10.0.0.0/16", azCount));
  const placement = args.nodePlacement ?? "public";
  if (placement !== "public" && placement !== "private") {
    problems.push(`nodePlacement is ${shown(placement)}; use "public" or "private".`);
  }
  const cidrs = args.sshAllowedCidrs;
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    problems.push(
      `sshAllowedCidrs is ${shown(cidrs)}; list the networks allowed to SSH in, e.g. ["203.0.113.7/32"].`,
    );
    return problems;
  }
  const keys = new Map<string, string>();
  cidrs.forEach((cidr, i) => {
    const at = `sshAllowedCidrs[${i}] is ${shown(cidr)}`;
    if (typeof cidr !== "string" || !(isValidIpv4Cidr(cidr) || isValidIpv6Cidr(cidr))) {
      problems.push(`${at}; use an IPv4 or IPv6 network CIDR with host bits zero, e.g. "203.0.113.0/24".`);
    } else if (isWorldCidr(cidr)) {
      problems.push(`${at}; SSH must never be open to the world: list your own networks, e.g. "203.0.113.7/32".`);
    } else if (keys.has(cidrNameKey(cidr))) {
      problems.push(`${at}, a duplicate of ${shown(keys.get(cidrNameKey(cidr)))}; list each CIDR once.`);
    } else {
      keys.set(cidrNameKey(cidr), cidr);
    }
  });
  return problems;
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
    const azCount = args.azCount ?? 3;
    const placement = args.nodePlacement ?? "public";
    const vpcCidr = args.vpcCidr ?? "10.0.0.0/16";
    const plan = subnetPlan(vpcCidr, azCount);
    const tags = (n: string) => ({ ...args.tags, Name: n });
    const parent = this;

    // Local and Wavelength zones report "available" too but lack NAT gateways and t3 types.
    const zones = aws
      .getAvailabilityZonesOutput(
        { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
        { parent },
      )
      .apply((r) => pickZones(r.names, azCount));
    this.availabilityZones = plan.public.map((_, i) => zones.apply((z) => z[i]));

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags(`${name}-vpc`) },
      { parent },
    );
    // Adopting the default group with no rules deletes the allow-all rules AWS puts in it.
    new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      { vpcId: vpc.id, tags: tags(`${name}-default-sg`) },
      { parent },
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags(`${name}-igw`) }, { parent });

    const subnets = (kind: "public" | "private", cidrs: string[]) =>
      cidrs.map((cidrBlock, i) => {
        const n = `${name}-${kind}-${i + 1}`;
        return new aws.ec2.Subnet(
          n,
          {
            vpcId: vpc.id,
            cidrBlock,
            availabilityZone: this.availabilityZones[i],
            mapPublicIpOnLaunch: kind === "public" && placement === "public",
            tags: tags(n),
          },
          { parent },
        );
      });
    const routeTable = (kind: "public" | "private", subnetList: aws.ec2.Subnet[], target: Omit<aws.ec2.RouteArgs, "routeTableId">) => {
      const rt = new aws.ec2.RouteTable(`${name}-${kind}-rt`, { vpcId: vpc.id, tags: tags(`${name}-${kind}-rt`) }, { parent });
      new aws.ec2.Route(`${name}-${kind}-default-route`, { ...target, routeTableId: rt.id }, { parent });
      subnetList.forEach(
        (s, i) =>
          new aws.ec2.RouteTableAssociation(`${name}-${kind}-${i + 1}-rt`, { subnetId: s.id, routeTableId: rt.id }, { parent }),
      );
    };

    const publicSubnets = subnets("public", plan.public);
    routeTable("public", publicSubnets, { destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });
    let privateSubnets: aws.ec2.Subnet[] = [];
    if (placement === "private") {
      const eip = new aws.ec2.Eip(`${name}-nat-eip`, { domain: "vpc", tags: tags(`${name}-nat-eip`) }, { parent, dependsOn: [igw] });
      // One NAT gateway keeps the bill low; nodes lose egress (not the swarm) if its AZ fails.
      const nat = new aws.ec2.NatGateway(
        `${name}-nat`,
        { allocationId: eip.id, subnetId: publicSubnets[0].id, tags: tags(`${name}-nat`) },
        { parent, dependsOn: [igw] },
      );
      privateSubnets = subnets("private", plan.private);
      routeTable("private", privateSubnets, { destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id });
    }

    const group = (role: string, description: string) =>
      new aws.ec2.SecurityGroup(`${name}-${role}`, { vpcId: vpc.id, description, tags: tags(`${name}-${role}`) }, { parent });
    const groups: Record<string, aws.ec2.SecurityGroup> = {
      nodes: group("nodes", "Swarm nodes: gossip, overlay and SSH"),
      managers: group("managers", "Swarm managers: cluster management from nodes"),
    };
    if (placement === "private") groups.bastion = group("bastion", "SSH bastion for the Swarm nodes");

    for (const rule of ingressPlan(placement, args.sshAllowedCidrs)) {
      const source =
        "cidr" in rule.source
          ? isValidIpv4Cidr(rule.source.cidr)
            ? { cidrIpv4: rule.source.cidr }
            : { cidrIpv6: rule.source.cidr }
          : { referencedSecurityGroupId: groups[rule.source.securityGroup].id };
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${rule.key}`,
        {
          securityGroupId: groups[rule.target].id,
          ipProtocol: rule.protocol,
          fromPort: rule.fromPort,
          toPort: rule.toPort,
          ...source,
          description: rule.description,
          tags: tags(`${name}-${rule.key}`),
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
          tags: tags(`${name}-${role}-egress`),
        },
        { parent },
      );
    }

    if (placement === "private") {
      this.bastion = new aws.ec2.Instance(
        `${name}-bastion`,
        {
          ami: latestAmazonLinuxAmi({ parent }),
          instanceType: args.bastionInstanceType ?? "t3.nano",
          subnetId: publicSubnets[0].id,
          vpcSecurityGroupIds: [groups.bastion.id],
          associatePublicIpAddress: true,
          keyName: args.keyName,
          metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
          rootBlockDevice: { encrypted: true, volumeType: "gp3" },
          tags: tags(`${name}-bastion`),
          volumeTags: tags(`${name}-bastion`),
        },
        // A new AMI release must not replace the bastion and change the jump host's address.
        { parent, ignoreChanges: ["ami"] },
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
        : `bastion security group ${name}-bastion (which allows ${args.sshAllowedCidrs.join(", ")})`;
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

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { cidrNameKey, isValidIpv4Cidr, sourceCidrsProblems } from "./cidr";
import { shown, throwIfInvalid } from "./errors";
import { PortProtocol, PublishedEndpoint, RESERVED_PORTS } from "./services-config";

/** A node the load balancer forwards to; Swarm's routing mesh takes it on to a task. */
export interface LoadBalancerTarget {
  /** Stable node name, e.g. "worker-3"; attachment names derive from it. */
  name: string;
  /** The EC2 instance ID. */
  instanceId: pulumi.Input<string>;
}

/** Arguments of {@link PublishedPorts}: the ports, the nodes behind them and the network. */
export interface PublishedPortsArgs {
  /** Ports and protocols services publish; one listener and target group each. */
  endpoints: PublishedEndpoint[];
  /** VPC of the nodes. */
  vpcId: pulumi.Input<string>;
  /** Public subnets for the internet-facing load balancer, one per AZ. */
  subnetIds: pulumi.Input<string>[];
  /** Security group of every node; receives the published ports from the load balancer. */
  nodesSecurityGroupId: pulumi.Input<string>;
  /** Every node, registered in every target group. */
  targets: LoadBalancerTarget[];
  /** Networks that may also reach the published ports on the nodes directly. @default [] */
  publishedCidrs?: string[];
  /** Tags added to every resource (`Name` is set for you). @default {} */
  tags?: Record<string, string>;
}

/** One security group rule of the published ports, as data; `key` is its stable name suffix. */
export interface PublishedRuleSpec {
  key: string;
  /** The group the rule belongs to. */
  group: "lb" | "nodes";
  direction: "ingress" | "egress";
  protocol: PortProtocol;
  port: number;
  /** The other side: one of our groups, or a CIDR. */
  peer: { securityGroup: "lb" | "nodes" } | { cidr: string };
  description: string;
}

const endpointKey = (e: PublishedEndpoint) => `${e.port}-${e.protocol}`;

/**
 * Every rule the published ports need. Clients reach the load balancer from anywhere; it
 * reaches the nodes (traffic and health checks are subject to its egress rules) and the nodes
 * accept the ports only from its group and from `publishedCidrs`. NLB health checks are TCP,
 * so a UDP-only port also gets TCP rules for its check.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
 */
export function publishedPortRules(
  endpoints: PublishedEndpoint[],
  publishedCidrs: string[] = [],
): PublishedRuleSpec[] {
  const rules: PublishedRuleSpec[] = [];
  const toNodes = (key: string, protocol: PortProtocol, port: number, what: string) =>
    rules.push(
      {
        key: `out-${key}`,
        group: "lb",
        direction: "egress",
        protocol,
        port,
        peer: { securityGroup: "nodes" },
        description: `${what} to the nodes`,
      },
      {
        key: `nodes-${key}-from-lb`,
        group: "nodes",
        direction: "ingress",
        protocol,
        port,
        peer: { securityGroup: "lb" },
        description: `${what} from the load balancer`,
      },
    );
  for (const e of endpoints) {
    const key = endpointKey(e);
    const what = `Published port ${e.port}/${e.protocol}`;
    const traffic = { protocol: e.protocol, port: e.port } as const;
    rules.push({
      key: `in-${key}`,
      group: "lb",
      direction: "ingress",
      ...traffic,
      peer: { cidr: "0.0.0.0/0" },
      description: `${what} from clients`,
    });
    toNodes(key, e.protocol, e.port, what);
    for (const cidr of publishedCidrs) {
      rules.push({
        key: `nodes-${key}-from-${cidrNameKey(cidr)}`,
        group: "nodes",
        direction: "ingress",
        ...traffic,
        peer: { cidr },
        description: `${what} from ${cidr}`,
      });
    }
    const tcpTraffic = endpoints.some((o) => o.port === e.port && o.protocol === "tcp");
    if (e.protocol === "udp" && !tcpTraffic) {
      toNodes(`${e.port}-tcp-health`, "tcp", e.port, `Health check of ${e.port}/udp`);
    }
  }
  return rules;
}

/** Every problem with `args`, each naming the setting, the value and the fix. */
export function publishedPortsProblems(args: PublishedPortsArgs): string[] {
  const problems: string[] = [];
  const endpoints = Array.isArray(args.endpoints) ? args.endpoints : [];
  if (endpoints.length === 0) {
    problems.push(`endpoints is ${shown(args.endpoints)}; list at least one published port.`);
  }
  const seen = new Set<string>();
  endpoints.forEach((e, i) => {
    const at = `endpoints[${i}]`;
    if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      problems.push(`${at}.port is ${shown(e.port)}; use a whole number from 1 to 65535.`);
    } else if (RESERVED_PORTS.includes(e.port)) {
      problems.push(
        `${at}.port is ${e.port}, reserved for SSH, the Docker API, Swarm or the registry ` +
          `(${RESERVED_PORTS.join(", ")}); publish another port.`,
      );
    }
    if (e.protocol !== "tcp" && e.protocol !== "udp") {
      problems.push(`${at}.protocol is ${shown(e.protocol)}; use "tcp" or "udp".`);
    }
    if (seen.has(endpointKey(e))) {
      problems.push(`${at} is ${e.port}/${e.protocol} again; list each port and protocol once.`);
    }
    seen.add(endpointKey(e));
  });
  const targets = Array.isArray(args.targets) ? args.targets : [];
  if (targets.length === 0) {
    problems.push(`targets is ${shown(args.targets)}; register at least one node.`);
  }
  const names = targets.map((t) => t.name);
  names.forEach((n, i) => {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(n ?? "")) {
      problems.push(`targets[${i}].name is ${shown(n)}; use kebab-case such as "worker-1".`);
    } else if (names.indexOf(n) !== i) {
      problems.push(`targets[${i}].name is ${shown(n)} again; give every node its own name.`);
    }
  });
  return [...problems, ...publishedCidrProblems(args.publishedCidrs)];
}

/** Problems with the networks that may reach published ports on the nodes directly. */
export function publishedCidrProblems(cidrs: unknown, key = "publishedCidrs"): string[] {
  return sourceCidrsProblems(cidrs, key, { opens: "the published ports on the nodes" });
}

/**
 * An internet-facing Network Load Balancer in the public subnets for the ports Swarm services
 * publish: a listener and a TCP-checked target group per port and protocol, every node
 * registered (the routing mesh forwards to a task anywhere), and security group rules so that
 * nodes accept those ports only from the load balancer and from `publishedCidrs`.
 */
export class PublishedPorts extends pulumi.ComponentResource {
  /** The load balancer's DNS name; clients connect to it. */
  readonly dnsName: pulumi.Output<string>;
  /** The load balancer ARN. */
  readonly arn: pulumi.Output<string>;
  /** The load balancer's own security group. */
  readonly securityGroupId: pulumi.Output<string>;
  /** Target group ARNs by "<port>-<protocol>". */
  readonly targetGroupArns: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: PublishedPortsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:PublishedPorts", name, {}, opts);
    throwIfInvalid(this, publishedPortsProblems(args));
    const parent = this;
    const tags = (suffix: string) => ({ ...args.tags, Name: `${name}-${suffix}` });

    const lbGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: "Load balancer of published Swarm service ports",
      tags: tags("sg"),
    }, { parent });
    const groupIds = { lb: lbGroup.id, nodes: pulumi.output(args.nodesSecurityGroupId) };
    for (const rule of publishedPortRules(args.endpoints, args.publishedCidrs)) {
      const peer = rule.peer;
      const other =
        "securityGroup" in peer
          ? { referencedSecurityGroupId: groupIds[peer.securityGroup] }
          : isValidIpv4Cidr(peer.cidr)
            ? { cidrIpv4: peer.cidr }
            : { cidrIpv6: peer.cidr };
      const ruleArgs = {
        securityGroupId: groupIds[rule.group],
        ipProtocol: rule.protocol,
        fromPort: rule.port,
        toPort: rule.port,
        ...other,
        description: rule.description,
        tags: tags(rule.key),
      };
      if (rule.direction === "ingress") {
        new aws.vpc.SecurityGroupIngressRule(`${name}-${rule.key}`, ruleArgs, { parent });
      } else {
        new aws.vpc.SecurityGroupEgressRule(`${name}-${rule.key}`, ruleArgs, { parent });
      }
    }

    // A security group can only be given to an NLB when it is created, never added later.
    const lb = new aws.lb.LoadBalancer(`${name}-nlb`, {
      loadBalancerType: "network",
      internal: false,
      subnets: args.subnetIds,
      securityGroups: [lbGroup.id],
      // Every node reaches every task through the routing mesh, so any AZ's node will do,
      // also when an AZ has no node at all (dev stacks).
      enableCrossZoneLoadBalancing: true,
      tags: tags("nlb"),
    }, { parent });

    this.targetGroupArns = {};
    for (const e of args.endpoints) {
      const key = endpointKey(e);
      const protocol = e.protocol.toUpperCase();
      const group = new aws.lb.TargetGroup(`${name}-${key}`, {
        vpcId: args.vpcId,
        targetType: "instance",
        port: e.port,
        protocol,
        healthCheck: {
          protocol: "TCP",
          port: "traffic-port",
          interval: 10,
          healthyThreshold: 3,
          unhealthyThreshold: 3,
        },
        tags: tags(key),
      }, { parent });
      new aws.lb.Listener(`${name}-${key}-listener`, {
        loadBalancerArn: lb.arn,
        port: e.port,
        protocol,
        defaultActions: [{ type: "forward", targetGroupArn: group.arn }],
        tags: tags(`${key}-listener`),
      }, { parent });
      for (const t of args.targets) {
        new aws.lb.TargetGroupAttachment(`${name}-${key}-${t.name}`, {
          targetGroupArn: group.arn,
          targetId: t.instanceId,
          port: e.port,
        }, { parent });
      }
      this.targetGroupArns[key] = group.arn;
    }

    this.dnsName = lb.dnsName;
    this.arn = lb.arn;
    this.securityGroupId = lbGroup.id;
    this.registerOutputs({
      dnsName: this.dnsName,
      arn: this.arn,
      securityGroupId: this.securityGroupId,
      targetGroupArns: this.targetGroupArns,
    });
  }
}

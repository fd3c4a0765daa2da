import * as aws from "@pulumi/aws";
import { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { entries, field, flag, int, isUnknown, ofType, Props, strings, text } from "./read";
import { reportNotKnown } from "./unknown";
import { describeResource } from "./where";

/**
 * One ingress permission, whichever way AWS offers it was written in: an inline `ingress` block
 * of aws.ec2.SecurityGroup or aws.ec2.DefaultSecurityGroup, an aws.ec2.SecurityGroupRule of type
 * "ingress", an aws.vpc.SecurityGroupIngressRule, or the SSH access AWS opens for an
 * aws.eks.NodeGroup's remoteAccess. Port rules are written once against this shape; the adapters
 * below translate each resource type into it.
 */
export interface Ingress {
  /** Where the rule lives, e.g. `security group "nodes" ingress[2]`. */
  where: string;
  protocol: TrafficProtocol;
  /** The protocol as written, for messages: "-1", "all", "6", "tcp", "50". */
  rawProtocol: string;
  /** First port; 0 when unset (the whole range). Ignored for "all", "esp" and "other". */
  fromPort: number;
  /** Last port; 65535 when unset (the whole range). */
  toPort: number;
  /** Everything the rule admits traffic from; empty means it admits nothing. */
  sources: IngressSource[];
  /** Parts a preview does not know yet (`protocol`, `cidrBlocks[1]`), for the advisory. */
  unknown: string[];
}

/**
 * Protocols the port rules reason about; everything else (icmp, gre, ...) is "other", and a
 * protocol a preview does not know yet is "unknown".
 */
export type TrafficProtocol = "tcp" | "udp" | "esp" | "all" | "other" | "unknown";

export type IngressSource =
  | { kind: "cidr"; cidr: string }
  | { kind: "prefix-list"; id: string }
  | { kind: "security-group"; id: string }
  | { kind: "self" };

/** A port rule's predicate: inspects one ingress permission and reports what it forbids. */
export type IngressCheck = (
  ingress: Ingress,
  report: ReportViolation,
  args: ResourceValidationArgs,
) => void;

/** Turns an ingress predicate into a validation for one resource type. */
export type IngressAdapter = (check: IngressCheck) => ResourceValidation;

const ALL_PORTS = { from: 0, to: 65535 };

/** EC2 accepts names and IANA numbers; "-1" and "all" both mean every protocol. */
export function normalizeProtocol(protocol: string | number | undefined): TrafficProtocol {
  switch (
    String(protocol ?? "")
      .trim()
      .toLowerCase()
  ) {
    case "-1":
    case "all":
      return "all";
    case "6":
    case "tcp":
      return "tcp";
    case "17":
    case "udp":
      return "udp";
    case "50":
    case "esp":
      return "esp";
    default:
      return "other";
  }
}

/** Shown for a security group or prefix list ID that a preview does not know yet. */
export const ID_AFTER_APPLY = "(ID known after apply)";

/** Builds an Ingress from snapshotted values, noting which of them are unknown. */
class IngressBuilder {
  private readonly sources: IngressSource[] = [];
  private readonly unknown: string[] = [];

  constructor(private readonly where: string) {}

  /** CIDR blocks: a list (nulls skipped) or, for vpc rules, one string. */
  cidrs(property: string, value: unknown): this {
    if (isUnknown(value)) this.unknown.push(property);
    else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (isUnknown(v)) this.unknown.push(`${property}[${i}]`);
        else if (typeof v === "string" && v.trim() !== "")
          this.sources.push({ kind: "cidr", cidr: v });
      });
    } else if (typeof value === "string" && value.trim() !== "") {
      this.sources.push({ kind: "cidr", cidr: value });
    }
    return this;
  }

  /**
   * Security group or prefix list IDs. Whether a source is a group or a CIDR decides every port
   * rule, its ID never does, so an ID that is unknown during a preview is no reason to stop.
   */
  ids(kind: "prefix-list" | "security-group", value: unknown): this {
    if (isUnknown(value)) {
      this.sources.push({ kind, id: ID_AFTER_APPLY });
      return this;
    }
    for (const id of strings(value)) {
      if (id === "") continue;
      this.sources.push({ kind, id: isUnknown(id) ? ID_AFTER_APPLY : id });
    }
    return this;
  }

  self(value: unknown): this {
    const self = flag(value);
    if (self === true) this.sources.push({ kind: "self" });
    // An unknown `self` can only add the group itself, which no port rule forbids.
    return this;
  }

  build(protocolValue: unknown, fromValue: unknown, toValue: unknown): Ingress {
    const raw =
      text(protocolValue) ??
      (typeof protocolValue === "number" ? String(protocolValue) : undefined);
    const port = (value: unknown, name: string, fallback: number): number => {
      const n = int(value);
      if (isUnknown(n)) {
        this.unknown.push(name);
        return fallback;
      }
      return n ?? fallback;
    };
    if (isUnknown(raw)) this.unknown.push("protocol");
    return {
      where: this.where,
      protocol: isUnknown(raw) ? "unknown" : normalizeProtocol(raw),
      rawProtocol: isUnknown(raw) ? "(unknown)" : (raw ?? ""),
      fromPort: port(fromValue, "fromPort", ALL_PORTS.from),
      toPort: port(toValue, "toPort", ALL_PORTS.to),
      sources: this.sources,
      unknown: this.unknown,
    };
  }
}

/** A resource as the extractors need it: its type and name, for messages. */
export interface IngressAt {
  type: string;
  name: string;
}

/** Every ingress permission one resource writes, from its snapshotted props. */
export type IngressExtractor = (props: Props, at: IngressAt, report: ReportViolation) => Ingress[];

/** Inline `ingress` blocks of a security group (own or the VPC's default one). */
function inlineIngress(props: Props, args: IngressAt): Ingress[] {
  const here = describeResource(args.type, args.name);
  const list = props.ingress;
  if (isUnknown(list)) {
    return [
      {
        ...new IngressBuilder(`${here} ingress`).build("-1", 0, 65535),
        sources: [],
        unknown: ["ingress"],
      },
    ];
  }
  return entries(list).flatMap(({ item, i }) => {
    const where = `${here} ingress[${i}]`;
    if (isUnknown(item)) {
      return [
        { ...new IngressBuilder(where).build("-1", 0, 65535), sources: [], unknown: ["the entry"] },
      ];
    }
    if (item === null || typeof item !== "object") return [];
    return [
      new IngressBuilder(where)
        .cidrs("cidrBlocks", field(item, "cidrBlocks"))
        .cidrs("ipv6CidrBlocks", field(item, "ipv6CidrBlocks"))
        .ids("prefix-list", field(item, "prefixListIds"))
        .ids("security-group", field(item, "securityGroups"))
        .self(field(item, "self"))
        .build(field(item, "protocol"), field(item, "fromPort"), field(item, "toPort")),
    ];
  });
}

/** aws.ec2.SecurityGroupRule; egress rules give none. */
function securityGroupRuleIngress(rule: Props, at: IngressAt, report: ReportViolation): Ingress[] {
  const type = text(rule.type);
  const where = describeResource(at.type, at.name);
  if (isUnknown(type)) {
    reportNotKnown(report, `${where} type`, "whether it is an ingress rule");
    return [];
  }
  if (type !== "ingress") return [];
  return [
    new IngressBuilder(where)
      .cidrs("cidrBlocks", rule.cidrBlocks)
      .cidrs("ipv6CidrBlocks", rule.ipv6CidrBlocks)
      .ids("prefix-list", rule.prefixListIds)
      .ids("security-group", rule.sourceSecurityGroupId)
      .self(rule.self)
      .build(rule.protocol, rule.fromPort, rule.toPort),
  ];
}

/** aws.vpc.SecurityGroupIngressRule: one source per rule, ports optional for protocol -1. */
function vpcIngressRuleIngress(rule: Props, at: IngressAt): Ingress[] {
  return [
    new IngressBuilder(describeResource(at.type, at.name))
      .cidrs("cidrIpv4", rule.cidrIpv4)
      .cidrs("cidrIpv6", rule.cidrIpv6)
      .ids("prefix-list", rule.prefixListId)
      .ids("security-group", rule.referencedSecurityGroupId)
      .build(rule.ipProtocol, rule.fromPort, rule.toPort),
  ];
}

/**
 * aws.eks.NodeGroup remoteAccess: with an ec2SshKey and no sourceSecurityGroupIds, EKS opens port
 * 22 (3389 on Windows) of the nodes to 0.0.0.0/0 (remoteAccess in the EKS CreateNodegroup API:
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_RemoteAccessConfig.html).
 */
function eksNodeGroupIngress(props: Props, at: IngressAt, report: ReportViolation): Ingress[] {
  const access = props.remoteAccess;
  const where = `${describeResource(at.type, at.name)} remoteAccess`;
  if (isUnknown(access)) {
    reportNotKnown(report, where, "the SSH access EKS opens");
    return [];
  }
  const key = text(field(access, "ec2SshKey"));
  const groups = field(access, "sourceSecurityGroupIds");
  if (key === undefined || key === "") return [];
  const builder = new IngressBuilder(
    `${where} (ec2SshKey set${strings(groups).length === 0 ? ", no sourceSecurityGroupIds, so EKS opens SSH to the internet" : ""})`,
  );
  if (strings(groups).length === 0 && !isUnknown(groups)) builder.cidrs("", "0.0.0.0/0");
  else builder.ids("security-group", groups);
  return [builder.build("tcp", 22, 22)];
}

type ResourceClass = Parameters<ResourceValidationArgs["isType"]>[0];

/**
 * Every resource type that can write an ingress permission, with its extractor and, for rules
 * that attach to a group, the property naming that group (so a stack rule can put the rules of
 * one security group together).
 */
export const INGRESS_SOURCES: readonly {
  resourceClass: ResourceClass;
  extract: IngressExtractor;
  /** The property holding the security group the rule belongs to; unset: the resource is the group. */
  groupProperty?: string;
}[] = [
  { resourceClass: aws.ec2.SecurityGroup, extract: inlineIngress },
  { resourceClass: aws.ec2.DefaultSecurityGroup, extract: inlineIngress },
  { resourceClass: aws.ec2.SecurityGroupRule, extract: securityGroupRuleIngress, groupProperty: "securityGroupId" },
  { resourceClass: aws.vpc.SecurityGroupIngressRule, extract: vpcIngressRuleIngress, groupProperty: "securityGroupId" },
  { resourceClass: aws.eks.NodeGroup, extract: eksNodeGroupIngress },
];

function adapter(source: (typeof INGRESS_SOURCES)[number]): IngressAdapter {
  return (check) =>
    ofType(source.resourceClass, (props, args, report) => {
      for (const rule of source.extract(props, args, report)) check(rule, report, args);
    });
}

/** Inline `ingress` blocks of aws.ec2.SecurityGroup. */
export const fromSecurityGroup: IngressAdapter = adapter(INGRESS_SOURCES[0]);
/** Inline `ingress` blocks of aws.ec2.DefaultSecurityGroup, which adopts the VPC's default group. */
export const fromDefaultSecurityGroup: IngressAdapter = adapter(INGRESS_SOURCES[1]);
/** aws.ec2.SecurityGroupRule; egress rules are skipped. */
export const fromSecurityGroupRule: IngressAdapter = adapter(INGRESS_SOURCES[2]);
/** aws.vpc.SecurityGroupIngressRule. */
export const fromVpcIngressRule: IngressAdapter = adapter(INGRESS_SOURCES[3]);
/** aws.eks.NodeGroup remoteAccess. */
export const fromEksNodeGroup: IngressAdapter = adapter(INGRESS_SOURCES[4]);

/** Every way AWS lets a program write an ingress permission. */
export const ingressAdapters: readonly IngressAdapter[] = INGRESS_SOURCES.map(adapter);

/** Whether the permission admits `port` over tcp or udp (or every protocol). */
export function reachesPort(
  rule: Ingress,
  port: number,
  protocols: readonly TrafficProtocol[] = ["tcp", "udp"],
): boolean {
  if (rule.protocol === "all") return true;
  return protocols.includes(rule.protocol) && rule.fromPort <= port && port <= rule.toPort;
}

/**
 * Whether a rule that has unknown parts might, once known, admit one of `ports`: its protocol is
 * unknown, or a port bound is, or a source is and the known protocol and ports already reach.
 */
export function mightReach(rule: Ingress, ports: readonly number[]): boolean {
  if (rule.unknown.length === 0) return false;
  if (rule.protocol === "unknown" || rule.unknown.some((u) => u === "fromPort" || u === "toPort")) {
    return true;
  }
  return ports.some((p) => reachesPort(rule, p));
}

/** The advisory for an ingress rule that a preview cannot check yet. */
export function reportUnknownIngress(rule: Ingress, report: ReportViolation, what: string): void {
  reportNotKnown(report, `${rule.where} ${rule.unknown.join(", ")}`, what);
}

/** `22/tcp`, `0-65535/tcp`, `all traffic (protocol -1)`, `ESP (protocol 50)`. */
export function describeTraffic(rule: Ingress): string {
  switch (rule.protocol) {
    case "all":
      return `all traffic (protocol ${rule.rawProtocol})`;
    case "esp":
      return `ESP (protocol ${rule.rawProtocol})`;
    case "other":
      return `protocol ${rule.rawProtocol || "(unset)"}`;
    case "unknown":
      return "traffic of a protocol not known yet";
    default: {
      const ports =
        rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
      return `${ports}/${rule.protocol}`;
    }
  }
}

export function describeSource(source: IngressSource): string {
  switch (source.kind) {
    case "cidr":
      return source.cidr;
    case "prefix-list":
      return `prefix list ${source.id}`;
    case "security-group":
      return `security group ${source.id}`;
    case "self":
      return "the security group itself";
  }
}

// CIDR maths is shared with the components, so the pack and the program agree on every block.
export { cidrContains, isWorldCidr, parseCidr, worldCoveringFamilies, MIN_SOURCE_PREFIX } from "../../components/cidr-ranges";

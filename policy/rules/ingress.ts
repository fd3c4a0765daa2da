import * as aws from "@pulumi/aws";
import {
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  validateResourceOfType,
} from "@pulumi/policy";
import { readKnown, UNKNOWN } from "./unknown";
import { describeResource } from "./where";

/**
 * One ingress permission, whichever of the three ways AWS offers it was written in: an inline
 * `ingress` block of aws.ec2.SecurityGroup, an aws.ec2.SecurityGroupRule of type "ingress", or an
 * aws.vpc.SecurityGroupIngressRule. Port rules are written once against this shape; the adapters
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
}

/** Protocols the port rules reason about; everything else (icmp, gre, ...) is "other". */
export type TrafficProtocol = "tcp" | "udp" | "esp" | "all" | "other";

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
export function normalizeProtocol(protocol: string | undefined): TrafficProtocol {
  switch ((protocol ?? "").trim().toLowerCase()) {
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

function ingress(
  where: string,
  protocol: string | undefined,
  fromPort: number | undefined,
  toPort: number | undefined,
  sources: IngressSource[],
): Ingress {
  return {
    where,
    protocol: normalizeProtocol(protocol),
    rawProtocol: protocol ?? "",
    fromPort: fromPort ?? ALL_PORTS.from,
    toPort: toPort ?? ALL_PORTS.to,
    sources,
  };
}

/** Shown for a security group or prefix list ID that a preview does not know yet. */
export const ID_AFTER_APPLY = "(ID known after apply)";

function cidrs(blocks: readonly string[] | undefined): IngressSource[] {
  return (blocks ?? []).map((cidr) => ({ kind: "cidr", cidr }));
}

/**
 * IDs of security groups or prefix lists. Whether a source is a group or a CIDR decides every
 * port rule, its ID never does, so an ID that is unknown during a preview is no reason to stop.
 */
function ids(read: () => readonly string[] | undefined): (string | typeof UNKNOWN)[] {
  const list = readKnown(read);
  if (list === UNKNOWN) return [UNKNOWN];
  if (list === undefined || list === null) return [];
  const known = list;
  return Array.from({ length: known.length }, (_, i) => readKnown(() => known[i]));
}

function shownId(id: string | typeof UNKNOWN): string {
  return id === UNKNOWN ? ID_AFTER_APPLY : id;
}

function prefixLists(read: () => readonly string[] | undefined): IngressSource[] {
  return ids(read).map((id) => ({ kind: "prefix-list", id: shownId(id) }));
}

function groups(read: () => readonly string[] | undefined): IngressSource[] {
  return ids(read).map((id) => ({ kind: "security-group", id: shownId(id) }));
}

/** A single optional ID property, as a list of zero or one IDs. */
function oneId(read: () => string | undefined): () => readonly string[] | undefined {
  return () => {
    const id = read();
    return id === undefined || id === null || id === "" ? [] : [id];
  };
}

function optional<T>(value: T | undefined, make: (v: T) => IngressSource): IngressSource[] {
  return value === undefined || value === null || value === "" ? [] : [make(value)];
}

/** Inline `ingress` blocks of aws.ec2.SecurityGroup. */
export const fromSecurityGroup: IngressAdapter = (check) =>
  validateResourceOfType(aws.ec2.SecurityGroup, (sg, args, report) => {
    (sg.ingress ?? []).forEach((rule, i) =>
      check(
        ingress(
          `${describeResource(args.type, args.name)} ingress[${i}]`,
          rule.protocol,
          rule.fromPort,
          rule.toPort,
          [
            ...cidrs(rule.cidrBlocks),
            ...cidrs(rule.ipv6CidrBlocks),
            ...prefixLists(() => rule.prefixListIds),
            ...groups(() => rule.securityGroups),
            ...(rule.self ? [{ kind: "self" } as const] : []),
          ],
        ),
        report,
        args,
      ),
    );
  });

/** aws.ec2.SecurityGroupRule; egress rules are skipped. */
export const fromSecurityGroupRule: IngressAdapter = (check) =>
  validateResourceOfType(aws.ec2.SecurityGroupRule, (rule, args, report) => {
    if (rule.type !== "ingress") return;
    check(
      ingress(describeResource(args.type, args.name), rule.protocol, rule.fromPort, rule.toPort, [
        ...cidrs(rule.cidrBlocks),
        ...cidrs(rule.ipv6CidrBlocks),
        ...prefixLists(() => rule.prefixListIds),
        ...groups(oneId(() => rule.sourceSecurityGroupId)),
        ...(rule.self ? [{ kind: "self" } as const] : []),
      ]),
      report,
      args,
    );
  });

/** aws.vpc.SecurityGroupIngressRule: one source per rule, ports optional for protocol -1. */
export const fromVpcIngressRule: IngressAdapter = (check) =>
  validateResourceOfType(aws.vpc.SecurityGroupIngressRule, (rule, args, report) => {
    check(
      ingress(describeResource(args.type, args.name), rule.ipProtocol, rule.fromPort, rule.toPort, [
        ...optional(rule.cidrIpv4, (cidr) => ({ kind: "cidr", cidr })),
        ...optional(rule.cidrIpv6, (cidr) => ({ kind: "cidr", cidr })),
        ...prefixLists(oneId(() => rule.prefixListId)),
        ...groups(oneId(() => rule.referencedSecurityGroupId)),
      ]),
      report,
      args,
    );
  });

/** Every way AWS lets a program write an ingress permission. */
export const ingressAdapters: readonly IngressAdapter[] = [
  fromSecurityGroup,
  fromSecurityGroupRule,
  fromVpcIngressRule,
];

/** Whether the permission admits `port` over tcp or udp (or every protocol). */
export function reachesPort(
  rule: Ingress,
  port: number,
  protocols: readonly TrafficProtocol[] = ["tcp", "udp"],
): boolean {
  if (rule.protocol === "all") return true;
  return protocols.includes(rule.protocol) && rule.fromPort <= port && port <= rule.toPort;
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

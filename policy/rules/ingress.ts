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

/** A /0 prefix is every address of its family: 0.0.0.0/0, ::/0, and spellings like 0::/0. */
export function isWorldCidr(cidr: string): boolean {
  return /\/0+$/.test(cidr.trim());
}

interface ParsedCidr {
  family: 4 | 6;
  address: bigint;
  length: number;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.toLowerCase().split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function parseCidr(cidr: string): ParsedCidr | undefined {
  const [address, length, ...rest] = cidr.trim().split("/");
  if (rest.length > 0 || length === undefined || !/^\d{1,3}$/.test(length)) return undefined;
  const v4 = parseIpv4(address);
  if (v4 !== undefined && Number(length) <= 32) {
    return { family: 4, address: v4, length: Number(length) };
  }
  const v6 = parseIpv6(address);
  if (v6 !== undefined && Number(length) <= 128) {
    return { family: 6, address: v6, length: Number(length) };
  }
  return undefined;
}

/** Whether every address of `inner` lies in `outer` (same family; unparseable never matches). */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || o.family !== i.family || o.length > i.length) return false;
  const shift = BigInt((o.family === 4 ? 32 : 128) - o.length);
  return o.address >> shift === i.address >> shift;
}

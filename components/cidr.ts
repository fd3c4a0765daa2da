/**
 * Pure IPv4/IPv6 CIDR helpers: validation and the VPC subnet plan. No Pulumi here, so config.ts,
 * the Network component and the tests can all call them synchronously.
 */
import { ConfigError, shown } from "./errors";

/** The smallest and largest subnet AWS allows (and the range a VPC CIDR may take). */
export const MIN_SUBNET_PREFIX = 28;
export const MAX_VPC_PREFIX = 28;
export const MIN_VPC_PREFIX = 16;
/** Subnets are never made larger than this, so the VPC keeps room for later additions. */
export const LARGEST_SUBNET_PREFIX = 20;

/** A parsed IPv4 CIDR block: the network address as an unsigned 32-bit number and the prefix. */
export interface Ipv4Cidr {
  address: number;
  prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses dotted-quad `a.b.c.d` into an unsigned 32-bit number, or undefined when malformed. */
export function parseIpv4Address(text: string): number | undefined {
  const parts = text.split(".");
  const valid = parts.length === 4 && parts.every((p) => OCTET.test(p) && Number(p) <= 255);
  if (!valid) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Formats an unsigned 32-bit number as dotted-quad. */
export function formatIpv4Address(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

/** Parses `a.b.c.d/n` without checking host bits; undefined when malformed. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const m = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
  if (!m) return undefined;
  const address = parseIpv4Address(m[1]);
  const prefix = Number(m[2]);
  if (address === undefined || prefix > 32) return undefined;
  return { address, prefix };
}

/** The network address of `address/prefix` (host bits cleared). */
function networkOf(address: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return address - (address % size);
}

/**
 * Why `text` is not a usable IPv4 network CIDR (`"10.0.0.1/16" has host bits set; use
 * "10.0.0.0/16"`), or undefined when it is. config.ts puts this after the key name.
 */
export function ipv4CidrProblem(text: string): string | undefined {
  const cidr = typeof text === "string" ? parseIpv4Cidr(text) : undefined;
  if (!cidr) return `${shown(text)} is not an IPv4 CIDR block like "10.0.0.0/16"`;
  const network = networkOf(cidr.address, cidr.prefix);
  if (network === cidr.address) return undefined;
  return `${shown(text)} has host bits set; use "${formatIpv4Address(network)}/${cidr.prefix}"`;
}

/** True for an IPv4 network CIDR such as `10.0.0.0/16` (host bits must be zero). */
export function isValidIpv4Cidr(text: string): boolean {
  return ipv4CidrProblem(text) === undefined;
}

/** Expands an IPv6 address to a 128-bit bigint, or undefined when malformed. */
export function parseIpv6Address(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.split("::").length > 2) return undefined;
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...right];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** True for an IPv6 network CIDR such as `2001:db8::/32` (host bits must be zero). */
export function isValidIpv6Cidr(text: string): boolean {
  const m = typeof text === "string" ? /^([0-9a-fA-F:]+)\/(0|[1-9][0-9]{0,2})$/.exec(text) : null;
  if (!m) return false;
  const address = parseIpv6Address(m[1]);
  const prefix = Number(m[2]);
  if (address === undefined || prefix > 128) return false;
  const hostBits = 128n - BigInt(prefix);
  return address % (1n << hostBits) === 0n;
}

/**
 * Splits `vpcCidr` into `count` consecutive subnets, each `newBits` longer in prefix than the
 * VPC (like Terraform's `cidrsubnet(vpcCidr, newBits, i)` for i = 0..count-1). `first` skips
 * that many slots. Throws when the VPC cannot hold them.
 */
export function subnetCidrs(vpcCidr: string, count: number, newBits: number, first = 0): string[] {
  const problem = ipv4CidrProblem(vpcCidr);
  if (problem) throw new Error(problem);
  const vpc = parseIpv4Cidr(vpcCidr)!;
  const prefix = vpc.prefix + newBits;
  if (!Number.isInteger(newBits) || newBits < 0 || prefix > 32) {
    throw new Error(`cannot split ${vpcCidr} by ${newBits} bits: the prefix would be /${prefix}`);
  }
  const slots = 2 ** newBits;
  if (first + count > slots) {
    const asked = first + count;
    throw new Error(`${vpcCidr} holds ${slots} /${prefix} subnets; ${asked} were asked for`);
  }
  const size = 2 ** (32 - prefix);
  return Array.from({ length: count }, (_, i) => {
    return `${formatIpv4Address(vpc.address + (first + i) * size)}/${prefix}`;
  });
}

/** Public and private subnet CIDRs, index i for AZ index i. */
export interface SubnetPlan {
  public: string[];
  private: string[];
  /** Prefix length of every subnet (20..28). */
  prefix: number;
}

/** Smallest n with 2^n >= value. */
function bitsFor(value: number): number {
  return Math.ceil(Math.log2(Math.max(1, value)));
}

/**
 * Every problem with `vpcCidr` for `azCount` AZs (one public and one private subnet each).
 * `key` is the setting name used in messages (config.ts passes `aws-swarm:vpcCidr`).
 */
export function subnetPlanProblems(vpcCidr: string, azCount: number, key = "vpcCidr"): string[] {
  const problem = ipv4CidrProblem(vpcCidr);
  if (problem) return [`${key} is ${problem}.`];
  const { prefix } = parseIpv4Cidr(vpcCidr)!;
  if (prefix < MIN_VPC_PREFIX || prefix > MAX_VPC_PREFIX) {
    return [
      `${key} is ${shown(vpcCidr)}; AWS VPCs take /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}: ` +
        `use e.g. "10.0.0.0/16".`,
    ];
  }
  if (!Number.isInteger(azCount) || azCount < 1) return [];
  const subnetPrefix = Math.max(LARGEST_SUBNET_PREFIX, prefix + bitsFor(2 * azCount));
  if (subnetPrefix > MIN_SUBNET_PREFIX) {
    return [
      `${key} is ${shown(vpcCidr)}; it cannot hold ${2 * azCount} subnets of at least ` +
        `/${MIN_SUBNET_PREFIX} (one public and one private per AZ for ${azCount} AZs): ` +
        `use a larger block (smaller prefix) such as "10.0.0.0/16", or fewer AZs.`,
    ];
  }
  return [];
}

/**
 * Lays out one public and one private subnet per AZ: each as large as fits, at most /20 and
 * at least /28. Public subnets take the first half of the slots and private ones start at the
 * second half, so adding an AZ never moves an existing subnet (which would replace it and every
 * instance in it) as long as the subnet size stays the same (with a /16 VPC it is /20 for 1..6
 * AZs). Throws a ConfigError when the VPC is too small.
 */
export function subnetPlan(vpcCidr: string, azCount: number, key = "vpcCidr"): SubnetPlan {
  const problems = subnetPlanProblems(vpcCidr, azCount, key);
  if (!Number.isInteger(azCount) || azCount < 1) {
    problems.push(`azCount is ${shown(azCount)}; use a whole number of AZs from 1 to 6.`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const vpc = parseIpv4Cidr(vpcCidr)!;
  const prefix = Math.max(LARGEST_SUBNET_PREFIX, vpc.prefix + bitsFor(2 * azCount));
  const newBits = prefix - vpc.prefix;
  const half = 2 ** (newBits - 1);
  return {
    public: subnetCidrs(vpcCidr, azCount, newBits, 0),
    private: subnetCidrs(vpcCidr, azCount, newBits, half),
    prefix,
  };
}

/** True when a CIDR (IPv4 or IPv6) covers every address, e.g. `0.0.0.0/0` or `::/0`. */
export function isWorldCidr(text: string): boolean {
  return /\/0$/.test(text.trim());
}

/**
 * Every problem with a list of SSH source CIDRs: it must be a non-empty list of IPv4 or IPv6
 * network CIDRs, none covering the whole internet, none repeated (each names a rule).
 */
export function sshCidrProblems(cidrs: unknown, key = "sshAllowedCidrs"): string[] {
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    const example = '["203.0.113.7/32"]';
    return [`${key} is ${shown(cidrs)}; list the networks allowed to SSH in, e.g. ${example}.`];
  }
  const problems: string[] = [];
  const seen = new Map<string, unknown>();
  cidrs.forEach((cidr: unknown, i) => {
    const at = `${key}[${i}] is ${shown(cidr)}`;
    if (typeof cidr !== "string" || !(isValidIpv4Cidr(cidr) || isValidIpv6Cidr(cidr))) {
      problems.push(`${at}; use an IPv4 or IPv6 network CIDR such as "203.0.113.0/24".`);
    } else if (isWorldCidr(cidr)) {
      problems.push(`${at}; SSH must never be open to the world: list your networks instead.`);
    } else if (seen.has(cidrNameKey(cidr))) {
      problems.push(`${at}, a duplicate of ${shown(seen.get(cidrNameKey(cidr)))}; list each once.`);
    } else {
      seen.set(cidrNameKey(cidr), cidr);
    }
  });
  return problems;
}

/** A CIDR rendered for use in a resource name: `203.0.113.0/24` → `203-0-113-0-24`. */
export function cidrNameKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

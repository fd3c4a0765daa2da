/**
 * Pure IPv4/IPv6 CIDR helpers: validation and the VPC subnet plan. No Pulumi here, so config.ts,
 * the Network component and the tests can all call them synchronously.
 */
import { ConfigError, shown } from "./errors";
import { ARGS_NAMES, SettingNames } from "./setting-names";
import { cidrProblem, formatIpv4Address, ipv4CidrProblem, parseIpv4Cidr } from "./cidr-parse";
import { sourceCidrsProblems } from "./cidr-ranges";
import { azCountProblems } from "./azs";

export {
  cidrProblem, formatIpv4Address, Ipv4Cidr, ipv4CidrProblem, isValidIpv4Cidr, isValidIpv6Cidr, parseIpv4Cidr,
} from "./cidr-parse";

export {
  cidrContains, isWorldCidr, MIN_SOURCE_PREFIX, parseCidr, ParsedCidr, sourceCidrsProblems, SourceCidrsOptions,
  worldCoveringFamilies,
} from "./cidr-ranges";

/** The VPC block when none is given: room for /20 subnets in up to 6 AZs and more later. */
export const DEFAULT_VPC_CIDR = "10.0.0.0/16";

/** The smallest and largest subnet AWS allows (and the range a VPC CIDR may take). */
export const MIN_SUBNET_PREFIX = 28;
export const MAX_VPC_PREFIX = 28;
export const MIN_VPC_PREFIX = 16;
/** Subnets are never made larger than this, so the VPC keeps room for later additions. */
export const LARGEST_SUBNET_PREFIX = 20;

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
export function subnetPlanProblems(vpcCidr: unknown, azCount: unknown, key = "vpcCidr"): string[] {
  const problem = cidrProblem(vpcCidr, 4);
  if (problem) {
    const network = /has host bits set; use (".*")$/.exec(problem)?.[1];
    return [
      network
        ? `${key} is ${shown(vpcCidr)}, which has host bits set; use ${network}.`
        : `${key} is ${shown(vpcCidr)}; use an IPv4 network CIDR of /16 to /28 such as "10.0.0.0/16".`,
    ];
  }
  const { prefix } = parseIpv4Cidr(vpcCidr)!;
  if (prefix < MIN_VPC_PREFIX || prefix > MAX_VPC_PREFIX) {
    return [
      `${key} is ${shown(vpcCidr)}; AWS VPCs take /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}: ` +
        `use e.g. "10.0.0.0/16".`,
    ];
  }
  if (typeof azCount !== "number" || !Number.isInteger(azCount) || azCount < 1) return [];
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
  problems.push(...azCountProblems(azCount));
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

/**
 * Every problem with a list of SSH source CIDRs; see {@link sourceCidrsProblems}. `names` says
 * how the user sets a list entry, for the fix of an empty list.
 */
export function sshCidrProblems(cidrs: unknown, key = "sshAllowedCidrs", names: SettingNames = ARGS_NAMES): string[] {
  const setFix = `list the networks that may reach SSH, e.g. ${names.listEntry(key, "203.0.113.0/24")}`;
  return sourceCidrsProblems(cidrs, key, { opens: "SSH", required: true, setFix });
}

/** A CIDR rendered for use in a resource name: `203.0.113.0/24` → `203-0-113-0-24`. */
export function cidrNameKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

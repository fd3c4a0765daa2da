/**
 * CIDR text to numbers, through ipaddr.js (one well-tested parser for both families, shared by
 * the components, config.ts and the policy pack). Pure and free of Pulumi. What ipaddr.js lacks
 * (unions, world coverage, the subnet plan) lives in cidr-ranges.ts and cidr.ts.
 */
import * as ipaddr from "ipaddr.js";
import { shown } from "./shown";

/** A parsed CIDR of either family; `address` is the address as written (host bits kept). */
export interface ParsedCidr {
  family: 4 | 6;
  address: bigint;
  prefix: number;
}

/** A parsed IPv4 CIDR block: the address as an unsigned 32-bit number and the prefix. */
export interface Ipv4Cidr {
  address: number;
  prefix: number;
}

/**
 * The shape AWS takes: no spaces, and a prefix without leading zeros. ipaddr.js also accepts
 * "10.0.0.0/016", and for IPv4 the inet_aton forms ("10.1", "0x0a.0.0.1", "010.0.0.1"), which
 * EC2 refuses or reads differently; those are turned away here before the library parses.
 */
const CIDR_TEXT = /^([0-9A-Fa-f.:]+)\/(0|[1-9][0-9]{0,2})$/;

const FAMILY_BITS = { 4: 32, 6: 128 } as const;

function toBigint(bytes: number[]): bigint {
  return bytes.reduce((acc, b) => (acc << 8n) + BigInt(b), 0n);
}

/** Parses an IPv4 (dotted decimal) or IPv6 CIDR, host bits allowed; undefined when malformed. */
export function parseCidr(text: unknown): ParsedCidr | undefined {
  if (typeof text !== "string") return undefined;
  const m = CIDR_TEXT.exec(text);
  if (!m) return undefined;
  const prefix = Number(m[2]);
  if (ipaddr.IPv4.isValidFourPartDecimal(m[1])) {
    return prefix <= 32 ? { family: 4, address: toBigint(ipaddr.IPv4.parse(m[1]).toByteArray()), prefix } : undefined;
  }
  if (ipaddr.IPv6.isValid(m[1]) && prefix <= 128) {
    return { family: 6, address: toBigint(ipaddr.IPv6.parse(m[1]).toByteArray()), prefix };
  }
  return undefined;
}

/** The first and last address of a CIDR. */
export function cidrBounds(c: ParsedCidr): [bigint, bigint] {
  const size = 1n << BigInt(FAMILY_BITS[c.family] - c.prefix);
  const first = c.address - (c.address % size);
  return [first, first + size - 1n];
}

/** `text` with host bits cleared, as ipaddr.js prints it (`"10.0.0.0/16"`, `"2001:db8::/32"`). */
function networkText(text: string, family: 4 | 6): string {
  const prefix = text.split("/")[1];
  const network =
    family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(text).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(text).toRFC5952String();
  return `${network}/${prefix}`;
}

/**
 * Why `text` is not a network CIDR of `family`, or undefined when it is. A block with host bits
 * set names the network the user most likely meant (`"10.0.0.1/16" has host bits set; use
 * "10.0.0.0/16"`): AWS rejects it, and guessing silently would open a different range.
 */
export function cidrProblem(text: unknown, family: 4 | 6): string | undefined {
  const cidr = parseCidr(text);
  if (!cidr || cidr.family !== family) {
    const example = family === 4 ? '"10.0.0.0/16"' : '"2001:db8::/48"';
    return `${shown(text)} is not an IPv${family} CIDR block like ${example}`;
  }
  if (cidrBounds(cidr)[0] === cidr.address) return undefined;
  return `${shown(text)} has host bits set; use "${networkText(text as string, family)}"`;
}

/** Why `text` is not an IPv4 network CIDR such as `10.0.0.0/16`, or undefined when it is. */
export function ipv4CidrProblem(text: string): string | undefined {
  return cidrProblem(text, 4);
}

/** True for an IPv4 network CIDR such as `10.0.0.0/16` (host bits must be zero). */
export function isValidIpv4Cidr(text: string): boolean {
  return cidrProblem(text, 4) === undefined;
}

/** True for an IPv6 network CIDR such as `2001:db8::/32` (host bits must be zero). */
export function isValidIpv6Cidr(text: string): boolean {
  return cidrProblem(text, 6) === undefined;
}

/** Parses an IPv4 `a.b.c.d/n` (host bits allowed) for subnet arithmetic; undefined when malformed. */
export function parseIpv4Cidr(text: unknown): Ipv4Cidr | undefined {
  const c = parseCidr(text);
  return c?.family === 4 ? { address: Number(c.address), prefix: c.prefix } : undefined;
}

/** Formats an unsigned 32-bit number as dotted decimal. */
export function formatIpv4Address(address: number): string {
  return ipaddr.fromByteArray([24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256)).toString();
}

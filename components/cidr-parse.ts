/** Parsing of IPv4 and IPv6 CIDR text; pure and free of Pulumi (the policy pack imports it). */
import { shown } from "./shown";

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


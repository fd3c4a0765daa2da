/**
 * Source CIDR lists (who may reach SSH or published ports): parsing of both families,
 * containment, whether a union covers the internet, and the one validation every layer uses.
 * Pure and free of Pulumi, so the policy pack imports it from a plain checkout.
 */
import { cidrBounds, cidrProblem, ParsedCidr, parseCidr } from "./cidr-parse";
import { shown } from "./shown";

export { ParsedCidr, parseCidr } from "./cidr-parse";

/** True when a CIDR (IPv4 or IPv6) covers every address: `0.0.0.0/0`, `::/0`, `0::/00`. */
export function isWorldCidr(text: string): boolean {
  return /\/0+$/.test(text.trim());
}

const FAMILY_BITS = { 4: 32, 6: 128 } as const;
const bounds = cidrBounds;

/** Whether every address of `inner` lies in `outer` (same family; unparseable never matches). */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || o.family !== i.family || o.prefix > i.prefix) return false;
  const [first, last] = bounds(o);
  return first <= i.address && i.address <= last;
}

/**
 * The families (4, 6) whose whole address space the union of `cidrs` covers, e.g. 4 for
 * ["0.0.0.0/1", "128.0.0.0/1"]. Unparseable entries are ignored.
 */
export function worldCoveringFamilies(cidrs: readonly string[]): (4 | 6)[] {
  const covered: (4 | 6)[] = [];
  for (const family of [4, 6] as const) {
    const ranges = cidrs
      .map(parseCidr)
      .filter((c): c is ParsedCidr => c !== undefined && c.family === family)
      .map(bounds)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let next = 0n;
    for (const [first, last] of ranges) {
      if (first > next) break;
      if (last + 1n > next) next = last + 1n;
    }
    if (ranges.length > 0 && next === 1n << BigInt(FAMILY_BITS[family])) covered.push(family);
  }
  return covered;
}

/**
 * The widest prefix an admin or client source range may have: a /8 is a whole national
 * allocation, an IPv6 /32 a whole ISP's. Anything wider is the internet in all but name.
 */
export const MIN_SOURCE_PREFIX = { 4: 8, 6: 32 } as const;

/** What a list of source CIDRs opens, for messages: "SSH" or "the published ports". */
export interface SourceCidrsOptions {
  /** The port(s) the list opens, e.g. "SSH" or "the published ports". */
  opens: string;
  /** An empty or unset list is an error. @default false */
  required?: boolean;
  /** The fix for a missing or empty list, e.g. the `pulumi config set --path` command. */
  setFix?: string;
}

/**
 * Every problem with a list of source CIDRs (sshAllowedCidrs, publishedCidrs): each entry an
 * IPv4 or IPv6 network CIDR, none wider than MIN_SOURCE_PREFIX, none repeated, and together
 * not covering the whole internet (`0.0.0.0/1` plus `128.0.0.0/1` is `0.0.0.0/0`). `setting`
 * is the name the user wrote (`sshAllowedCidrs` or `aws-swarm:sshAllowedCidrs`).
 */
export function sourceCidrsProblems(cidrs: unknown, setting: string, options: SourceCidrsOptions): string[] {
  const example = '["203.0.113.0/24"]';
  const setFix = options.setFix ?? `list the networks allowed to reach ${options.opens}, e.g. ${example}`;
  if (cidrs === undefined || (Array.isArray(cidrs) && cidrs.length === 0)) {
    return options.required ? [`${setting} is ${shown(cidrs)}; ${setFix}.`] : [];
  }
  if (!Array.isArray(cidrs)) {
    return [`${setting} is ${shown(cidrs)}; it must be a list of CIDR strings: ${setFix}.`];
  }
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const valid: string[] = [];
  cidrs.forEach((cidr: unknown, i) => {
    const at = `${setting}[${i}] is ${shown(cidr)}`;
    const text = typeof cidr === "string" ? cidr : "";
    const parsed = parseCidr(text);
    if (typeof cidr !== "string" || !parsed) {
      problems.push(`${at}; use an IPv4 or IPv6 network CIDR such as "203.0.113.0/24" or "2001:db8::/48".`);
      return;
    }
    const hostBits = /has host bits set; use (".*")$/.exec(cidrProblem(text, parsed.family) ?? "");
    if (hostBits) {
      problems.push(`${at}, which has host bits set; use ${hostBits[1]}.`);
      return;
    }
    if (isWorldCidr(text)) {
      problems.push(`${at}, which opens ${options.opens} to the whole internet; list your office or VPN ranges instead.`);
      return;
    }
    const widest = MIN_SOURCE_PREFIX[parsed.family];
    if (parsed.prefix < widest) {
      problems.push(
        `${at}, wider than /${widest}, which opens ${options.opens} to a large part of the internet; ` +
          `list your office or VPN ranges (IPv4 /${MIN_SOURCE_PREFIX[4]} or longer, IPv6 /${MIN_SOURCE_PREFIX[6]} or longer).`,
      );
      return;
    }
    const id = `${parsed.family}:${bounds(parsed)[0]}/${parsed.prefix}`;
    const first = seen.get(id);
    if (first !== undefined) {
      problems.push(`${at}, the same network as ${setting}[${first}]; list each network once.`);
      return;
    }
    seen.set(id, i);
    valid.push(text);
  });
  for (const family of worldCoveringFamilies(valid)) {
    problems.push(
      `${setting} is ${shown(cidrs)}; together its IPv${family} entries cover every IPv${family} ` +
        `address, which opens ${options.opens} to the whole internet: list only your office or VPN ranges.`,
    );
  }
  return problems;
}


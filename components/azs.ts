/** Pure availability-zone placement helpers. */
import { ConfigError, shown } from "./errors";

/** AZ counts a Network accepts: enough for a 3-AZ quorum, no more than most regions have. */
export const MIN_AZ_COUNT = 1;
export const MAX_AZ_COUNT = 6;
/** AZs when none is given: a 3-manager quorum survives the loss of any one of them. */
export const DEFAULT_AZ_COUNT = 3;

/** Problems with an AZ count: a whole number from MIN_AZ_COUNT to MAX_AZ_COUNT. */
export function azCountProblems(value: unknown, setting = "azCount"): string[] {
  if (typeof value === "number" && Number.isInteger(value) && value >= MIN_AZ_COUNT && value <= MAX_AZ_COUNT) {
    return [];
  }
  return [`${setting} is ${shown(value)}; use a whole number of availability zones from ${MIN_AZ_COUNT} to ${MAX_AZ_COUNT}.`];
}

function requireWhole(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError([`${name} is ${shown(value)}; use a whole number of at least ${min}.`]);
  }
}

/**
 * Round-robin placement: node i (0-based) goes to AZ index `i % azCount`, so 7 managers over 3
 * AZs land 3, 2, 2 and losing any one AZ never costs a 5- or 7-manager quorum its majority.
 * Node i's AZ depends only on i, so scaling up or down never moves an existing node.
 */
export function spread(count: number, azCount: number): number[] {
  requireWhole("count", count, 0);
  requireWhole("azCount", azCount, 1);
  return Array.from({ length: count }, (_, i) => i % azCount);
}

/** How many of `count` nodes each AZ gets under `spread`, indexed by AZ. */
export function perAz(count: number, azCount: number): number[] {
  const totals = Array<number>(azCount).fill(0);
  for (const az of spread(count, azCount)) totals[az] += 1;
  return totals;
}

/**
 * The first `azCount` zone names the region reports, or a ConfigError saying how many it has.
 * Zones are taken in the order AWS lists them (alphabetical), which is stable across runs.
 */
export function pickZones(
  names: readonly string[],
  azCount: number,
  region = "the region",
): string[] {
  if (names.length < azCount) {
    throw new ConfigError([
      `azCount is ${azCount}, but ${region} has only ${names.length} available zone(s) ` +
        `(${names.join(", ") || "none"}): set azCount to ${Math.max(1, names.length)} or less.`,
    ]);
  }
  return names.slice(0, azCount);
}

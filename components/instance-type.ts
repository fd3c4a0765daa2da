/** EC2 instance types: the one rule and the one default every layer uses. */
import { shown } from "./shown";

/** Node instance type when none is given: 2 vCPUs, 2 GiB, enough for a small swarm. */
export const DEFAULT_INSTANCE_TYPE = "t3.small";

/**
 * Problems with an EC2 instance type such as "t3.small" or "m7g.large": family, a dot, size.
 * The type ends up in the instance's inputs and in node labels, so nothing else (spaces,
 * quotes, `;`, a newline) may pass. A value an Output resolves later is not checked here.
 */
export function instanceTypeProblems(value: unknown, setting: string): string[] {
  if (value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value))) return [];
  if (typeof value === "string" && /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(value)) return [];
  return [`${setting} is ${shown(value)}, which is not an EC2 instance type; use e.g. "${DEFAULT_INSTANCE_TYPE}".`];
}

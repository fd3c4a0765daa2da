/** Bounded waits of the remote steps: one rule, and the defaults, for every component. */
import { shown } from "./shown";

/** Seconds a step waits for Docker on a host that already runs it. */
export const DEFAULT_DOCKER_WAIT_SECONDS = 300;
/** Seconds a step waits for Docker on a new EC2 instance, whose user data installs it first. */
export const NEW_INSTANCE_DOCKER_WAIT_SECONDS = 600;
/** The longest any step may wait: past an hour, a stuck step is better reported than waited for. */
export const MAX_WAIT_SECONDS = 3600;

/** Problems with a wait in seconds (dockerWaitSeconds, drainSeconds, ...): whole, 1..MAX_WAIT_SECONDS. */
export function waitSecondsProblems(value: unknown, setting: string): string[] {
  if (value === undefined) return [];
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_WAIT_SECONDS) return [];
  return [`${setting} is ${shown(value)}; use a whole number of seconds from 1 to ${MAX_WAIT_SECONDS}.`];
}

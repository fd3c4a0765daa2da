import { ALLOWED_MANAGER_COUNTS } from "./ports";
import { shown } from "./shown";

/** Managers when none is given: survives one manager lost. */
export const DEFAULT_MANAGER_COUNT = 3;
/** Workers when none is given. */
export const DEFAULT_WORKER_COUNT = 2;

/**
 * Problems with a manager count. Raft needs a majority, so an even count adds a node without
 * adding fault tolerance, and more than 7 managers slow every write.
 * @param setting how the user wrote the setting, e.g. `count` or `aws-swarm:managerCount`
 */
export function managerCountProblems(count: unknown, setting = "count"): string[] {
  if (typeof count === "number" && ALLOWED_MANAGER_COUNTS.includes(count)) return [];
  return [
    `${setting} is ${shown(count)}; a Swarm manager quorum must be odd and at most 7: ` +
      `use ${ALLOWED_MANAGER_COUNTS.slice(0, -1).join(", ")} or ${ALLOWED_MANAGER_COUNTS.at(-1)}.`,
  ];
}

/** Largest worker pool one stack creates. */
export const MAX_WORKER_COUNT = 1000;

/** Problems with a worker count: a whole number from 0 to MAX_WORKER_COUNT. */
export function workerCountProblems(count: unknown, setting = "count"): string[] {
  if (typeof count === "number" && Number.isInteger(count) && count >= 0 && count <= MAX_WORKER_COUNT) {
    return [];
  }
  return [`${setting} is ${shown(count)}; use a whole number of workers from 0 to ${MAX_WORKER_COUNT}.`];
}

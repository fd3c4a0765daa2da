/**
 * DESIGN: rolling changes behind a quorum gate.
 *
 * Anything that restarts or replaces nodes reaches one manager at a time and workers in
 * batches. Restarts are replacements here (an instance type or user data change replaces the
 * instance, see node.ts), because a replacement can be gated: the new node joins and must be
 * Ready (and, for a manager, Reachable with the swarm's quorum whole again) before the old
 * node is drained and removed, and only then does the next node of the rollout start. An
 * in-place stop/start could not be drained first: the drain step would need the very instance
 * it runs before. A node that does not come back fails its step with the reason, and the
 * engine starts nothing that depends on it: the rest of the rollout stays untouched.
 */
import { shown } from "./errors";

/** How many nodes a rollout takes at a time. */
export interface RollingBatch {
  /** Managers at a time; only 1 keeps the quorum whole while one is away. @default 1 */
  managers?: number;
  /**
   * Workers at a time: a count such as "3", or a share such as "25%" (rounded up, at least 1).
   * A string, so that Pulumi's schema inference can describe it to other languages; stack
   * config may also give the count as a number. @default "25%"
   */
  workers?: string;
}

/** The default rollout: one manager, a quarter of the workers. */
export const DEFAULT_ROLLING_BATCH: Required<RollingBatch> = { managers: 1, workers: "25%" };

/** Problems with a rolling batch; `setting` is how the caller named it. */
export function rollingBatchProblems(value: unknown, setting: string): string[] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`${setting} is ${shown(value)}; use an object such as { "managers": 1, "workers": "25%" }.`];
  }
  const problems: string[] = [];
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (key !== "managers" && key !== "workers") problems.push(`${setting}.${key} is not a setting; use managers and workers.`);
  }
  if (v.managers !== undefined && v.managers !== 1) {
    problems.push(`${setting}.managers is ${shown(v.managers)}; managers roll one at a time so the quorum is never cut twice: use 1.`);
  }
  const w = v.workers;
  const ok = w === undefined ||
    (typeof w === "number" && Number.isInteger(w) && w >= 1 && w <= 1000) ||
    (typeof w === "string" && (/^([1-9][0-9]?|100)%$/.test(w) || (/^[1-9][0-9]{0,3}$/.test(w) && Number(w) <= 1000)));
  if (!ok) problems.push(`${setting}.workers is ${shown(w)}; use a whole number of workers from 1 to 1000, or a share from "1%" to "100%".`);
  return problems;
}

/** Workers per batch for `count` workers: the share rounded up, at least 1. */
export function workerBatchSize(batch: RollingBatch | undefined, count: number): number {
  const w: unknown = batch?.workers ?? DEFAULT_ROLLING_BATCH.workers;
  const text = String(w);
  const size = text.endsWith("%") ? Math.ceil((count * Number(text.slice(0, -1))) / 100) : Number(text);
  return Math.max(1, size);
}

/** `items` cut into consecutive batches of `size`. */
export function inBatches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

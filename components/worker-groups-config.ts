import { instanceTypeProblems } from "./instance-type";
/**
 * The one rule for worker groups (stack config `aws-swarm:workerGroups` and WorkerGroupArgs):
 * what a group may say, written once and called by both.
 */
import { shown } from "./shown";

/** One Auto Scaling group of workers, as the user writes it. */
export interface WorkerGroupSpec {
  /** kebab-case, unique in the stack; part of resource names and the `group` node label. */
  name: string;
  /** EC2 instance type (x86_64). @default the stack's worker instance type, else "t3.small" */
  instanceType?: string;
  /** Fewest instances the group keeps: 0..1000. */
  min: number;
  /** Most instances the group may scale to: min..1000. */
  max: number;
  /** Instances to start with: min..max. @default min */
  desired?: number;
  /** Run the group on Spot capacity (cheaper, can be reclaimed at two minutes' notice). @default false */
  spot?: boolean;
  /** Node labels every instance of the group gets, besides az, instance-id, instance-type and group. @default {} */
  labels?: Record<string, string>;
}

/** Largest size of one group: the same bound as a fixed worker pool. */
export const MAX_GROUP_SIZE = 1000;

const KEBAB = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
// Swarm node label keys: what `docker node update --label-add` accepts without quoting.
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9._:/-]{0,128}$/;
/** Labels the group sets from the instance itself; a user value would be overwritten. */
export const GROUP_LABELS = ["az", "instance-id", "instance-type", "group", "role"] as const;
const FIELDS = ["name", "instanceType", "min", "max", "desired", "spot", "labels"];

const at = (setting: string, field: string) => (setting ? `${setting}.${field}` : field);
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= MAX_GROUP_SIZE;

/**
 * Every problem with one group. `setting` is how the caller names the group: "" for
 * WorkerGroupArgs (messages then say `min is …`), `aws-swarm:workerGroups[0]` for stack config.
 */
export function workerGroupProblems(value: unknown, setting = ""): string[] {
  const where = setting || "the worker group";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`${where} is ${shown(value)}; use an object { name, min, max, desired?, instanceType?, spot?, labels? }.`];
  }
  const g = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(g)) {
    if (!FIELDS.includes(k)) problems.push(`${at(setting, k)} is not a known setting; use only ${FIELDS.join(", ")}.`);
  }
  if (typeof g.name !== "string" || !KEBAB.test(g.name) || g.name.length > 32) {
    problems.push(`${at(setting, "name")} is ${shown(g.name)}; use a kebab-case name of at most 32 characters, e.g. "general".`);
  }
  problems.push(...instanceTypeProblems(g.instanceType, at(setting, "instanceType")));
  for (const k of ["min", "max"] as const) {
    if (!isCount(g[k])) problems.push(`${at(setting, k)} is ${shown(g[k])}; use a whole number of instances from 0 to ${MAX_GROUP_SIZE}.`);
  }
  if (g.desired !== undefined && !isCount(g.desired)) {
    problems.push(`${at(setting, "desired")} is ${shown(g.desired)}; use a whole number of instances from 0 to ${MAX_GROUP_SIZE}, or leave it unset (then it is min).`);
  }
  if (isCount(g.min) && isCount(g.max) && g.min > g.max) {
    problems.push(`${at(setting, "min")} is ${g.min} but ${at(setting, "max")} is ${g.max}; min must not exceed max: use a max of at least ${g.min}, or lower min.`);
  }
  if (isCount(g.desired) && isCount(g.min) && isCount(g.max) && (g.desired < g.min || g.desired > g.max)) {
    problems.push(`${at(setting, "desired")} is ${g.desired}; use a desired between min (${g.min}) and max (${g.max}), or leave it unset.`);
  }
  if (isCount(g.max) && g.max === 0) {
    problems.push(`${at(setting, "max")} is 0; a group that can hold no instance does nothing: use a max of at least 1, or remove the group.`);
  }
  if (g.spot !== undefined && typeof g.spot !== "boolean") {
    problems.push(`${at(setting, "spot")} is ${shown(g.spot)}; use true or false.`);
  }
  if (g.labels !== undefined) {
    if (typeof g.labels !== "object" || g.labels === null || Array.isArray(g.labels)) {
      problems.push(`${at(setting, "labels")} is ${shown(g.labels)}; use a map of label names to values, e.g. { tier: "batch" }.`);
    } else {
      for (const [k, v] of Object.entries(g.labels as Record<string, unknown>)) {
        const label = `${at(setting, "labels")}.${k}`;
        if (!LABEL_KEY.test(k)) problems.push(`${label} is not a valid label name; use letters, digits, ".", "_" and "-".`);
        else if ((GROUP_LABELS as readonly string[]).includes(k)) problems.push(`${label} is set by the group itself from each instance; remove it.`);
        if (typeof v !== "string" || !LABEL_VALUE.test(v)) {
          problems.push(`${label} is ${shown(v)}; use a string of at most 128 letters, digits and . _ : / -.`);
        }
      }
    }
  }
  return problems;
}

/** Every problem with a list of groups: each group's own, and names used twice. */
export function workerGroupsProblems(value: unknown, setting: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    return [`${setting} is ${shown(value)}; use a list of groups, e.g. pulumi config set --path '${setting}[0].name' general.`];
  }
  const problems = value.flatMap((g, i) => workerGroupProblems(g, `${setting}[${i}]`));
  const names = value.map((g) => (g && typeof g === "object" ? (g as { name?: unknown }).name : undefined));
  const twice = [...new Set(names.filter((n, i) => typeof n === "string" && names.indexOf(n) !== i))];
  for (const n of twice) problems.push(`${setting} has two groups named ${shown(n)}; give every group its own name.`);
  return problems;
}

/** The desired size of a valid group. */
export const desiredSize = (g: WorkerGroupSpec): number => g.desired ?? g.min;

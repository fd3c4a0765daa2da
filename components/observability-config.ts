/**
 * Logs and alarm settings (stack config `aws-swarm:logs` and `aws-swarm:alarmEmail`) as data:
 * their shape, defaults and checks, with no resources. config.ts and SwarmCluster share them.
 */
import { shown } from "./shown";

/** Docker log drivers a cluster's services may default to. */
export type LogDriver = "awslogs" | "json-file";

/** Where services' logs go, and for how long CloudWatch keeps them. */
export interface LogsSettings {
  /**
   * Default log driver of the services deployed by `services` and `stacks`: `awslogs` sends
   * them to the cluster's log group, `json-file` keeps them on the node. @default "awslogs"
   */
  driver?: LogDriver;
  /** Days CloudWatch keeps both log groups; a value CloudWatch accepts. @default 30 */
  retentionDays?: number;
}

/** {@link LogsSettings} with every default resolved. */
export type ResolvedLogs = Required<LogsSettings>;

export const DEFAULT_LOGS: ResolvedLogs = { driver: "awslogs", retentionDays: 30 };

/** Retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days. */
export const RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const LOG_FIELDS = ["driver", "retentionDays"];

/** Problems with a `logs` value; `setting` is how the caller names it (`logs`, `aws-swarm:logs`). */
export function logsProblems(value: unknown, setting = "logs"): string[] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`${setting} is ${shown(value)}; write it as { driver: "awslogs", retentionDays: 30 }.`];
  }
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of Object.keys(v).filter((f) => !LOG_FIELDS.includes(f))) {
    problems.push(`${setting}.${field} is not a known setting (value ${shown(v[field])}); remove it or use one of: ${LOG_FIELDS.join(", ")}.`);
  }
  if (v.driver !== undefined && v.driver !== "awslogs" && v.driver !== "json-file") {
    problems.push(
      `${setting}.driver is ${shown(v.driver)}; use "awslogs" (services log to CloudWatch) or "json-file" (logs stay on each node).`,
    );
  }
  if (v.retentionDays !== undefined && !(typeof v.retentionDays === "number" && RETENTION_DAYS.includes(v.retentionDays))) {
    problems.push(
      `${setting}.retentionDays is ${shown(v.retentionDays)}; CloudWatch keeps logs for one of ${RETENTION_DAYS.join(", ")} days: pick one of those.`,
    );
  }
  return problems;
}

/** The settings with defaults applied; call after {@link logsProblems} found nothing. */
export function resolveLogs(value: LogsSettings | undefined): ResolvedLogs {
  return { ...DEFAULT_LOGS, ...(value ?? {}) };
}

/** Problems with an `alarmEmail` value: unset, or one address SNS can mail. */
export function alarmEmailProblems(value: unknown, setting = "alarmEmail"): string[] {
  if (value === undefined) return [];
  if (typeof value === "string" && value.length <= 254 && /^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$/.test(value)) return [];
  return [
    `${setting} is ${shown(value)}; give one e-mail address such as "ops@example.com" (SNS mails it a confirmation link), or leave it unset.`,
  ];
}

import { shown } from "./shown";
import { tokenRotationProblems } from "./bootstrap";

/** Raft backups of the managers (stack config `aws-swarm:backups`; docs/backup-restore.md). */
export interface BackupsArgs {
  /** Run the backup timer on the managers. @default true (when the registry bucket exists) */
  enabled?: boolean;
  /** When the timer fires: a systemd OnCalendar expression. @default "hourly" */
  schedule?: string;
  /** Days an archive is kept under `backups/` before S3 deletes it: 1 to 3650. @default 14 */
  retentionDays?: number;
}

/** {@link BackupsArgs} with every default resolved. */
export interface BackupsSettings {
  enabled: boolean;
  schedule: string;
  retentionDays: number;
}

export const DEFAULT_BACKUPS: BackupsSettings = { enabled: true, schedule: "hourly", retentionDays: 14 };

/** Where archives go in the bucket; the lifecycle rule and the workers' deny cover this prefix. */
export const BACKUPS_PREFIX = "backups/";

/** Seconds, per attempt, and attempts the boot unit gives Secrets Manager before it gives up. */
export const UNLOCK_ATTEMPTS = 30;
export const UNLOCK_DELAY_SECONDS = 5;

/** `autolock` is a boolean. */
export function autolockProblems(value: unknown, setting: string): string[] {
  if (value === undefined || typeof value === "boolean") return [];
  return [`${setting} is ${shown(value)}; use true (managers' Raft data encrypted with a key kept in Secrets Manager, unlocked at boot) or false.`];
}

/**
 * A systemd OnCalendar expression, checked for what can break the unit file: one line of the
 * characters calendar expressions use. systemd itself reports a bad expression at install.
 */
export function scheduleProblems(value: unknown, setting: string): string[] {
  if (typeof value === "string" && /^[A-Za-z0-9*:/,.~ -]{1,64}$/.test(value) && value.trim() === value && value !== "") return [];
  return [`${setting} is ${shown(value)}; use a systemd OnCalendar expression such as "hourly", "daily" or "*-*-* 00/6:00:00" (check it with systemd-analyze calendar).`];
}

/** Parses `backups`: true, false or `{ enabled, schedule, retentionDays }`. */
export function parseBackups(value: unknown, setting: string): { backups: BackupsSettings; problems: string[] } {
  if (value === undefined) return { backups: DEFAULT_BACKUPS, problems: [] };
  if (typeof value === "boolean") return { backups: { ...DEFAULT_BACKUPS, enabled: value }, problems: [] };
  const fix = "use true, false or { enabled: bool, schedule: OnCalendar string, retentionDays: 1..3650 }";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { backups: DEFAULT_BACKUPS, problems: [`${setting} is ${shown(value)}; ${fix}.`] };
  }
  const problems: string[] = [];
  const out = { ...DEFAULT_BACKUPS };
  for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
    const where = `${setting}.${field}`;
    if (v === undefined) continue;
    if (field === "enabled") {
      if (typeof v === "boolean") out.enabled = v;
      else problems.push(`${where} is ${shown(v)}; use true or false.`);
    } else if (field === "schedule") {
      const found = scheduleProblems(v, where);
      problems.push(...found);
      if (found.length === 0) out.schedule = v as string;
    } else if (field === "retentionDays") {
      if (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 3650) out.retentionDays = v;
      else problems.push(`${where} is ${shown(v)}; use a whole number of days from 1 to 3650.`);
    } else {
      problems.push(`${where} is not a known setting; ${fix}.`);
    }
  }
  return { backups: out, problems };
}

/** `restoreFrom`: the S3 key of one archive, or a prefix ending in "/" for the newest under it. */
export function restoreFromProblems(value: unknown, setting: string): string[] {
  if (value === undefined) return [];
  if (typeof value === "string" && /^backups\/[A-Za-z0-9._/-]*$/.test(value) && !value.includes("..") && (value.endsWith("/") || value.endsWith(".tar.gz"))) return [];
  return [`${setting} is ${shown(value)}; use the S3 key of a backup in the registry bucket, e.g. "backups/20261201T000000Z-ip-10-0-1-5.tar.gz" (aws s3 ls s3://<registryBucket>/backups/), or "backups/" for the newest.`];
}

/** Settings that only make sense together, by the names the caller uses. */
export function operationsProblems(
  a: { autolock?: unknown; unlockKeyRotation?: unknown; backups?: unknown; restoreFrom?: unknown; registryEnabled: boolean },
  name: (setting: string) => string,
): string[] {
  const problems = [
    ...autolockProblems(a.autolock, name("autolock")),
    // A rotation marker is a marker, whichever secret it rotates.
    ...tokenRotationProblems(a.unlockKeyRotation, name("unlockKeyRotation")),
    ...restoreFromProblems(a.restoreFrom, name("restoreFrom")),
  ];
  const { backups, problems: found } = parseBackups(a.backups, name("backups"));
  problems.push(...found);
  if (a.unlockKeyRotation !== undefined && a.autolock !== true) {
    problems.push(`${name("unlockKeyRotation")} is ${shown(a.unlockKeyRotation)} but ${name("autolock")} is ${shown(a.autolock)}; there is no unlock key to rotate: set ${name("autolock")} to true, or unset ${name("unlockKeyRotation")}.`);
  }
  const explicit = typeof a.backups === "boolean" ? a.backups : (a.backups as BackupsArgs | undefined)?.enabled;
  if (!a.registryEnabled && explicit === true && backups.enabled) {
    problems.push(`${name("backups")} is enabled but the registry is off, and backups are kept in the registry bucket; enable the registry, or set ${name("backups")} to false.`);
  }
  if (!a.registryEnabled && a.restoreFrom !== undefined) {
    problems.push(`${name("restoreFrom")} is ${shown(a.restoreFrom)} but the registry is off, and backups are kept in the registry bucket; enable the registry.`);
  }
  return problems;
}

/** Whether backups run: on by default, but only where there is a bucket to keep them in. */
export function backupsRun(backups: unknown, registryEnabled: boolean): boolean {
  return registryEnabled && parseBackups(backups, "backups").backups.enabled;
}

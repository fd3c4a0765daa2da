import * as fs from "fs";
import * as path from "path";
import { shellQuote } from "./scripts";
import { UNLOCK_ATTEMPTS, UNLOCK_DELAY_SECONDS } from "./operations-config";

/**
 * The operations programs installed on every manager (components/scripts/{unlock,autolock,
 * backup,restore}.sh after lib.sh and ops-lib.sh), and the systemd units that run them. They sit
 * at fixed paths, because unit files name them, and are rewritten whenever a script changes.
 */
export type OpsProgram = "unlock" | "autolock" | "backup" | "restore";
export const OPS_PROGRAMS: readonly OpsProgram[] = ["unlock", "autolock", "backup", "restore"];
export const OPS_DIR = "/var/lib/aws-swarm/ops";
export const UNIT_DIR = "/etc/systemd/system";
export const UNLOCK_UNIT = "aws-swarm-unlock.service";
export const BACKUP_UNIT = "aws-swarm-backup.service";
export const BACKUP_TIMER = "aws-swarm-backup.timer";

const read = (file: string) => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");

/** The whole program file: shebang, shared helpers, the program. */
export function opsProgramText(p: OpsProgram): string {
  return `#!/bin/sh\n${read("lib.sh")}\n${read("ops-lib.sh")}\n${read(`${p}.sh`)}`;
}

export const opsProgramPath = (p: OpsProgram) => `${OPS_DIR}/swarm-${p}`;

/** Words of a unit's ExecStart or a step: identifiers, ARNs, bucket names; never secrets. */
function words(args: (string | number)[]): string {
  return args.map((a) => {
    const s = String(a);
    if (!/^[A-Za-z0-9:/._+=@*-]+$/.test(s)) throw new Error(`argument ${JSON.stringify(s)} of an operations program has characters a unit file cannot carry`);
    return s;
  }).join(" ");
}

/** What the unlock unit runs; tests on hosts without systemd run exactly this line. */
export function unlockExecStart(secretId: string, region: string): string {
  return `${opsProgramPath("unlock")} ${words([secretId, region || "-", UNLOCK_ATTEMPTS, UNLOCK_DELAY_SECONDS])}`;
}

export interface BackupTarget {
  bucket: string;
  /** Key prefix of the archives, e.g. "backups/". */
  prefix: string;
  kmsKeyId: string;
  region: string;
  /** The unlock-key secret when autolock is on, so each archive records its key version. */
  secretId?: string;
}

/** What the backup timer runs on every manager; tests run exactly this line. */
export function backupExecStart(t: BackupTarget): string {
  return `${opsProgramPath("backup")} ${words([t.bucket, t.prefix, t.kmsKeyId, t.region || "-", t.secretId ?? "-", UNLOCK_ATTEMPTS])}`;
}

/** The unit files of a manager, by file name. */
export function renderUnits(u: { unlock?: { secretId: string; region: string }; backup?: BackupTarget & { schedule: string } }): Record<string, string> {
  const units: Record<string, string> = {};
  if (u.unlock) {
    // WantedBy docker.service: every start of Docker (boot, restart) runs the unlock once.
    units[UNLOCK_UNIT] = [
      "[Unit]",
      "Description=aws-swarm: unlock the local swarm with the key in Secrets Manager",
      "After=docker.service network-online.target",
      "Wants=network-online.target",
      "",
      "[Service]",
      "Type=oneshot",
      `ExecStart=${unlockExecStart(u.unlock.secretId, u.unlock.region)}`,
      "",
      "[Install]",
      "WantedBy=multi-user.target docker.service",
      "",
    ].join("\n");
  }
  if (u.backup) {
    units[BACKUP_UNIT] = [
      "[Unit]",
      "Description=aws-swarm: back up the swarm's Raft data to S3 (one non-leader manager per run)",
      "After=docker.service",
      "",
      "[Service]",
      "Type=oneshot",
      `ExecStart=${backupExecStart(u.backup)}`,
      "",
    ].join("\n");
    units[BACKUP_TIMER] = [
      "[Unit]",
      "Description=aws-swarm: Raft backups",
      "",
      "[Timer]",
      `OnCalendar=${u.backup.schedule}`,
      "Persistent=true",
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n");
  }
  return units;
}

const END = "AWS_SWARM_OPS_EOF";

/**
 * The command that installs the programs and the units on a manager, idempotently. Units are
 * enabled only where systemd runs (and it says so where it does not); units of a feature that
 * was switched off are disabled and removed.
 */
export function renderOpsInstall(u: Parameters<typeof renderUnits>[0]): string {
  const units = renderUnits(u);
  const put = (file: string, text: string, mode: string) => {
    if (text.split("\n").includes(END)) throw new Error(`${file} contains the line ${END}`);
    return `cat >"${file}.new" <<'${END}'\n${text}\n${END}\nchmod ${mode} "${file}.new"\nmv "${file}.new" "${file}"`;
  };
  const all = [UNLOCK_UNIT, BACKUP_UNIT, BACKUP_TIMER];
  const enable = [...(units[UNLOCK_UNIT] ? [UNLOCK_UNIT] : []), ...(units[BACKUP_TIMER] ? [BACKUP_TIMER] : [])];
  const gone = all.filter((f) => !(f in units));
  const script = [
    "set -eu",
    `mkdir -p ${OPS_DIR} ${UNIT_DIR}`,
    ...OPS_PROGRAMS.map((p) => put(opsProgramPath(p), opsProgramText(p), "755")),
    ...Object.entries(units).map(([f, text]) => put(`${UNIT_DIR}/${f}`, text, "644")),
    "if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then",
    ...gone.map((f) => `  systemctl disable --now ${f} >/dev/null 2>&1 || true; rm -f ${UNIT_DIR}/${f}`),
    "  systemctl daemon-reload",
    // The unlock unit runs at the next Docker start; the timer starts now.
    ...enable.map((f) => `  systemctl enable ${f === BACKUP_TIMER ? "--now " : ""}${f} >/dev/null`),
    `  echo "swarm-ops: installed ${OPS_DIR} and enabled: ${enable.join(" ") || "nothing"}" >&2`,
    "else",
    ...gone.map((f) => `  rm -f ${UNIT_DIR}/${f}`),
    `  echo "swarm-ops: installed ${OPS_DIR} and the unit files; no systemd on $(hostname), so nothing is enabled: run their ExecStart lines yourself" >&2`,
    "fi",
  ].join("\n");
  return `exec $([ "$(id -u)" -eq 0 ] || echo sudo -n) sh -c ${shellQuote(script)} swarm-ops-install`;
}

/** A short command text that runs an installed program with plain (non-secret) arguments. */
export function renderOpsCommand(p: OpsProgram, args: (string | number)[]): string {
  const file = opsProgramPath(p);
  const body = `[ -x ${file} ] || { echo "swarm-${p}: error: ${file} is missing on $(hostname); run pulumi up --replace <URN of the host's -ops command>" >&2; exit 1; }; exec ${file} "$@"`;
  return `exec $([ "$(id -u)" -eq 0 ] || echo sudo -n) sh -c ${shellQuote(body)} swarm-${p} ${args.map((a) => shellQuote(String(a))).join(" ")}`;
}

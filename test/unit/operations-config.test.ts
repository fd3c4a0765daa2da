import * as assert from "node:assert";
import { parseStackConfig } from "../../config";
import { parseBackups, restoreFromProblems, scheduleProblems } from "../../components/operations-config";

const base = { "aws-swarm:sshAllowedCidrs": '["203.0.113.0/24"]' };
const parse = (extra: Record<string, string>) => parseStackConfig({ ...base, ...extra });

describe("autolock, backups and restore config", () => {
  it("reads autolock, a rotation marker, a backups object and a restore key", () => {
    const c = parse({
      "aws-swarm:autolock": "true", "aws-swarm:unlockKeyRotation": "2026-12-02",
      "aws-swarm:backups": '{"schedule":"daily","retentionDays":30}', "aws-swarm:restoreFrom": "backups/",
    }).config!;
    assert.deepStrictEqual([c.autolock, c.unlockKeyRotation, c.backups, c.restoreFrom],
      [true, "2026-12-02", { enabled: true, schedule: "daily", retentionDays: 30 }, "backups/"]);
  });

  it("turns backups off with false, and off by default when the registry is off", () => {
    assert.strictEqual(parse({ "aws-swarm:backups": "false" }).config!.backups.enabled, false);
    assert.strictEqual(parse({ "aws-swarm:registry": "false" }).config!.backups.enabled, false);
  });

  it("names every bad value with its key and the fix", () => {
    assert.deepStrictEqual(parse({
      "aws-swarm:autolock": "yes", "aws-swarm:backups": '{"schedule":"hourly\\nx","retentionDays":0,"bucket":"b"}',
      "aws-swarm:restoreFrom": "../etc/passwd",
    }).problems, [
      'aws-swarm:autolock is "yes"; use true (managers\' Raft data encrypted with a key kept in Secrets Manager, unlocked at boot) or false.',
      'aws-swarm:restoreFrom is "../etc/passwd"; use the S3 key of a backup in the registry bucket, e.g. "backups/20261201T000000Z-ip-10-0-1-5.tar.gz" (aws s3 ls s3://<registryBucket>/backups/), or "backups/" for the newest.',
      'aws-swarm:backups.schedule is "hourly\\nx"; use a systemd OnCalendar expression such as "hourly", "daily" or "*-*-* 00/6:00:00" (check it with systemd-analyze calendar).',
      "aws-swarm:backups.retentionDays is 0; use a whole number of days from 1 to 3650.",
      "aws-swarm:backups.bucket is not a known setting; use true, false or { enabled: bool, schedule: OnCalendar string, retentionDays: 1..3650 }.",
    ]);
  });

  it("refuses a rotation marker without autolock, and backups asked for without the registry", () => {
    assert.deepStrictEqual(parse({ "aws-swarm:unlockKeyRotation": "r1", "aws-swarm:registry": "false", "aws-swarm:backups": "true" }).problems, [
      'aws-swarm:unlockKeyRotation is "r1" but aws-swarm:autolock is unset; there is no unlock key to rotate: set aws-swarm:autolock to true, or unset aws-swarm:unlockKeyRotation.',
      "aws-swarm:backups is enabled but the registry is off, and backups are kept in the registry bucket; enable the registry, or set aws-swarm:backups to false.",
    ]);
  });

  it("checks unlockKeyRotation with the rotation-marker rule", () => {
    assert.match(parse({ "aws-swarm:autolock": "true", "aws-swarm:unlockKeyRotation": "a\u0001" }).problems.join(), /aws-swarm:unlockKeyRotation is "a\\u0001"; use 1 to 128 printable ASCII/);
  });

  it("accepts calendar expressions and archive keys, and nothing that could break a unit file", () => {
    for (const ok of ["hourly", "daily", "*-*-* 00/6:00:00", "Mon..Fri 02:30"]) assert.deepStrictEqual(scheduleProblems(ok, "s"), [], ok);
    for (const bad of ["", " hourly", "hourly\n[Service]", "a'b", 5]) assert.strictEqual(scheduleProblems(bad, "s").length, 1, String(bad));
    for (const ok of ["backups/", "backups/20261201T000000Z-ip-10-0-1-5.tar.gz"]) assert.deepStrictEqual(restoreFromProblems(ok, "r"), []);
    for (const bad of ["x.tar.gz", "backups/a b.tar.gz", "backups/../x.tar.gz", "backups/x"]) assert.strictEqual(restoreFromProblems(bad, "r").length, 1, bad);
    assert.deepStrictEqual(parseBackups(true, "b"), { backups: { enabled: true, schedule: "hourly", retentionDays: 14 }, problems: [] });
  });
});

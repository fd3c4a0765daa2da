import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { created, ofType, settle, unwrapSecret, valueOf } from "../helpers/mocks";
import { runProgram, stackConfig } from "../helpers/stack";
import { RECOVER_UPLOAD_PATH, recoverBinaryPath, recoverDigest, recoverToolProblems } from "../../components/recover-tool";

type Exports = Record<string, pulumi.Output<unknown> | string | undefined>;
type Recorded = pulumi.runtime.MockResourceArgs;

async function evaluate(config: Record<string, string>): Promise<{ out: Exports; all: Recorded[] }> {
  created.length = 0;
  const out = runProgram(config) as Exports;
  await valueOf(pulumi.all([out.workerJoinToken, out.unlockKey ?? ""]) as pulumi.Output<unknown>, 20000);
  await settle();
  await settle();
  return { out, all: [...created] };
}
const named = (all: Recorded[], name: string) => {
  const r = all.find((x) => x.name === name);
  assert.ok(r, `no ${name}; have ${all.map((x) => x.name).filter((n) => /ops|autolock/.test(n)).join(", ")}`);
  return r;
};
const policyOf = (r: Recorded) => JSON.parse(String(r.inputs.policy)) as { Statement: { Effect: string; Action: string[]; Resource: string }[] };

describe("autolock and backups in the prod stack, under mocks", () => {
  let out: Exports;
  let all: Recorded[];
  before(async () => {
    ({ out, all } = await evaluate(stackConfig("prod")));
  });

  it("keeps the unlock key in a Secrets Manager secret under the stack's own KMS key, and never writes its value from Pulumi", () => {
    const key = named(all, "swarm-ops-key");
    assert.strictEqual(key.inputs.enableKeyRotation, true);
    const secret = named(all, "swarm-ops-unlock-key");
    assert.strictEqual(secret.inputs.kmsKeyId, "arn:aws:kms:us-east-1:123456789012:key/swarm-ops-key");
    assert.deepStrictEqual(all.filter((r) => /secretsmanager\/secretVersion/.test(r.type)), []);
  });

  it("gives the managers' role exactly the unlock key and the stack key, by single ARNs, and denies workers the archives", () => {
    assert.deepStrictEqual(policyOf(named(all, "swarm-ops-access")).Statement, [
      { Sid: "StackKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], Resource: "arn:aws:kms:us-east-1:123456789012:key/swarm-ops-key" },
      { Sid: "UnlockKey", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], Resource: "arn:aws:mock:::swarm-ops-unlock-key" },
    ]);
    assert.strictEqual(named(all, "swarm-ops-managers-access").inputs.role, "swarm-managers-role");
    const deny = policyOf(named(all, "swarm-ops-workers-no-backups")).Statement;
    assert.deepStrictEqual(deny.map((s) => [s.Effect, s.Action]), [["Deny", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]]]);
    assert.match(deny[0].Resource, /^arn:aws:s3:::[a-z0-9-]+\/backups\/\*$/);
    assert.strictEqual(named(all, "swarm-ops-workers-no-backups").type, "aws:iam/policy:Policy");
    assert.ok(all.some((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" && r.name === "swarm-ops-workers-no-backups" && r.inputs.role === "swarm-workers-role"));
  });

  it("installs the unlock unit and the backup timer on every manager, and nowhere else", () => {
    const installs = all.filter((r) => r.name.startsWith("swarm-ops-") && r.name.endsWith("-ops"));
    assert.deepStrictEqual(installs.map((r) => r.name).sort(), ["swarm-ops-manager-1-ops", "swarm-ops-manager-2-ops", "swarm-ops-manager-3-ops"]);
    const text = String(installs[0].inputs.create);
    assert.match(text, /ExecStart=\/var\/lib\/aws-swarm\/ops\/swarm-unlock arn:aws:mock:::swarm-ops-unlock-key us-east-1 30 5/);
    assert.match(text, /OnCalendar=hourly/);
    assert.match(text, /ExecStart=\/var\/lib\/aws-swarm\/ops\/swarm-backup \S+ backups\/ arn:aws:kms:us-east-1:123456789012:key\/swarm-ops-key us-east-1 arn:aws:mock:::swarm-ops-unlock-key 30/);
  });

  it("turns autolock on from the first manager after the bootstrap; the key is a secret output and in no input", async () => {
    const step = named(all, "swarm-autolock-enable");
    assert.strictEqual(step.inputs.logging, "none");
    assert.strictEqual(step.inputs.stdin, undefined);
    assert.match(String(step.inputs.create), /swarm-autolock 'on' '600' 'arn:aws:mock:::swarm-ops-unlock-key' 'us-east-1'$/);
    assert.match(String(step.inputs.delete), /swarm-autolock 'off' '60' /);
    assert.strictEqual((unwrapSecret(step.inputs.connection) as { host: string }).host, (unwrapSecret(named(all, "swarm-swarm-manager-1-init").inputs.connection) as { host: string }).host);
    assert.ok(await pulumi.isSecret(out.unlockKey as pulumi.Output<string>));
    for (const r of all) {
      for (const field of ["userData", "tags", "create", "delete"]) assert.doesNotMatch(JSON.stringify(r.inputs[field] ?? ""), /SWMKEY-1-[A-Za-z0-9+/]{10,}/, `${r.name}.${field}`);
    }
  });

  it("keeps archives 14 days under backups/ with the bucket's lifecycle rule", () => {
    const rules = named(all, "swarm-registry-lifecycle").inputs.rules as { id: string; filter: { prefix: string }; expiration?: { days: number } }[];
    assert.deepStrictEqual(rules.filter((r) => r.id === "raft-backups").map((r) => [r.filter.prefix, r.expiration?.days]), [["backups/", 14]]);
  });
});

describe("autolock and backups in other stacks, under mocks", () => {
  it("dev: backups on the one manager, no autolock, no secret, no unlockKey", async () => {
    const { out, all } = await evaluate(stackConfig("dev"));
    assert.deepStrictEqual(all.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-ops")).map((r) => r.name), ["swarm-ops-manager-1-ops"]);
    assert.ok(!all.some((r) => r.name === "swarm-ops-unlock-key" || r.name === "swarm-autolock-enable"));
    const text = String(named(all, "swarm-ops-manager-1-ops").inputs.create);
    assert.doesNotMatch(text, /ExecStart=\S+swarm-unlock/);
    assert.match(text, /ExecStart=\S+swarm-backup \S+ backups\/ arn:aws:kms:us-east-1:123456789012:key\/swarm-ops-key us-east-1 - 30/);
    assert.strictEqual(out.unlockKey, undefined);
  });

  it("no registry and no autolock: no operations at all", async () => {
    const { all } = await evaluate({ ...stackConfig("dev"), "aws-swarm:registry": "false" });
    assert.deepStrictEqual(all.filter((r) => /-ops|kms\/key/.test(r.name + r.type)).map((r) => r.name), []);
  });

  it("a rotation marker goes into the autolock step's command text", async () => {
    const { all } = await evaluate({ ...stackConfig("prod"), "aws-swarm:unlockKeyRotation": "2026-12-02" });
    assert.match(String(named(all, "swarm-autolock-enable").inputs.create), /'us-east-1' '2026-12-02'$/);
  });

  it("restoreFrom uploads swarm-recover to the first manager and adds the restore step, which names the upload's sha256, with the archive key in plain sight and no secret", async () => {
    const { all } = await evaluate({ ...stackConfig("prod"), "aws-swarm:restoreFrom": "backups/" });
    const upload = named(all, "swarm-ops-recover-tool");
    assert.strictEqual(upload.type, "command:remote:CopyToRemote");
    assert.strictEqual(await (upload.inputs.source as { path: Promise<string> }).path, recoverBinaryPath());
    assert.strictEqual(upload.inputs.remotePath, RECOVER_UPLOAD_PATH);
    const r = named(all, "swarm-ops-restore");
    assert.match(String(r.inputs.create), new RegExp(`swarm-restore '600' '\\S+' 'backups/' 'us-east-1' '(10\\.\\d+\\.\\d+\\.\\d+)' 'arn:aws:mock:::swarm-ops-unlock-key' '${RECOVER_UPLOAD_PATH}' '${recoverDigest()}'$`));
    assert.match(recoverDigest(), /^[0-9a-f]{64}$/);
  });

  it("a restore without the packaged swarm-recover fails before any resource, naming the file and the fix", () => {
    assert.deepStrictEqual(recoverToolProblems("aws-swarm:restoreFrom", "/nonexistent/swarm-recover"), [
      "aws-swarm:restoreFrom is set, and a restore needs swarm-recover, but /nonexistent/swarm-recover does not exist; run `npm run recover-tool` in the aws-swarm checkout, or reinstall the package.",
    ]);
    assert.deepStrictEqual(recoverToolProblems("aws-swarm:restoreFrom"), []);
  });
});

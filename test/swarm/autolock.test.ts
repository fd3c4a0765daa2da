import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { Moto, MOTO_IAM_ARGV } from "./moto";
import { eventually, labHost, swarmState } from "./cluster";
import { aws, AwsKeys, prepareHost, reachability, stackKeys, storedKey } from "./ops-lab";
import { SwarmBootstrap } from "../../components/bootstrap";
import { SwarmAutolock } from "../../components/autolock";
import { operationsPolicyDocument, opsNodeCommands } from "../../components/operations";
import { UNLOCK_ATTEMPTS, UNLOCK_DELAY_SECONDS } from "../../components/operations-config";
import { opsProgramPath, unlockExecStart } from "../../components/ops-scripts";

/** Autolock on a real swarm of three managers, with moto as Secrets Manager and KMS. */
describe("Autolock with unattended unlock on a real swarm", function () {
  const lab = new Lab({ name: "sal", net: "10.254.0" });
  const harness = new SwarmHarness();
  let moto: Moto;
  let secretArn = "";
  let keyArn = "";
  const region = "us-east-1";
  const managers = () => [1, 2, 3].map((i) => labHost(lab, i, `manager-${i}`));
  const deploy = (unlockKeyRotation?: string) => {
    let autolock: SwarmAutolock | undefined;
    const program = () => {
      const b = new SwarmBootstrap("lab", { managers: managers(), dockerWaitSeconds: 30 });
      const installs = opsNodeCommands("ops", { hosts: managers(), unlock: { secretId: secretArn, region } });
      autolock = new SwarmAutolock("autolock", { manager: managers()[0], secretId: secretArn, region, unlockKeyRotation, swarmReady: b.ready, dependsOn: installs });
      return pulumi.all([b.ready, autolock.unlockKey]);
    };
    return harness.deploy(program).then((r) => ({ ...r, key: r.value[1], autolock: autolock! }));
  };
  /** Restarts host i's dockerd as a reboot would; the unit's command is not run. */
  const restart = async (i: number) => {
    await lab.stopDockerd(i);
    await lab.start(i);
  };
  const unlock = (i: number, command = unlockExecStart(secretArn, region)) => lab.ssh(i, command);
  let first: Awaited<ReturnType<typeof deploy>>;

  before(async () => {
    await lab.up(3);
    // moto_iam.py: moto as is, plus IAM checks that see which secret a call names (used, and
    // switched on, only by the last tests).
    moto = await Moto.start({ host: `${lab.net}.1`, argv: MOTO_IAM_ARGV });
    for (const i of [1, 2, 3]) await prepareHost(lab, i, moto);
    ({ secretArn, keyArn } = await stackKeys(moto, "lab-unlock-key"));
    first = await deploy();
  });
  after(async () => {
    harness.dispose();
    await moto?.stop();
    await lab.down();
  });

  it("turns autolock on and the manager stores the key itself: the secret, the output and the swarm agree, and no command text holds it", async () => {
    assert.match(first.key, /^SWMKEY-1-\S+$/);
    assert.ok(await pulumi.isSecret(first.autolock.unlockKey));
    assert.strictEqual((await storedKey(moto, secretArn)).key, first.key);
    assert.strictEqual((await lab.exec(2, "docker swarm unlock-key -q")).stdout.trim(), first.key);
    for (const r of harness.log) {
      assert.ok(!r.commandText.includes(first.key) && !r.stderr.includes(first.key), `${r.name} shows the key`);
      assert.ok(!(r.inputs.stdin ?? "").includes(first.key), `${r.name} got the key on stdin`);
    }
    const step = first.ran.find((r) => r.name === "autolock-enable")!;
    assert.match(step.stderr, /autolock is on/);
    assert.strictEqual(step.inputs.logging, "none");
  });

  it("brings a restarted manager back locked, and the unit's command unlocks it with the key from Secrets Manager", async () => {
    await restart(2);
    assert.strictEqual(await swarmState(lab, 2), "locked");
    const r = await unlock(2);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stderr.trim().split("\n").length, 1, `more than one log line: ${r.stderr}`);
    assert.match(r.stderr, /^swarm-unlock: unlocked the swarm on sal-h2 with the key in \S+ \(AWSCURRENT\) after 1 attempt\(s\); state active$/m);
    assert.ok(!r.stderr.includes(first.key) && !r.stdout.includes(first.key));
    await eventually("h2 Reachable", 60000, async () => ((await reachability(lab, 2)) === "reachable" ? true : undefined));
  });

  it("does nothing on a manager that is not locked", async () => {
    const r = await unlock(1);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /is not locked \(state 'active'\); nothing to do/);
  });

  it("rotates on a new unlockKeyRotation, stores the new key before the step ends, keeps the old one as AWSPREVIOUS, and a restart still unlocks", async () => {
    const r = await deploy("2026-12-02");
    assert.notStrictEqual(r.key, first.key);
    assert.deepStrictEqual(r.ran.filter((x) => x.commandText).map((x) => x.name), ["autolock-enable"]);
    assert.match(r.ran.find((x) => x.name === "autolock-enable")!.stderr, /rotated the unlock key/);
    assert.strictEqual((await storedKey(moto, secretArn)).key, r.key);
    assert.strictEqual((await storedKey(moto, secretArn, "AWSPREVIOUS")).key, first.key);
    await eventually("h3 has the new key", 30000, async () =>
      ((await lab.exec(3, "docker swarm unlock-key -q")).stdout.trim() === r.key ? true : undefined));
    await restart(3);
    assert.strictEqual(await swarmState(lab, 3), "locked");
    const u = await unlock(3);
    assert.strictEqual(u.code, 0, u.stderr);
    assert.match(u.stderr, /unlocked the swarm on sal-h3 .*\(AWSCURRENT\)/);
    await eventually("h3 Reachable", 60000, async () => ((await reachability(lab, 3)) === "reachable" ? true : undefined));
    const again = await deploy("2026-12-02");
    assert.deepStrictEqual(again.ran.filter((x) => x.commandText), [], "the same marker ran a step again");
  });

  it("keeps a manager locked when the secret cannot be read, and logs the fix", async () => {
    await restart(2);
    const missing = `${secretArn}-gone`;
    const r = await lab.ssh(2, `${opsProgramPath("unlock")} ${missing} ${region} 2 1`);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /swarm-unlock: error: the swarm on sal-h2 stays locked after 2 attempt\(s\): the secret \S+-gone \(version AWS\w+\) does not exist .*run pulumi up, whose autolock step stores the key, or unlock by hand/);
    assert.strictEqual(await swarmState(lab, 2), "locked");
    const u = await unlock(2);
    assert.strictEqual(u.code, 0, u.stderr);
    assert.strictEqual(await swarmState(lab, 2), "active");
  });
  /**
   * The managers' policy as the stack ships it, under IAM checks. moto (5.2.5, with
   * test/swarm/moto_iam.py) authenticates every request once enforcement is on and evaluates the
   * caller's identity policies, Action and Resource, for Secrets Manager calls; so a policy for
   * another secret is denied and the stack's own is allowed. It does not evaluate Conditions,
   * resource policies (the secret's, the KMS key policy) or KMS at all: its Secrets Manager does
   * not encrypt, so the kms:Decrypt of the policy is never asked for. The lab host gets the role's
   * credentials as an EC2 instance gets its instance role's, here from sts:AssumeRole into
   * /etc/aws-swarm/aws.env. The switch is the whole server's, so it is on only in these tests.
   */
  describe("with IAM checked (moto), under the managers' policy of operationsPolicyDocument", function () {
    const role = "sal-managers";
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    let operator: AwsKeys;
    let current = "";
    let wrongPolicy = "";
    let rightPolicy = "";
    /** moto's 403 answers to host 2 so far (its request log: one line a request). */
    const denied = () => (moto.output().match(new RegExp(`^${esc(lab.addr(2))} .*" 403 `, "gm")) ?? []).length;
    const keys = (tsv: string): AwsKeys => {
      const [id, secret, token] = tsv.split("\t");
      return { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, ...(token ? { AWS_SESSION_TOKEN: token } : {}) };
    };
    const policy = async (name: string, secret: string) => aws(moto, ["iam", "create-policy", "--policy-name", name,
      "--policy-document", JSON.stringify(operationsPolicyDocument({ keyArn, secretArn: secret })), "--query", "Policy.Arn"]);

    before(async () => {
      current = (await storedKey(moto, secretArn)).key;
      // A genuinely wrong policy: the stack's own document, rendered for another stack's secret.
      const other = await aws(moto, ["secretsmanager", "create-secret", "--name", "other-stack-unlock-key", "--kms-key-id", keyArn, "--query", "ARN"]);
      wrongPolicy = await policy("other-stack-ops-access", other);
      rightPolicy = await policy("sal-ops-access", secretArn);
      const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] };
      const roleArn = await aws(moto, ["iam", "create-role", "--role-name", role, "--assume-role-policy-document", JSON.stringify(trust), "--query", "Role.Arn"]);
      await aws(moto, ["iam", "attach-role-policy", "--role-name", role, "--policy-arn", wrongPolicy]);
      // The operator (pulumi up) changes the role's policies while IAM is checked.
      await aws(moto, ["iam", "create-user", "--user-name", "sal-operator"]);
      await aws(moto, ["iam", "put-user-policy", "--user-name", "sal-operator", "--policy-name", "operator",
        "--policy-document", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] })]);
      operator = keys(await aws(moto, ["iam", "create-access-key", "--user-name", "sal-operator", "--query", "AccessKey.[AccessKeyId,SecretAccessKey]"]));
      const host = keys(await aws(moto, ["sts", "assume-role", "--role-arn", roleArn, "--role-session-name", "sal-h2",
        "--query", "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]"]));
      const env = Object.entries({ ...host, AWS_DEFAULT_REGION: region, AWS_SWARM_ENDPOINT_URL: moto.endpoint }).map(([k, v]) => `${k}=${v}`).join("\n");
      const w = await lab.exec(2, `cat >/etc/aws-swarm/aws.env <<'EOF'\n${env}\nEOF`);
      assert.strictEqual(w.code, 0, w.stderr);
      await moto.enforceIam(true);
    });
    after(async () => {
      await moto?.enforceIam(false);
      await prepareHost(lab, 2, moto);
    });

    it("keeps a restarted manager locked when its role's policy names another secret, and logs in one line the permission to grant", async () => {
      await restart(2);
      assert.strictEqual(await swarmState(lab, 2), "locked");
      // The unit's own line with its bound cut from 30 attempts 5 s apart to 2 attempts 1 s apart.
      const bound = ` ${UNLOCK_ATTEMPTS} ${UNLOCK_DELAY_SECONDS}`;
      const line = unlockExecStart(secretArn, region);
      assert.ok(line.endsWith(bound), line);
      const r = await unlock(2, `${line.slice(0, -bound.length)} 2 1`);
      assert.notStrictEqual(r.code, 0, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.strictEqual(lines.length, 1, `not one log line: ${r.stderr}`);
      assert.match(lines[0], new RegExp(`^swarm-unlock: error: the swarm on sal-h2 stays locked after 2 attempt\\(s\\): access denied reading ${esc(secretArn)} with the instance role of sal-h2 \\(.*assumed-role/${role}/sal-h2 is not authorized to perform: secretsmanager:GetSecretValue.*\\); the managers' role needs secretsmanager:GetSecretValue on ${esc(secretArn)} and kms:Decrypt on its KMS key \\(the stack key\\): pulumi up puts the stack's policy \\(<cluster>-ops-access\\) back on that role$`));
      assert.doesNotMatch(r.stderr + r.stdout, /SWMKEY-1-/);
      assert.ok(!(r.stderr + r.stdout).includes(current));
      assert.strictEqual(await swarmState(lab, 2), "locked");
      // The policy is what is wrong: the secret is there, and an identity allowed to reads the key.
      assert.strictEqual((await storedKey(moto, secretArn, "AWSCURRENT", operator)).key, current);
    });

    it("unlocks once the stack's own policy is back: the unit's exact command, still retrying, then reads the key", async () => {
      assert.strictEqual(await swarmState(lab, 2), "locked");
      const before = denied();
      const running = unlock(2);
      // Two attempts (AWSCURRENT and AWSPREVIOUS each) denied while the wrong policy is on.
      await eventually("two denied attempts of h2", 60000, async () => (denied() >= before + 4 ? true : undefined));
      assert.strictEqual(await swarmState(lab, 2), "locked");
      await aws(moto, ["iam", "detach-role-policy", "--role-name", role, "--policy-arn", wrongPolicy], operator);
      await aws(moto, ["iam", "attach-role-policy", "--role-name", role, "--policy-arn", rightPolicy], operator);
      const r = await running;
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stderr.trim().split("\n").length, 1, `more than one log line: ${r.stderr}`);
      const m = /^swarm-unlock: unlocked the swarm on sal-h2 with the key in (\S+) \(AWSCURRENT\) after (\d+) attempt\(s\); state active$/.exec(r.stderr.trim());
      assert.ok(m, r.stderr);
      assert.strictEqual(m[1], secretArn);
      assert.ok(Number(m[2]) >= 3, `unlocked after ${m[2]} attempt(s), before the policy was put back`);
      assert.ok(!(r.stderr + r.stdout).includes(current));
      await eventually("h2 Reachable", 60000, async () => ((await reachability(lab, 2)) === "reachable" ? true : undefined));
    });

    it("unlocks a restarted manager at the first attempt under the stack's policy, and MOTO_ENV's keys are refused meanwhile", async () => {
      await restart(2);
      assert.strictEqual(await swarmState(lab, 2), "locked");
      const r = await unlock(2);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stderr.trim(), /^swarm-unlock: unlocked the swarm on sal-h2 with the key in \S+ \(AWSCURRENT\) after 1 attempt\(s\); state active$/);
      await assert.rejects(storedKey(moto, secretArn), /InvalidClientTokenId/);
      await eventually("h2 Reachable", 60000, async () => ((await reachability(lab, 2)) === "reachable" ? true : undefined));
    });
  });
});

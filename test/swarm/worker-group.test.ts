import * as assert from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { eventually, labHost, nodes, settled } from "./cluster";
import { Moto, MOTO_ENV } from "./moto";
import { ImdsMock } from "./imds-mock";
import { SwarmBootstrap } from "../../components/bootstrap";
import { WorkerJoin } from "../../components/worker-join";
import { WorkerGroup } from "../../components/worker-group";
import { SwarmKeeper } from "../../components/keeper";
import { decodeWorkerUserData } from "../../components/worker-user-data";

/**
 * Worker groups and the keeper on a real swarm. Lab hosts 1-3 are the managers (bootstrapped
 * by the program's own steps); hosts 4 and 5 play two instances of the group. moto is the AWS
 * API (SSM, KMS, EC2, Auto Scaling), ec2-metadata-mock is each instance's IMDSv2, and Debian's
 * awscli runs on the hosts. The test plays the AWS provider: it creates in moto what the
 * program declared (the mocked resources' inputs), then runs the launch template's real user
 * data on the hosts and the keeper's real ExecStart on the managers.
 *
 * Driven by hand, because moto 5.2.5 lacks it: the Terminating:Wait state and
 * CompleteLifecycleAction. test/swarm/moto_lifecycle.py adds both to moto's Auto Scaling
 * backend (terminating an instance of a group with a terminating hook holds it in
 * Terminating:Wait until the action is completed); the heartbeat timeout is not modelled. The
 * instance's end is played by stopping its lab host.
 */
describe("worker groups and the keeper on a real swarm", function () {
  const lab = new Lab({ name: "swg", net: "10.252.0" });
  const harness = new SwarmHarness();
  const imds: ImdsMock[] = [];
  let moto: Moto;
  const aws = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile("/usr/bin/aws", ["--endpoint-url", moto.endpoint, "--output", "json", ...args], { env: { ...process.env, ...MOTO_ENV } },
        (e, out, err) => (e ? reject(new Error(`aws ${args.join(" ")}: ${err}`)) : resolve(out))));
  const json = async (...args: string[]) => JSON.parse(await aws(...args) || "null");
  const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply((v) => (resolve(v), v)));

  let userData: string;
  let groupName: string;
  let token: string;
  let instances: { id: string; az: string; type: string }[];
  const hostOf = new Map<string, number>();
  /** Runs the keeper as its systemd unit would, on manager i; returns its journal lines. */
  const keeper = async (i: number) => {
    const unit = await lab.exec(i, "cat /etc/systemd/system/aws-swarm-keeper.service");
    const exec = /^ExecStart=(.*)$/m.exec(unit.stdout)![1];
    const r = await lab.exec(i, exec);
    assert.strictEqual(r.code, 0, `keeper on h${i}: ${r.stderr}`);
    return r.stderr.split("\n").filter(Boolean);
  };
  const leader = async (from: number[]) => eventually("a leader", 60_000, async () => {
    for (const i of from) {
      const rows = await nodes(lab, i).catch(() => []);
      const l = rows.find((r) => r.manager === "Leader");
      if (l) return Number(/-h(\d+)$/.exec(l.hostname)![1]);
    }
    return undefined;
  });
  const boot = (i: number, text: string) => lab.ssh(i, "cat >/tmp/user-data && sh /tmp/user-data", { stdin: text, timeoutMs: 180_000 });
  /** Points host i at its own IMDS for instance n, with a dockerd config of its own for engine labels. */
  const playInstance = async (i: number, n: number) => {
    const mock = await ImdsMock.start({ host: `${lab.net}.1`, values: {
      "instance-id": instances[n].id, "instance-type": instances[n].type, "local-ipv4": lab.addr(i),
      "placement-availability-zone": instances[n].az } });
    imds.push(mock);
    const env = `${moto.awsEnv()}AWS_SWARM_IMDS_URL=${mock.url}\nAWS_SWARM_DOCKER_CONFIG=${lab.root}/h${i}/daemon.json\n`;
    assert.strictEqual((await lab.exec(i, "cat >/etc/aws-swarm/aws.env", { stdin: env })).code, 0);
    hostOf.set(instances[n].id, i);
  };

  before(async function () {
    await lab.up(5);
    moto = await Moto.start({ host: `${lab.net}.1`, argv: ["python3", path.join(__dirname, "moto_lifecycle.py")] });
    for (let i = 1; i <= 5; i++) {
      const r = await lab.exec(i, "mkdir -p /etc/aws-swarm && cat >/etc/aws-swarm/aws.env", { stdin: moto.awsEnv() });
      assert.strictEqual(r.code, 0, r.stderr);
    }
    const ami = (await json("ec2", "describe-images", "--query", "Images[0].ImageId")) as string;
    const subnet = (await json("ec2", "describe-subnets", "--query", "Subnets[0].SubnetId")) as string;

    const managers = [1, 2, 3].map((i) => labHost(lab, i, `manager-${i}`));
    let join: WorkerJoin | undefined;
    let group: WorkerGroup | undefined;
    await harness.deploy(() => {
      const bootstrap = new SwarmBootstrap("lab", { managers, dockerWaitSeconds: 30, leaveOnDelete: false });
      join = new WorkerJoin("lab-join", {
        workerJoinToken: bootstrap.workerJoinToken, managerAddresses: managers.map((m) => m.privateIp),
        parameterPath: "/swarm/lab", region: "us-east-1" });
      group = new WorkerGroup("lab-group-general", {
        name: "general", min: 1, max: 4, desired: 3, labels: { tier: "web" }, subnetIds: [subnet], securityGroupIds: ["sg-lab"],
        amiId: ami, clusterName: "lab", tokenStep: "lab-worker-token", joinSeconds: 120, drainSeconds: 20,
        join: { tokenParameterName: join.tokenParameterName, managersParameterName: join.managersParameterName,
          instanceProfileName: join.instanceProfile.name, roleName: join.role.name, region: join.region } });
      const k = new SwarmKeeper("lab-keeper", { managers, groupNames: [group.groupName], region: "us-east-1",
        drainSeconds: 20, dependsOn: [bootstrap.ready] });
      return pulumi.all([bootstrap.ready, pulumi.all(k.installs.map((c) => c.stdout))]);
    });
    await settled(lab, 1, 3);

    // The AWS provider's part, in moto, from what the program declared.
    token = await value(join!.tokenParameter.value);
    const key = (await json("kms", "create-key", "--query", "KeyMetadata.Arn")) as string;
    // The token never in an argument: in a private file the CLI reads and that goes at once.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swg-"));
    try {
      fs.writeFileSync(path.join(dir, "p.json"), JSON.stringify({ Name: await value(join!.tokenParameterName), Type: "SecureString", KeyId: key, Value: token }), { mode: 0o600 });
      await aws("ssm", "put-parameter", "--cli-input-json", `file://${dir}/p.json`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await aws("ssm", "put-parameter", "--name", await value(join!.managersParameterName), "--type", "String",
      "--value", await value(join!.managersParameter.value));
    const template = group!.launchTemplate;
    userData = decodeWorkerUserData(await value(template.userData as pulumi.Output<string>));
    await aws("ec2", "create-launch-template", "--launch-template-name", "lab-general", "--launch-template-data",
      JSON.stringify({ ImageId: await value(template.imageId as pulumi.Output<string>), InstanceType: await value(template.instanceType as pulumi.Output<string>) }));
    const g = group!.group;
    groupName = await value(g.name);
    await aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", groupName,
      "--launch-template", "LaunchTemplateName=lab-general,Version=$Latest",
      "--min-size", String(await value(g.minSize)), "--max-size", String(await value(g.maxSize)),
      "--desired-capacity", String(await value(g.desiredCapacity as pulumi.Output<number>)), "--vpc-zone-identifier", subnet);
    const hook = group!.drainHook;
    await aws("autoscaling", "put-lifecycle-hook", "--auto-scaling-group-name", groupName,
      "--lifecycle-hook-name", await value(hook.name), "--lifecycle-transition", await value(hook.lifecycleTransition),
      "--heartbeat-timeout", String(await value(hook.heartbeatTimeout as pulumi.Output<number>)), "--default-result", await value(hook.defaultResult));
    instances = ((await json("autoscaling", "describe-auto-scaling-instances")).AutoScalingInstances as { InstanceId: string; AvailabilityZone: string; InstanceType: string }[])
      .map((x) => ({ id: x.InstanceId, az: x.AvailabilityZone, type: x.InstanceType }));
    assert.strictEqual(instances.length, 3);

    // Engine labels need a dockerd config of the host's own (the lab's is shared).
    for (const i of [4, 5]) {
      fs.copyFileSync(path.join(lab.root, "daemon.json"), path.join(lab.root, `h${i}`, "daemon.json"));
      await lab.stopDockerd(i);
      await lab.start(i);
    }
  });
  after(async () => {
    harness.dispose();
    for (const m of imds) await m.stop();
    await moto?.stop();
    await lab.down();
  });

  it("marks an instance Unhealthy when it cannot join within the bound", async () => {
    await playInstance(5, 2);
    const broken = userData.replace(/^AWS_SWARM_JOIN_SECONDS='120'$/m, "AWS_SWARM_JOIN_SECONDS='6'")
      .replace(/^AWS_SWARM_MANAGERS_PARAMETER='[^']*'$/m, "AWS_SWARM_MANAGERS_PARAMETER='/swarm/lab/missing'");
    assert.notStrictEqual(broken, userData);
    const r = await boot(5, broken);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`could not join the swarm within 6s; marking ${instances[2].id} Unhealthy`));
    const health = await json("autoscaling", "describe-auto-scaling-instances", "--instance-ids", instances[2].id,
      "--query", "AutoScalingInstances[0].HealthStatus");
    assert.strictEqual(String(health).toUpperCase(), "UNHEALTHY");
    assert.strictEqual((await nodes(lab, 1)).length, 3);
  });

  it("joins the group's instances by themselves: user data reads the token from SSM and runs the join step", async () => {
    await playInstance(4, 0);
    await playInstance(5, 1);
    const [a, b] = await Promise.all([boot(4, userData), boot(5, userData)]);
    for (const r of [a, b]) {
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /worker-boot: joined the swarm \(attempt 1\)/);
      assert.ok(!(r.stdout + r.stderr).includes(token), "the token reached the boot output");
    }
    assert.match(a.stderr, new RegExp(`instance ${instances[0].id} \\(${instances[0].type}\\) in ${instances[0].az}, address ${lab.addr(4)}, group general`));
    const rows = await settled(lab, 1, 5);
    assert.deepStrictEqual(rows.filter((r) => !r.manager).map((r) => r.hostname).sort(), ["swg-h4", "swg-h5"]);
    for (const i of [4, 5]) {
      // The token itself as the pattern, on stdin (the scripts hold the bare prefix).
      const files = await lab.exec(i, "grep -rlFf - /etc/aws-swarm /usr/local/sbin /tmp/user-data /var/lib/aws-swarm /etc/docker 2>/dev/null || true", { stdin: `${token}\n` });
      assert.strictEqual(files.stdout.trim(), "", `token in files on h${i}`);
    }
  });

  it("copies engine labels to node labels on the leader only", async () => {
    const l = await leader([1, 2, 3]);
    for (const i of [1, 2, 3].filter((x) => x !== l)) assert.deepStrictEqual(await keeper(i), [], `h${i} acted without being the leader`);
    const lines = await keeper(l);
    assert.strictEqual(lines.filter((x) => /^aws-swarm-keeper: labelled /.test(x)).length, 2, lines.join("\n"));
    const labels = JSON.parse((await lab.exec(1, "docker node inspect swg-h4 -f '{{json .Spec.Labels}}'")).stdout);
    assert.deepStrictEqual(labels, { az: instances[0].az, group: "general", "instance-id": instances[0].id, "instance-type": instances[0].type, tier: "web" });
    assert.deepStrictEqual(await keeper(l), [], "a second run labelled again");
  });

  it("drains and removes a terminating instance's node, then completes its lifecycle action", async () => {
    const create = await lab.exec(1, "docker service create -d --name web --replicas 2 --constraint node.labels.group==general " +
      "--endpoint-mode dnsrr --no-resolve-image localhost/busybox:latest sleep 1d");
    assert.strictEqual(create.code, 0, create.stderr);
    await eventually("web on h4 and h5", 60_000, async () => {
      const r = await lab.exec(1, "docker service ps web -f desired-state=running --format '{{.Node}} {{.CurrentState}}'");
      const on = r.stdout.split("\n").filter((x) => / Running /.test(x)).map((x) => x.split(" ")[0]).sort();
      return on.join(",") === "swg-h4,swg-h5" ? on : undefined;
    });
    const id = instances[0].id;
    await aws("autoscaling", "terminate-instance-in-auto-scaling-group", "--instance-id", id, "--no-should-decrement-desired-capacity");
    const state = await json("autoscaling", "describe-auto-scaling-instances", "--instance-ids", id, "--query", "AutoScalingInstances[0].LifecycleState");
    assert.strictEqual(state, "Terminating:Wait");
    const node = (await lab.exec(1, "docker node inspect swg-h4 -f '{{.ID}}'")).stdout.trim();
    const l = await leader([1, 2, 3]);
    const lines = await keeper(l);
    assert.deepStrictEqual(lines, [
      `aws-swarm-keeper: drained ${node} (instance ${id} of ${groupName} is terminating)`,
      `aws-swarm-keeper: removed ${node} (instance ${id} of ${groupName} is terminating)`,
      `aws-swarm-keeper: completed the lifecycle action of ${id} in ${groupName}`,
    ]);
    assert.ok(!(await nodes(lab, 1)).some((r) => r.hostname === "swg-h4"));
    assert.strictEqual(await json("ec2", "describe-instances", "--instance-ids", id, "--query", "Reservations[0].Instances[0].State.Name"), "terminated");
    await eventually("both web tasks on h5", 60_000, async () => {
      const tasks = await lab.exec(1, "docker service ps web -f desired-state=running --format '{{.Node}}'");
      return tasks.stdout.trim() === "swg-h5\nswg-h5" ? true : undefined;
    });
    await lab.stop(4);
  });

  it("removes a vanished instance's Down node from the next leader after the leader's daemon dies, never a manager", async () => {
    const old = await leader([1, 2, 3]);
    await lab.killDockerd(old);
    const others = [1, 2, 3].filter((x) => x !== old);
    const next = await leader(others);
    assert.notStrictEqual(next, old);
    await lab.stop(5);
    await aws("ec2", "terminate-instances", "--instance-ids", instances[1].id);
    const node = await eventually("h5 Down", 90_000, async () => {
      const row = (await nodes(lab, next)).find((r) => r.hostname === "swg-h5");
      return row?.status === "Down" ? row.id : undefined;
    });
    const quiet = others.filter((x) => x !== next);
    for (const i of [...quiet, old]) assert.deepStrictEqual(await keeper(i), [], `h${i} acted without being the leader`);
    const lines = await keeper(next);
    assert.deepStrictEqual(lines, [
      `aws-swarm-keeper: drained ${node} (instance ${instances[1].id} is terminated)`,
      `aws-swarm-keeper: removed ${node} (instance ${instances[1].id} is terminated)`,
    ]);
    const rows = await nodes(lab, next);
    assert.deepStrictEqual(rows.map((r) => r.hostname).sort(), ["swg-h1", "swg-h2", "swg-h3"], "a manager was removed, or h5 was not");
  });
});

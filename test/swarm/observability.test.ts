import * as assert from "node:assert";
import { spawn } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SwarmBootstrap } from "../../components/bootstrap";
import { ComposeStack } from "../../components/compose";
import { MetricsPublisher } from "../../components/metrics";
import { AlarmSpec, alarmSpecs, conditionHolds, SWARM_METRICS } from "../../components/alarm-rules";
import { DEFAULT_JOURNAL_IMAGE, logGroupNames, serviceLogDriver } from "../../components/logs";
import { renderStepCommand } from "../../components/scripts";
import { Lab } from "./lab";
import { SwarmHarness } from "./harness";
import { eventually, labHost, settled } from "./cluster";
import { Moto, MOTO_ENV } from "./moto";

/**
 * The metrics publisher on a real three-manager swarm, reporting into moto's CloudWatch, and a
 * service's awslogs driver writing into moto's CloudWatch Logs. moto stores alarms but never
 * evaluates them, so each alarm is created in moto, read back with describe-alarms, and its
 * condition is evaluated against the metric data read back with get-metric-statistics.
 */
/** A stack whose `talker` logs where the cluster says, and whose `quiet` keeps a driver of its own. */
const COMPOSE = `
services:
  talker:
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo line-one-from-sob; echo line-two-from-sob; exec sleep 100000"]
  quiet:
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo quiet-line; exec sleep 100000"]
    logging:
      driver: json-file
`;

describe("observability on a real swarm with moto's CloudWatch", function () {
  const lab = new Lab({ name: "sob", net: "10.253.0" });
  const harness = new SwarmHarness();
  const cluster = "lab-sob";
  let moto: Moto;

  /** The AWS CLI of this machine (Debian's), against moto. */
  const aws = (args: string[]): Promise<unknown> => new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/aws", ["--endpoint-url", moto.endpoint, "--output", "json", ...args], {
      env: { PATH: process.env.PATH, HOME: "/nonexistent", ...MOTO_ENV }, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("close", (code) => (code === 0 ? resolve(out.trim() ? JSON.parse(out) : {}) : reject(new Error(`aws ${args.join(" ")}: ${err}`))));
  });

  /** Runs the publisher on host i exactly as its unit's ExecStart says; returns its summary and the time window. */
  const publish = async (i: number) => {
    // The window must hold this run's datapoints only: the previous run's lie at least 2 s back,
    // and a server that keeps whole seconds still puts this one at or after `start`.
    await new Promise((d) => setTimeout(d, 2000));
    const start = new Date(Date.now() - 1000);
    const r = await lab.exec(i, '$(sed -n "s/^ExecStart=//p" /etc/systemd/system/aws-swarm-metrics.service)', { timeoutMs: 60_000 });
    assert.strictEqual(r.code, 0, `publisher on h${i}: ${r.stderr}`);
    await new Promise((d) => setTimeout(d, 1100));
    return { summary: r.stdout.trim(), stderr: r.stderr, start, end: new Date(Date.now()) };
  };

  /** One statistic of a metric over a window, read back from moto (undefined: no data). */
  const readBack = async (metric: string, statistic: string, w: { start: Date; end: Date }) => {
    const res = await aws(["cloudwatch", "get-metric-statistics", "--namespace", "Swarm", "--metric-name", metric,
      "--dimensions", `Name=Cluster,Value=${cluster}`, "--statistics", statistic, "--period", "60",
      "--start-time", w.start.toISOString(), "--end-time", w.end.toISOString()]) as { Datapoints: Record<string, number>[] };
    const values = res.Datapoints.map((d) => d[statistic]);
    assert.ok(values.length <= 1, `more than one period in a ${w.end.getTime() - w.start.getTime()} ms window`);
    return values[0];
  };

  /** The alarm as moto stores it, with its condition evaluated against `value`. */
  const alarmHolds = async (spec: AlarmSpec, value: number | undefined) => {
    const res = await aws(["cloudwatch", "describe-alarms", "--alarm-names", `${cluster}-${spec.key}`]) as { MetricAlarms: Record<string, unknown>[] };
    assert.strictEqual(res.MetricAlarms.length, 1);
    const stored = res.MetricAlarms[0];
    const read: AlarmSpec = { ...spec, comparisonOperator: stored.ComparisonOperator as AlarmSpec["comparisonOperator"], threshold: Number(stored.Threshold), treatMissingData: stored.TreatMissingData as AlarmSpec["treatMissingData"] };
    assert.deepStrictEqual([stored.MetricName, stored.Namespace, stored.Statistic], [spec.metricName, "Swarm", spec.statistic]);
    return conditionHolds(read, value);
  };

  const specs = alarmSpecs({ managerCount: 3, downNodesThreshold: 0 });
  const spec = (key: AlarmSpec["key"]) => specs.find((s) => s.key === key)!;

  before(async () => {
    await lab.up(3);
    moto = await Moto.start({ host: "10.253.0.1" });
    for (const i of [1, 2, 3]) {
      const w = await lab.exec(i, "mkdir -p /etc/aws-swarm && cat > /etc/aws-swarm/aws.env", { stdin: moto.awsEnv() });
      assert.strictEqual(w.code, 0, w.stderr);
    }
    // ClusterLogs creates the group before any node writes; here moto gets it from the CLI.
    await aws(["logs", "create-log-group", "--log-group-name", logGroupNames(cluster).services]);
    // The daemon's awslogs driver takes credentials from its own environment or ~/.aws (on EC2:
    // the instance role). Lab dockerd runs with HOME=/root, so the host's /root/.aws/credentials.
    const creds = `[default]\naws_access_key_id = ${MOTO_ENV.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${MOTO_ENV.AWS_SECRET_ACCESS_KEY}\n`;
    for (const i of [1, 2, 3]) assert.strictEqual((await lab.exec(i, "mkdir -p /root/.aws && cat > /root/.aws/credentials", { stdin: creds })).code, 0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "observability-lab-"));
    fs.writeFileSync(path.join(dir, "compose.yaml"), COMPOSE);
    const managers = [1, 2, 3].map((i) => labHost(lab, i, `manager-${i}`));
    const r = await harness.deploy(() => {
      const bootstrap = new SwarmBootstrap("lab", { managers, workers: [], dockerWaitSeconds: 30, leaveOnDelete: false });
      const metrics = new MetricsPublisher("lab-metrics", { clusterName: cluster, managers, region: "us-east-1", dependsOn: [bootstrap.ready] });
      // The log target ClusterLogs would give, with awslogs-endpoint pointing at moto.
      const logTarget = { driver: "awslogs" as const, group: logGroupNames(cluster).services, region: "us-east-1", endpoint: moto.endpoint };
      const stack = new ComposeStack("logs", {
        composeFile: "compose.yaml", baseDir: dir, manager: managers[0].connection, dependsOn: [bootstrap.ready],
        dockerWaitSeconds: 30, waitSeconds: 60, logTarget,
      });
      return pulumi.all([bootstrap.ready, metrics.installed, stack.services]);
    });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepStrictEqual(r.value[1], ["/usr/local/lib/aws-swarm/swarm-metrics", "/usr/local/lib/aws-swarm/swarm-metrics", "/usr/local/lib/aws-swarm/swarm-metrics"]);
    for (const s of specs) {
      await aws(["cloudwatch", "put-metric-alarm", "--alarm-name", `${cluster}-${s.key}`, "--namespace", "Swarm", "--metric-name", s.metricName,
        "--dimensions", `Name=Cluster,Value=${cluster}`, "--statistic", s.statistic, "--comparison-operator", s.comparisonOperator,
        "--threshold", String(s.threshold), "--period", String(s.periodSeconds), "--evaluation-periods", String(s.evaluationPeriods),
        "--treat-missing-data", s.treatMissingData]);
    }
  });
  after(async () => {
    harness.dispose();
    await moto?.stop();
    await lab.down();
  });

  it("installs the units without enabling them (no systemd here), and publishes once on install", async () => {
    const install = harness.log.find((x) => x.name === "lab-metrics-manager-2")!;
    assert.match(install.stderr, /no systemd on sob-h2, so the timer is not enabled/);
    assert.match(install.stderr, /first publish done/);
    const unit = await lab.exec(2, "cat /etc/systemd/system/aws-swarm-metrics.timer /etc/systemd/system/aws-swarm-metrics.service");
    assert.match(unit.stdout, /OnUnitActiveSec=60/);
    assert.match(unit.stdout, /ExecStart=\/bin\/sh \/usr\/local\/lib\/aws-swarm\/swarm-metrics lab-sob us-east-1/);
  });

  it("reports 3 Reachable managers, a leader, 3 Ready and 0 Down nodes, and the certificate's days left", async () => {
    const w = await publish(1);
    assert.match(w.summary, /^ReachableManagers=3 LeaderExists=1 ReadyNodes=3 DownNodes=0 CertificateDaysLeft=(8[0-9]|90)$/);
    assert.strictEqual(await readBack("ReachableManagers", "Maximum", w), 3);
    assert.strictEqual(await readBack("LeaderExists", "Maximum", w), 1);
    assert.strictEqual(await readBack("DownNodes", "Maximum", w), 0);
    const days = await readBack("CertificateDaysLeft", "Minimum", w);
    assert.ok(days !== undefined && days >= 80 && days <= 90, `certificate days ${days}`);
    assert.strictEqual(await alarmHolds(spec("quorum-at-risk"), 3), false);
    assert.strictEqual(await alarmHolds(spec("certificate-expiring"), days), false);
  });

  it("keeps the journal forwarder as one global service, and leaves it alone when nothing changed", async () => {
    const step = renderStepCommand("journal", ["30", DEFAULT_JOURNAL_IMAGE, logGroupNames(cluster).system, "us-east-1"]);
    const first = await lab.exec(1, step);
    assert.strictEqual(first.code, 0, first.stderr);
    assert.match(first.stderr, /creating aws-swarm-journal: fluent\/fluent-bit:3\.2 on every node, journal to \/aws-swarm\/lab-sob\/system in us-east-1/);
    const spec = JSON.parse((await lab.exec(1, "docker service inspect -f '{{json .Spec}}' aws-swarm-journal")).stdout) as {
      Mode: Record<string, unknown>; TaskTemplate: { ContainerSpec: { Args: string[]; Mounts: { Source: string; ReadOnly?: boolean; Type: string }[] }; LogDriver: { Name: string } };
    };
    assert.deepStrictEqual(Object.keys(spec.Mode), ["Global"]);
    const c = spec.TaskTemplate.ContainerSpec;
    assert.deepStrictEqual(c.Mounts.map((m) => [m.Type, m.Source, m.ReadOnly ?? false]), [
      ["bind", "/var/log/journal", true], ["bind", "/etc/machine-id", true], ["volume", "aws-swarm-journal-state", false]]);
    assert.ok(c.Args.includes("log_group_name=/aws-swarm/lab-sob/system") && c.Args.includes("log_stream_template=$_HOSTNAME"), c.Args.join(" "));
    assert.strictEqual(spec.TaskTemplate.LogDriver.Name, "json-file");
    const again = await lab.exec(1, step);
    assert.strictEqual(again.code, 0, again.stderr);
    assert.match(again.stderr, /already forwards the journal to \/aws-swarm\/lab-sob\/system; nothing to do/);
    await lab.exec(1, "docker service rm aws-swarm-journal");
  });

  it("sends a stack service's lines through the awslogs driver to moto's log group, in a stream under the service name", async () => {
    const group = logGroupNames(cluster).services;
    const events = await eventually("two lines in moto's log group", 30_000, async () => {
      const res = await aws(["logs", "filter-log-events", "--log-group-name", group]) as { events: { logStreamName: string; message: string }[] };
      return res.events.length >= 2 ? res.events : undefined;
    });
    assert.deepStrictEqual(events.map((e) => e.message), ["line-one-from-sob", "line-two-from-sob"]);
    assert.match(events[0].logStreamName, /^logs_talker\/[0-9a-f]{12}$/);
    const driver = (svc: string) => lab.exec(1, `docker service inspect -f '{{.Spec.TaskTemplate.LogDriver.Name}}' logs_${svc}`);
    assert.deepStrictEqual([(await driver("talker")).stdout.trim(), (await driver("quiet")).stdout.trim()], ["awslogs", "json-file"]);
    const quiet = await lab.exec(1, "docker service logs --raw logs_quiet");
    assert.match(quiet.stdout, /quiet-line/);
  });

  it("reports 2 with one manager stopped, and the quorum-at-risk condition holds (majority of 3, no margin left)", async () => {
    await lab.stop(3);
    const w = await eventually("h1 publishing 2 Reachable", 60_000, async () => {
      const p = await publish(1);
      return /^ReachableManagers=2 LeaderExists=1 /.test(p.summary) ? p : undefined;
    });
    assert.strictEqual(await readBack("ReachableManagers", "Maximum", w), 2);
    assert.strictEqual(await alarmHolds(spec("quorum-at-risk"), 2), true);
    assert.strictEqual(await alarmHolds(spec("no-leader"), await readBack("LeaderExists", "Maximum", w)), false);
  });

  it("reports the quorum lost with two managers stopped: 1 Reachable, no leader, and both alarms' conditions hold", async () => {
    await lab.stop(2);
    const w = await eventually("h1 publishing no leader", 90_000, async () => {
      const p = await publish(1);
      return /LeaderExists=0/.test(p.summary) ? p : undefined;
    });
    assert.match(w.summary, /^ReachableManagers=1 LeaderExists=0 ReadyNodes=\? DownNodes=\? CertificateDaysLeft=\d+$/);
    assert.match(w.stderr, /no leader: docker node ls does not answer; 1 manager\(s\) accept connections/);
    const reachable = await readBack(SWARM_METRICS.reachableManagers.name, "Maximum", w);
    assert.strictEqual(reachable, 1);
    assert.strictEqual(await alarmHolds(spec("quorum-at-risk"), reachable), true);
    assert.strictEqual(await alarmHolds(spec("no-leader"), await readBack("LeaderExists", "Maximum", w)), true);
    // No node counts without a leader: nothing was sent, so the down-nodes alarm sees missing data.
    assert.strictEqual(await readBack("DownNodes", "Maximum", w), undefined);
  });

  it("sees no metrics at all in a window nobody published in, which the no-metrics alarm treats as breaching", async () => {
    const quiet = { start: new Date(Date.now() - 3_600_000 * 5), end: new Date(Date.now() - 3_600_000 * 4) };
    const n = await readBack("ReachableManagers", "SampleCount", quiet);
    assert.strictEqual(n, undefined);
    assert.strictEqual(await alarmHolds(spec("no-metrics"), n), true);
  });
});

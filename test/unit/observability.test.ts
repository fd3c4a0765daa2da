import * as assert from "node:assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SwarmCluster } from "../../components/cluster";
import { SwarmAlarms, dashboardBody } from "../../components/alarms";
import { alarmSpecs, conditionHolds, majorityOf, quorumAtRiskThreshold } from "../../components/alarm-rules";
import { alarmEmailProblems, logsProblems } from "../../components/observability-config";
import { serviceLogDriver } from "../../components/logs";
import { ComposeStack } from "../../components/compose";
import { renderCompose } from "../../components/compose-render";
import { stepScript } from "../../components/scripts";
import { parseStackConfig } from "../../config";
import { created, isWrappedSecret, ofType, unwrapSecret, valueOf } from "../helpers/mocks";
import { whenSettled } from "../helpers/policy";

const base = { "aws-swarm:sshAllowedCidrs": '["203.0.113.0/24"]' };
const GROUP_ARN = (n: string) => `arn:aws:logs:us-east-1:123456789012:log-group:${n}`;

describe("logs and alarms settings", () => {
  it("resolves logs to awslogs kept 30 days, and alarmEmail to none", () => {
    const c = parseStackConfig(base).config!;
    assert.deepStrictEqual([c.logs, c.alarmEmail], [{ driver: "awslogs", retentionDays: 30 }, undefined]);
  });

  it("takes logs and alarmEmail from the stack config", () => {
    const c = parseStackConfig({ ...base, "aws-swarm:logs": '{"driver":"json-file","retentionDays":90}', "aws-swarm:alarmEmail": "ops@example.com" }).config!;
    assert.deepStrictEqual([c.logs, c.alarmEmail], [{ driver: "json-file", retentionDays: 90 }, "ops@example.com"]);
    assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:logs": '{"retentionDays":7}' }).config!.logs, { driver: "awslogs", retentionDays: 7 });
  });

  it("names the key, the value and the fix for every bad logs field, all at once", () => {
    assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:logs": '{"driver":"syslog","retentionDays":31,"group":"x"}' }).problems, [
      'aws-swarm:logs.group is not a known setting (value "x"); remove it or use one of: driver, retentionDays.',
      'aws-swarm:logs.driver is "syslog"; use "awslogs" (services log to CloudWatch) or "json-file" (logs stay on each node).',
      "aws-swarm:logs.retentionDays is 31; CloudWatch keeps logs for one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days: pick one of those.",
    ]);
    assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:logs": '"awslogs"' }).problems, [
      'aws-swarm:logs is "awslogs"; write it as { driver: "awslogs", retentionDays: 30 }.',
    ]);
  });

  it("refuses an alarmEmail that is not one address", () => {
    for (const bad of ["ops", "a@b", "a@b.com,c@d.com", "ops @example.com"]) {
      assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:alarmEmail": bad }).problems, [
        `aws-swarm:alarmEmail is ${JSON.stringify(bad)}; give one e-mail address such as "ops@example.com" (SNS mails it a confirmation link), or leave it unset.`,
      ]);
    }
    assert.deepStrictEqual(alarmEmailProblems("ops+swarm@mail.example.org"), []);
  });

  it("uses the same rules for SwarmCluster's logs and alarmEmail", () => {
    assert.throws(
      () => new SwarmCluster("bad", { sshAllowedCidrs: ["203.0.113.0/24"], logs: { retentionDays: 2 }, alarmEmail: "nobody" }),
      (e: Error) => e.message.includes(logsProblems({ retentionDays: 2 })[0]) && e.message.includes(alarmEmailProblems("nobody")[0]),
    );
  });
});

describe("cluster name", () => {
  it("refuses a clusterName CloudWatch or the shell would mangle, before any resource exists", async () => {
    created.length = 0;
    assert.throws(
      () => new SwarmCluster("named", { sshAllowedCidrs: ["203.0.113.0/24"], clusterName: "prod eu" }),
      /clusterName is "prod eu"; use 1 to 100 letters, digits, "\.", "_" or "-", starting with a letter or digit/,
    );
    await new Promise((d) => setTimeout(d, 50));
    assert.deepStrictEqual(created.filter((r) => r.custom), []);
  });
});

describe("alarm rules", () => {
  // managers, majority, quorum-at-risk fires at Reachable <= threshold
  const table: [number, number, number][] = [[1, 1, 0], [3, 2, 2], [5, 3, 3], [7, 4, 4]];
  for (const [n, majority, threshold] of table) {
    it(`with ${n} manager(s) fires quorum-at-risk at ${threshold} or fewer Reachable (majority ${majority})`, () => {
      assert.strictEqual(majorityOf(n), majority);
      assert.strictEqual(quorumAtRiskThreshold(n), threshold);
      const q = alarmSpecs({ managerCount: n, downNodesThreshold: 0 }).find((s) => s.key === "quorum-at-risk")!;
      // Every Reachable count from 0 to n: at risk exactly when below a majority, or at it with n >= 3.
      const fires = Array.from({ length: n + 1 }, (_, r) => conditionHolds(q, r));
      const expected = Array.from({ length: n + 1 }, (_, r) => r < majority || (r === majority && n >= 3));
      assert.deepStrictEqual(fires, expected);
    });
  }

  it("treats missing data as breaching for no-metrics only", () => {
    const specs = alarmSpecs({ managerCount: 3, downNodesThreshold: 0 });
    assert.deepStrictEqual(specs.map((s) => [s.key, conditionHolds(s, undefined)]), [
      ["quorum-at-risk", false], ["no-leader", false], ["down-nodes", false], ["certificate-expiring", false], ["no-metrics", true],
    ]);
  });
});

describe("SwarmAlarms under mocks", () => {
  const alarmsOf = async (n: number, extra: Partial<ConstructorParameters<typeof SwarmAlarms>[1]> = {}) => {
    created.length = 0;
    const a = new SwarmAlarms(`al${n}`, { clusterName: `c${n}`, managerCount: n, ...extra });
    await valueOf(a.dashboardName);
    await whenSettled(created);
    return a;
  };

  for (const [n, threshold] of [[1, 0], [3, 2], [5, 3], [7, 4]]) {
    it(`creates the five alarms with the right thresholds for ${n} manager(s), all notifying the topic`, async () => {
      const a = await alarmsOf(n);
      const topic = `arn:aws:sns:us-east-1:123456789012:al${n}-topic`;
      const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((r) => [
        r.name, r.inputs.metricName, r.inputs.statistic, r.inputs.comparisonOperator, r.inputs.threshold,
        r.inputs.period, r.inputs.evaluationPeriods, r.inputs.treatMissingData,
      ]);
      assert.deepStrictEqual(alarms, [
        [`al${n}-quorum-at-risk`, "ReachableManagers", "Maximum", "LessThanOrEqualToThreshold", threshold, 60, 2, "notBreaching"],
        [`al${n}-no-leader`, "LeaderExists", "Maximum", "LessThanThreshold", 1, 60, 2, "notBreaching"],
        [`al${n}-down-nodes`, "DownNodes", "Maximum", "GreaterThanThreshold", 0, 60, 5, "notBreaching"],
        [`al${n}-certificate-expiring`, "CertificateDaysLeft", "Minimum", "LessThanThreshold", 7, 300, 1, "notBreaching"],
        [`al${n}-no-metrics`, "ReachableManagers", "SampleCount", "LessThanThreshold", 1, 300, 1, "breaching"],
      ]);
      for (const r of ofType("aws:cloudwatch/metricAlarm:MetricAlarm")) {
        assert.deepStrictEqual([r.inputs.namespace, r.inputs.dimensions, r.inputs.alarmActions, r.inputs.okActions],
          ["Swarm", { Cluster: `c${n}` }, [topic], [topic]]);
      }
      assert.strictEqual(await valueOf(a.topicArn), topic);
      assert.deepStrictEqual(ofType("aws:sns/topicSubscription:TopicSubscription"), []);
    });
  }

  it("subscribes alarmEmail to the topic", async () => {
    await alarmsOf(3, { alarmEmail: "ops@example.com", downNodesThreshold: 2 });
    assert.deepStrictEqual(ofType("aws:sns/topicSubscription:TopicSubscription").map((r) => [r.name, r.inputs.protocol, r.inputs.endpoint, r.inputs.topic]),
      [["al3-email", "email", "ops@example.com", "arn:aws:sns:us-east-1:123456789012:al3-topic"]]);
    assert.strictEqual(ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((r) => r.name === "al3-down-nodes")!.inputs.threshold, 2);
  });

  it("draws every figure, each alarm and the log groups on the dashboard", async () => {
    await alarmsOf(5, { logGroups: { Services: "/aws-swarm/c5/services" } });
    const d = ofType("aws:cloudwatch/dashboard:Dashboard")[0];
    assert.strictEqual(d.inputs.dashboardName, "c5-swarm");
    const body = JSON.parse(String(d.inputs.dashboardBody)) as { widgets: { type: string; properties: Record<string, unknown> }[] };
    const metrics = body.widgets.filter((w) => w.type === "metric").flatMap((w) => (w.properties.metrics as unknown[][]).map((m) => `${m[0]}/${m[1]}/${m[3]}`));
    assert.deepStrictEqual(metrics, ["Swarm/ReachableManagers/c5", "Swarm/LeaderExists/c5", "Swarm/ReadyNodes/c5", "Swarm/DownNodes/c5", "Swarm/CertificateDaysLeft/c5"]);
    assert.deepStrictEqual(body.widgets.find((w) => w.type === "alarm")!.properties.alarms,
      ["quorum-at-risk", "no-leader", "down-nodes", "certificate-expiring", "no-metrics"].map((k) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:c5-${k}`));
    assert.match(String(body.widgets.find((w) => w.type === "log")!.properties.query), /^SOURCE '\/aws-swarm\/c5\/services' /);
    assert.strictEqual(dashboardBody("c", "r", alarmSpecs({ managerCount: 3, downNodesThreshold: 0 }), [], {}).includes('"value":2'), true);
  });
});

describe("SwarmCluster's logs, metrics and alarms under mocks", () => {
  let cluster: SwarmCluster;
  before(async () => {
    created.length = 0;
    cluster = new SwarmCluster("obs", {
      managerCount: 3, workerCount: 1, sshAllowedCidrs: ["203.0.113.0/24"], clusterName: "prod-eu",
      logs: { retentionDays: 14 }, alarmEmail: "ops@example.com",
      services: [{ name: "web", image: "nginx:1.27" }, { name: "own", image: "nginx:1.27", logging: { driver: "json-file", options: { "max-size": "1m" } } }],
    });
    await valueOf(cluster.alarmTopicArn, 20000);
    await valueOf(cluster.metrics.installed, 20000);
    await whenSettled(created);
  });

  it("creates exactly the two log groups, with the retention", () => {
    assert.deepStrictEqual(ofType("aws:cloudwatch/logGroup:LogGroup").map((r) => [r.name, r.inputs.name, r.inputs.retentionInDays]), [
      ["obs-logs-services", "/aws-swarm/prod-eu/services", 14],
      ["obs-logs-system", "/aws-swarm/prod-eu/system", 14],
    ]);
  });

  it("lets both node roles create streams and put events in those two groups and nothing else", () => {
    const policy = ofType("aws:iam/policy:Policy").find((r) => r.name === "obs-logs-write")!;
    assert.deepStrictEqual(JSON.parse(String(policy.inputs.policy)).Statement, [{
      Sid: "WriteClusterLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [
        GROUP_ARN("/aws-swarm/prod-eu/services"), `${GROUP_ARN("/aws-swarm/prod-eu/services")}:log-stream:*`,
        GROUP_ARN("/aws-swarm/prod-eu/system"), `${GROUP_ARN("/aws-swarm/prod-eu/system")}:log-stream:*`,
      ],
    }]);
    const attached = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((r) => /^obs-(logs|metrics)-/.test(r.name));
    assert.deepStrictEqual(attached.map((r) => [r.name, r.inputs.role, r.inputs.policyArn]).sort(), [
      ["obs-logs-managers-write", "obs-managers-role", "arn:aws:mock:::obs-logs-write"],
      ["obs-logs-workers-write", "obs-workers-role", "arn:aws:mock:::obs-logs-write"],
      ["obs-metrics-managers-put", "obs-managers-role", "arn:aws:mock:::obs-metrics-put"],
    ]);
  });

  it("lets managers only put metrics, and only into namespace Swarm", () => {
    const policy = ofType("aws:iam/policy:Policy").find((r) => r.name === "obs-metrics-put")!;
    assert.deepStrictEqual(JSON.parse(String(policy.inputs.policy)).Statement, [{
      Sid: "PublishSwarmMetrics", Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": "Swarm" } },
    }]);
  });

  it("installs the publisher on every manager and on no worker, after the bootstrap", () => {
    const installs = ofType("command:remote:Command").filter((r) => r.name.startsWith("obs-metrics-"));
    assert.deepStrictEqual(installs.map((r) => r.name), ["obs-metrics-manager-1", "obs-metrics-manager-2", "obs-metrics-manager-3"]);
    for (const r of installs) {
      assert.match(String(r.inputs.create), / swarm-metrics-install 'prod-eu' 'us-east-1'$/);
      assert.strictEqual(r.inputs.stdin, stepScript("metrics"));
      assert.strictEqual(r.inputs.delete, undefined);
    }
    // The install's create text waits on the bootstrap's last steps (its ready output).
    const order = created.map((r) => r.name);
    const lastBootstrap = Math.max(...created.map((r, i) => (r.name.startsWith("obs-swarm-") ? i : -1)));
    assert.ok(installs.every((r) => order.indexOf(r.name) > lastBootstrap), "a publisher installed before the bootstrap finished");
  });

  it("deploys the journal forwarder once, from the first manager, into the system group", () => {
    const j = ofType("command:remote:Command").filter((r) => r.name === "obs-logs-journal");
    assert.strictEqual(j.length, 1);
    assert.match(String(j[0].inputs.create), / swarm-journal '600' 'fluent\/fluent-bit:3\.2' '\/aws-swarm\/prod-eu\/system' 'us-east-1'$/);
  });

  it("sends services without a driver of their own to the services group, one stream per task under the service name", () => {
    const svc = (n: string) => ofType("docker:index/service:Service").find((r) => r.name === `obs-services-${n}`)!;
    assert.deepStrictEqual((svc("web").inputs.taskSpec as Record<string, unknown>).logDriver, {
      name: "awslogs",
      options: { "awslogs-group": "/aws-swarm/prod-eu/services", "awslogs-region": "us-east-1", tag: "web/{{.ID}}", mode: "non-blocking", "max-buffer-size": "4m" },
    });
    assert.deepStrictEqual((svc("own").inputs.taskSpec as Record<string, unknown>).logDriver, { name: "json-file", options: { "max-size": "1m" } });
  });

  it("outputs the topic, the log groups and the dashboard", async () => {
    assert.deepStrictEqual(
      await Promise.all([cluster.alarmTopicArn, cluster.servicesLogGroup, cluster.systemLogGroup, cluster.dashboardName].map((o) => valueOf(o))),
      ["arn:aws:sns:us-east-1:123456789012:obs-alarms-topic", "/aws-swarm/prod-eu/services", "/aws-swarm/prod-eu/system", "prod-eu-swarm"],
    );
  });

  it("names the cluster after project, stack and component when clusterName is unset", async () => {
    created.length = 0;
    const c = new SwarmCluster("dflt", { managerCount: 1, workerCount: 0, sshAllowedCidrs: ["203.0.113.0/24"] });
    assert.strictEqual(await valueOf(c.servicesLogGroup, 20000), "/aws-swarm/aws-swarm-test-dflt/services");
  });
});

describe("log drivers of services and stacks", () => {
  const target = { driver: "awslogs" as const, group: "/g", region: "eu-west-1", endpoint: "" };

  it("keeps json-file logs on the node, rotated", () => {
    assert.deepStrictEqual(serviceLogDriver({ ...target, driver: "json-file" }, "web"), { name: "json-file", options: { "max-size": "10m", "max-file": "3" } });
  });

  it("passes awslogs-endpoint only when one is given", () => {
    assert.strictEqual(serviceLogDriver({ ...target, endpoint: "http://10.0.0.1:5000" }, "web").options["awslogs-endpoint"], "http://10.0.0.1:5000");
    assert.ok(!("awslogs-endpoint" in serviceLogDriver(target, "web").options));
  });

  it("gives compose services without logging the cluster's driver, and keeps a service's own", () => {
    const data = { services: { web: { image: "a" }, own: { image: "b", logging: { driver: "local" } } } };
    const { yaml } = renderCompose("shop", data, { secrets: {}, configs: {} }, (s) => serviceLogDriver(target, s));
    assert.match(yaml, /web:\n\s+image: a\n\s+logging:\n\s+driver: awslogs\n\s+options:\n\s+awslogs-group: \/g\n\s+awslogs-region: eu-west-1\n\s+tag: shop_web\/\{\{\.ID\}\}/);
    assert.match(yaml, /own:\n\s+image: b\n\s+logging:\n\s+driver: local\n/);
    assert.doesNotMatch(renderCompose("shop", data, { secrets: {}, configs: {} }).yaml, /awslogs/);
  });

  it("renders the stack's file with the log target given to ComposeStack", async () => {
    created.length = 0;
    const stack = new ComposeStack("logshop", {
      composeFile: "v3.yml", baseDir: path.join(__dirname, "..", "fixtures", "compose"),
      manager: { host: "10.0.0.10", user: "root", privateKey: pulumi.secret("KEY") },
      secrets: { "db-password": pulumi.secret("x") }, logTarget: target,
    });
    await valueOf(stack.services);
    const cmd = ofType("command:remote:Command").find((r) => r.name === "logshop-deploy")!;
    assert.ok(isWrappedSecret(cmd.inputs.stdin));
    const file = Buffer.from(String(unwrapSecret(cmd.inputs.stdin)).split("\n")[0].split(" ")[1], "base64").toString();
    assert.match(file, /tag: logshop_web\/\{\{\.ID\}\}/);
  });
});

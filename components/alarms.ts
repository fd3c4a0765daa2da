import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { shown, throwIfInvalid } from "./errors";
import { managerCountProblems } from "./quorum";
import { alarmEmailProblems } from "./observability-config";
import {
  AlarmSpec, alarmSpecs, CLUSTER_DIMENSION, downNodesThresholdProblems, METRICS_NAMESPACE, SWARM_METRICS,
} from "./alarm-rules";

/** A cluster's alarms, their topic and its dashboard. */
export interface SwarmAlarmsArgs {
  /** The `Cluster` dimension the managers publish under (see MetricsPublisher). */
  clusterName: string;
  /** Managers in the quorum, 1, 3, 5 or 7: sets the quorum alarm's threshold. */
  managerCount: number;
  /** Down nodes tolerated before the down-nodes alarm fires. @default 0 */
  downNodesThreshold?: number;
  /** Address subscribed to the alarm topic; SNS mails it a confirmation link first. @default none */
  alarmEmail?: string;
  /** Log groups shown on the dashboard, by title. @default {} */
  logGroups?: Record<string, pulumi.Input<string>>;
  /** Tags added to every resource. @default {} */
  tags?: Record<string, string>;
}

/** Problems with SwarmAlarms arguments. */
export function swarmAlarmsProblems(a: SwarmAlarmsArgs): string[] {
  return [
    ...clusterNameProblems(a.clusterName, "clusterName"),
    ...managerCountProblems(a.managerCount, "managerCount"),
    ...downNodesThresholdProblems(a.downNodesThreshold),
    ...alarmEmailProblems(a.alarmEmail),
  ];
}

/** A cluster name is a metric dimension, part of log group and dashboard names, and shell-safe. */
export function clusterNameProblems(value: unknown, setting = "clusterName"): string[] {
  if (typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(value)) return [];
  return [`${setting} is ${shown(value)}; use 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit, e.g. "prod-swarm".`];
}

/** The CloudWatch dashboard of a cluster: the health figures, the alarms, and its log groups. */
export function dashboardBody(
  clusterName: string,
  region: string,
  specs: AlarmSpec[],
  alarmArns: string[],
  logGroups: Record<string, string>,
): string {
  const metric = (m: { name: string; statistic: string }, label: string) =>
    [METRICS_NAMESPACE, m.name, CLUSTER_DIMENSION, clusterName, { stat: m.statistic, label }];
  const threshold = (key: AlarmSpec["key"], label: string) => {
    const s = specs.find((x) => x.key === key)!;
    return { label, value: s.threshold };
  };
  const widget = (x: number, y: number, title: string, metrics: unknown[], annotations: unknown[]) => ({
    type: "metric", x, y, width: 12, height: 6,
    properties: {
      title, region, view: "timeSeries", period: 60, metrics,
      annotations: { horizontal: annotations }, yAxis: { left: { min: 0 } },
    },
  });
  const m = SWARM_METRICS;
  const widgets: unknown[] = [
    { type: "alarm", x: 0, y: 0, width: 24, height: 3, properties: { title: `${clusterName}: alarms`, alarms: alarmArns } },
    widget(0, 3, "Managers", [metric(m.reachableManagers, "Reachable managers"), metric(m.leaderExists, "Leader exists (1/0)")],
      [threshold("quorum-at-risk", "quorum at risk at or below")]),
    widget(12, 3, "Nodes", [metric(m.readyNodes, "Ready nodes"), metric(m.downNodes, "Down nodes")],
      [threshold("down-nodes", "down nodes alarm above")]),
    widget(0, 9, "Certificate", [metric(m.certificateDaysLeft, "Days until a manager's certificate expires")],
      [threshold("certificate-expiring", "alarm below")]),
  ];
  Object.entries(logGroups).forEach(([title, group], i) => {
    widgets.push({
      type: "log", x: i % 2 === 0 ? 0 : 12, y: 15 + 6 * Math.floor(i / 2), width: 12, height: 6,
      properties: {
        title, region, view: "table",
        query: `SOURCE '${group}' | fields @timestamp, @logStream, @message | sort @timestamp desc | limit 50`,
      },
    });
  });
  return JSON.stringify({ widgets });
}

/**
 * The cluster's alarms on its health metrics (namespace Swarm), an SNS topic they notify, an
 * optional e-mail subscription, and a dashboard of the same figures.
 */
export class SwarmAlarms extends pulumi.ComponentResource {
  /** ARN of the SNS topic every alarm (and its recovery) notifies. */
  readonly topicArn: pulumi.Output<string>;
  /** Alarm names by key (quorum-at-risk, no-leader, down-nodes, certificate-expiring, no-metrics). */
  readonly alarmNames: Record<string, pulumi.Output<string>>;
  /** The dashboard's name. */
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: SwarmAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmAlarms", name, {}, opts);
    throwIfInvalid(this, swarmAlarmsProblems(args));
    const parent = this;
    const tags = (n: string) => ({ ...args.tags, Name: n });
    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a
    // key of our own would cost more than the alarms. The messages hold metric values only.
    const topic = new aws.sns.Topic(`${name}-topic`, { tags: tags(`${name}-topic`) }, { parent });
    if (args.alarmEmail !== undefined) {
      new aws.sns.TopicSubscription(`${name}-email`, {
        topic: topic.arn, protocol: "email", endpoint: args.alarmEmail,
      }, { parent });
    }
    const specs = alarmSpecs({ managerCount: args.managerCount, downNodesThreshold: args.downNodesThreshold ?? 0 });
    const alarms = specs.map((s) => new aws.cloudwatch.MetricAlarm(`${name}-${s.key}`, {
      name: `${args.clusterName}-${s.key}`,
      alarmDescription: s.description,
      namespace: METRICS_NAMESPACE,
      metricName: s.metricName,
      dimensions: { [CLUSTER_DIMENSION]: args.clusterName },
      statistic: s.statistic,
      comparisonOperator: s.comparisonOperator,
      threshold: s.threshold,
      period: s.periodSeconds,
      evaluationPeriods: s.evaluationPeriods,
      datapointsToAlarm: s.evaluationPeriods,
      treatMissingData: s.treatMissingData,
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      tags: tags(`${name}-${s.key}`),
    }, { parent }));
    const region = aws.getRegionOutput({}, { parent }).region;
    const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
      dashboardName: `${args.clusterName}-swarm`,
      dashboardBody: pulumi
        .all([region, pulumi.all(alarms.map((a) => a.arn)), pulumi.output(args.logGroups ?? {})])
        .apply(([r, arns, groups]) => dashboardBody(args.clusterName, r, specs, arns, groups)),
    }, { parent });

    this.topicArn = topic.arn;
    this.alarmNames = Object.fromEntries(specs.map((s, i) => [s.key, alarms[i].name]));
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ topicArn: this.topicArn, alarmNames: this.alarmNames, dashboardName: this.dashboardName });
  }
}

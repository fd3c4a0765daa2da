/**
 * What the swarm's health metrics mean and when each alarm fires, as data: the metric names the
 * publisher (components/scripts/metrics.sh) sends, and one spec per CloudWatch alarm. Pure, so
 * the thresholds for every manager count can be checked in a table test.
 */
import { shown } from "./shown";

/** CloudWatch namespace of the metrics every manager publishes. */
export const METRICS_NAMESPACE = "Swarm";
/** The one dimension of every metric: which cluster it describes. */
export const CLUSTER_DIMENSION = "Cluster";
/** Seconds between two runs of the publisher (its systemd timer), and the alarms' period. */
export const PUBLISH_INTERVAL_SECONDS = 60;

/** One metric the publisher sends. */
export interface SwarmMetric {
  /** Its CloudWatch name in the `Swarm` namespace. */
  readonly name: string;
  /** The statistic that combines the managers' views of one period. */
  readonly statistic: "Maximum" | "Minimum";
}

/** The metrics the publisher sends, each with the statistic that combines the managers' views. */
export const SWARM_METRICS: {
  /** Managers that are Reachable or Leader; a manager without a leader counts those answering on 2377. */
  readonly reachableManagers: SwarmMetric;
  /** 1 when the swarm has a leader, else 0. */
  readonly leaderExists: SwarmMetric;
  /** Nodes (managers and workers) whose status is Ready; absent while there is no leader. */
  readonly readyNodes: SwarmMetric;
  /** Nodes whose status is Down; absent while there is no leader. */
  readonly downNodes: SwarmMetric;
  /** Days until the publishing manager's Swarm node certificate expires; the smallest counts. */
  readonly certificateDaysLeft: SwarmMetric;
} = {
  /** Managers that are Reachable or Leader; a manager without a leader counts those answering on 2377. */
  reachableManagers: { name: "ReachableManagers", statistic: "Maximum" },
  /** 1 when the swarm has a leader, else 0. */
  leaderExists: { name: "LeaderExists", statistic: "Maximum" },
  /** Nodes (managers and workers) whose status is Ready; absent while there is no leader. */
  readyNodes: { name: "ReadyNodes", statistic: "Maximum" },
  /** Nodes whose status is Down; absent while there is no leader. */
  downNodes: { name: "DownNodes", statistic: "Maximum" },
  /** Days until the publishing manager's Swarm node certificate expires; the smallest counts. */
  certificateDaysLeft: { name: "CertificateDaysLeft", statistic: "Minimum" },
};

/** Raft's majority of `managers`: the fewest that can still elect a leader and commit. */
export const majorityOf = (managers: number) => Math.floor(managers / 2) + 1;

/**
 * Highest Reachable-manager count at which the quorum is at risk. Below a majority it is already
 * lost; at exactly a majority (with 3 or more managers) one more loss takes the swarm down. A single
 * manager has no margin to lose, so only its own absence (0) counts.
 */
export function quorumAtRiskThreshold(managers: number): number {
  const majority = majorityOf(managers);
  return managers >= 3 ? majority : majority - 1;
}

/** Days of certificate validity below which the certificate alarm fires. */
export const CERTIFICATE_ALARM_DAYS = 7;

/** One CloudWatch metric alarm, as `aws.cloudwatch.MetricAlarm` takes it. */
export interface AlarmSpec {
  /** Stable key: the alarm's resource name is `${name}-${key}`. */
  key: "quorum-at-risk" | "no-leader" | "down-nodes" | "certificate-expiring" | "no-metrics";
  /** The metric in the `Swarm` namespace that the alarm watches (one of {@link SWARM_METRICS}). */
  metricName: string;
  /** How the managers' data points of one period combine. */
  statistic: "Maximum" | "Minimum" | "SampleCount";
  /** How the statistic is compared with the threshold. */
  comparisonOperator: "LessThanOrEqualToThreshold" | "LessThanThreshold" | "GreaterThanThreshold";
  /** The value the statistic is compared with. */
  threshold: number;
  /** Length of one evaluation period, in seconds. */
  periodSeconds: number;
  /** Periods in a row that must breach before the alarm fires. */
  evaluationPeriods: number;
  /** Whether a period without data counts as breaching (only the no-metrics alarm says yes). */
  treatMissingData: "breaching" | "notBreaching";
  /** What it means and what to do; shown in the alarm and in the e-mail. */
  description: string;
}

/** What the alarm thresholds depend on. */
export interface AlarmRulesArgs {
  /** Managers in the quorum: 1, 3, 5 or 7. */
  managerCount: number;
  /** Down nodes tolerated before the down-nodes alarm fires. */
  downNodesThreshold: number;
}

/** Problems with a down-nodes threshold; `setting` is how the caller names it. */
export function downNodesThresholdProblems(value: unknown, setting = "downNodesThreshold"): string[] {
  if (value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 1000)) return [];
  return [`${setting} is ${shown(value)}; use the number of Down nodes to tolerate, a whole number from 0 to 1000.`];
}

/** The alarms of a cluster. Missing data means no manager published: only no-metrics says so. */
export function alarmSpecs(a: AlarmRulesArgs): AlarmSpec[] {
  const n = a.managerCount;
  const risk = quorumAtRiskThreshold(n);
  const p = PUBLISH_INTERVAL_SECONDS;
  const m = SWARM_METRICS;
  return [
    {
      key: "quorum-at-risk", metricName: m.reachableManagers.name, statistic: m.reachableManagers.statistic,
      comparisonOperator: "LessThanOrEqualToThreshold", threshold: risk, periodSeconds: p, evaluationPeriods: 2,
      treatMissingData: "notBreaching",
      description:
        `At most ${risk} of ${n} managers are Reachable (majority ${majorityOf(n)}): ` +
        (n >= 3 ? "one more loss stops the swarm. " : "the only manager is gone. ") +
        "Start or replace the lost managers (pulumi up), one at a time; never force-new-cluster while a majority may return.",
    },
    {
      key: "no-leader", metricName: m.leaderExists.name, statistic: m.leaderExists.statistic,
      comparisonOperator: "LessThanThreshold", threshold: 1, periodSeconds: p, evaluationPeriods: 2,
      treatMissingData: "notBreaching",
      description:
        "No manager sees a Raft leader for 2 minutes: services keep running but nothing can be deployed or rescheduled. " +
        "Bring managers back until a majority is up; if a majority is lost for good, docker swarm init --force-new-cluster on one survivor.",
    },
    {
      key: "down-nodes", metricName: m.downNodes.name, statistic: m.downNodes.statistic,
      comparisonOperator: "GreaterThanThreshold", threshold: a.downNodesThreshold, periodSeconds: p, evaluationPeriods: 5,
      treatMissingData: "notBreaching",
      description:
        `More than ${a.downNodesThreshold} nodes are Down for 5 minutes. docker node ls on a manager; ` +
        "start or replace the instances (pulumi up), or remove nodes that are gone for good (docker node rm).",
    },
    {
      key: "certificate-expiring", metricName: m.certificateDaysLeft.name, statistic: m.certificateDaysLeft.statistic,
      comparisonOperator: "LessThanThreshold", threshold: CERTIFICATE_ALARM_DAYS, periodSeconds: 300, evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      description:
        `A manager's Swarm node certificate expires within ${CERTIFICATE_ALARM_DAYS} days and was not renewed ` +
        "(Swarm renews it on its own while the node reaches the leader). Check the node's clock and its link to the leader; docker swarm ca --rotate renews every certificate.",
    },
    {
      key: "no-metrics", metricName: m.reachableManagers.name, statistic: "SampleCount",
      comparisonOperator: "LessThanThreshold", threshold: 1, periodSeconds: 300, evaluationPeriods: 1,
      treatMissingData: "breaching",
      description:
        "No manager published swarm metrics for 5 minutes: every manager is down, or the publisher fails. " +
        "On a manager: systemctl status aws-swarm-metrics.timer; journalctl -u aws-swarm-metrics.",
    },
  ];
}

/**
 * Whether `spec`'s condition holds for one period's statistic; `undefined` is missing data. This
 * is CloudWatch's comparison, for checking read-back metric data where no alarm is evaluated
 * (moto evaluates none).
 */
export function conditionHolds(spec: AlarmSpec, value: number | undefined): boolean {
  if (value === undefined) return spec.treatMissingData === "breaching";
  switch (spec.comparisonOperator) {
    case "LessThanOrEqualToThreshold": return value <= spec.threshold;
    case "LessThanThreshold": return value < spec.threshold;
    case "GreaterThanThreshold": return value > spec.threshold;
  }
}

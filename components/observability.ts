import * as pulumi from "@pulumi/pulumi";
import type { SwarmHost } from "./bootstrap";
import { ClusterLogs, logGroupNames } from "./logs";
import { MetricsPublisher } from "./metrics";
import { clusterNameProblems, SwarmAlarms } from "./alarms";
import { downNodesThresholdProblems } from "./alarm-rules";
import { alarmEmailProblems, LogsSettings, logsProblems } from "./observability-config";

/** The observability settings of a cluster (SwarmClusterArgs' fields of the same names). */
export interface ClusterObservabilityArgs {
  /** @default `<project>-<stack>-<component name>` */
  clusterName?: string;
  /** @default { driver: "awslogs", retentionDays: 30 } */
  logs?: LogsSettings;
  /** @default none */
  alarmEmail?: string;
  /** @default 0 */
  downNodesThreshold?: number;
}

/** The default CloudWatch name of a cluster: unique per project, stack and component. */
export const defaultClusterName = (name: string) => `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;

/** Problems with a cluster's observability settings, each named by `at` (SwarmCluster's fields by default). */
export function clusterObservabilityProblems(
  a: ClusterObservabilityArgs,
  name: string,
  at: (field: keyof ClusterObservabilityArgs) => string = (field) => field,
): string[] {
  return [
    ...logsProblems(a.logs, at("logs")),
    ...alarmEmailProblems(a.alarmEmail, at("alarmEmail")),
    ...downNodesThresholdProblems(a.downNodesThreshold, at("downNodesThreshold")),
    ...clusterNameProblems(
      a.clusterName ?? defaultClusterName(name),
      a.clusterName === undefined ? `${at("clusterName")} (from the project, stack and component names)` : at("clusterName"),
    ),
  ];
}

/** What {@link clusterObservability} needs from the cluster it watches. */
export interface WatchedCluster {
  managerCount: number;
  managerHosts: SwarmHost[];
  /** Node roles that write logs, by a kebab-case key naming the attachment; managers also publish metrics. */
  roles: { managers: pulumi.Input<string>; workers: pulumi.Input<string>; [key: string]: pulumi.Input<string> };
  /** The bootstrap's ready output: nothing here runs on a node before it resolves. */
  ready: pulumi.Input<unknown>;
  dockerWaitSeconds: number;
  tags: Record<string, string>;
}

/**
 * A cluster's log groups and journal forwarder, the health publisher on its managers, and the
 * alarms and dashboard, as children of `parent` named `${name}-logs`, `-metrics` and `-alarms`.
 * They hang off the bootstrap's ready output only and change nothing of the bootstrap.
 */
export function clusterObservability(name: string, a: ClusterObservabilityArgs, c: WatchedCluster, parent: pulumi.Resource) {
  const clusterName = a.clusterName ?? defaultClusterName(name);
  const logs = new ClusterLogs(`${name}-logs`, {
    clusterName,
    logs: a.logs,
    roles: c.roles,
    journalManager: c.managerHosts[0].connection,
    dependsOn: [c.ready],
    dockerWaitSeconds: c.dockerWaitSeconds,
    tags: c.tags,
  }, { parent });
  const metrics = new MetricsPublisher(`${name}-metrics`, {
    clusterName,
    managers: c.managerHosts,
    roles: { managers: c.roles.managers },
    dependsOn: [c.ready],
  }, { parent });
  const groups = logGroupNames(clusterName);
  const alarms = new SwarmAlarms(`${name}-alarms`, {
    clusterName,
    managerCount: c.managerCount,
    downNodesThreshold: a.downNodesThreshold,
    alarmEmail: a.alarmEmail,
    logGroups: { "Services (latest 50 lines)": groups.services, "Nodes' journal (latest 50 lines)": groups.system },
    tags: c.tags,
  }, { parent });
  return { logs, metrics, alarms };
}

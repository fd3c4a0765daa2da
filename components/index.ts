/** Public API of aws-swarm: the components other Pulumi programs can use. */
export { Network, NetworkArgs } from "./network";
export { ManagerQuorum, ManagerQuorumArgs } from "./managers";
export { WorkerPool, WorkerPoolArgs } from "./workers";
export { Registry, RegistryArgs } from "./registry";
export { SwarmBootstrap, SwarmBootstrapArgs, SwarmHost } from "./bootstrap";
export { SwarmCluster, SwarmClusterArgs, ClusterRegistryArgs, ClusterStackArgs } from "./cluster";
export { ConfigError } from "./errors";
export * as ports from "./ports";
export { Services, ServicesArgs } from "./services";
export { PublishedPorts, PublishedPortsArgs } from "./loadbalancer";
export {
  ServiceDefinition, ServiceSpec, PublishedEndpoint, PublishedPort, UpdatePolicy, PortProtocol,
} from "./services-config";
export { ComposeStack, ComposeStackArgs } from "./compose";
export { StackSpec } from "./compose-config";
export { ClusterLogs, ClusterLogsArgs, LogDriverSpec, ServiceLogTarget } from "./logs";
export { MetricsPublisher, MetricsPublisherArgs } from "./metrics";
export { SwarmAlarms, SwarmAlarmsArgs } from "./alarms";
export { AlarmSpec, alarmSpecs, quorumAtRiskThreshold, METRICS_NAMESPACE, SWARM_METRICS } from "./alarm-rules";
export { LogsSettings, LogDriver } from "./observability-config";
export { ServiceLogging } from "./services-config";
export { WorkerGroup, WorkerGroupArgs, WorkerGroupJoin } from "./worker-group";
export { WorkerGroupSpec } from "./worker-groups-config";
export { WorkerJoin, WorkerJoinArgs } from "./worker-join";
export { SwarmKeeper, SwarmKeeperArgs } from "./keeper";

/** Public API of aws-swarm: the components other Pulumi programs can use. */
export { Network, NetworkArgs, NodePlacement } from "./network";
export { ManagerQuorum, ManagerQuorumArgs } from "./managers";
export { WorkerPool, WorkerPoolArgs } from "./workers";
export { Registry, RegistryArgs } from "./registry";
export { controlConnectionOf, FormerManager, SwarmBootstrap, SwarmBootstrapArgs, SwarmHost } from "./bootstrap";
export { RollingBatch } from "./rolling";
export { SwarmCluster, SwarmClusterArgs, ClusterRegistryArgs, ClusterStackArgs } from "./cluster";
export { ConfigError } from "./errors";
export * as ports from "./ports";
export { Services, ServicesArgs, ServicesSshArgs } from "./services";
export { PublishedPorts, PublishedPortsArgs, LoadBalancerTarget } from "./loadbalancer";
export {
  ServiceDefinition, ServiceSpec, PublishedEndpoint, PublishedPort, UpdatePolicy, PortProtocol,
  ServicePortDefinition, UpdatePolicyDefinition, PublishedPortDefinition, UpdateOrder, FailureAction,
} from "./services-config";
export { ComposeStack, ComposeStackArgs } from "./compose";
export { StackSpec } from "./compose-config";
export { ClusterLogs, ClusterLogsArgs, LogDriverSpec, ServiceLogTarget, serviceLogDriver } from "./logs";
export { MetricsPublisher, MetricsPublisherArgs } from "./metrics";
export { SwarmAlarms, SwarmAlarmsArgs } from "./alarms";
export { AlarmRulesArgs, AlarmSpec, alarmSpecs, quorumAtRiskThreshold, METRICS_NAMESPACE, SWARM_METRICS, SwarmMetric } from "./alarm-rules";
export { LogsSettings, LogDriver } from "./observability-config";
export { ServiceLogging } from "./services-config";
export { WorkerGroup, WorkerGroupArgs, WorkerGroupJoin } from "./worker-group";
export { WorkerGroupSpec } from "./worker-groups-config";
export { WorkerJoin, WorkerJoinArgs } from "./worker-join";
export { SwarmKeeper, SwarmKeeperArgs } from "./keeper";
export { SwarmOperations, SwarmOperationsArgs } from "./operations";
export { SwarmAutolock, SwarmAutolockArgs } from "./autolock";
export { BackupsArgs } from "./operations-config";

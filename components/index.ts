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
export { SwarmOperations, SwarmOperationsArgs } from "./operations";
export { SwarmAutolock, SwarmAutolockArgs } from "./autolock";
export { BackupsArgs } from "./operations-config";

import { loadServiceSecrets, loadStackConfig, loadStackSecrets } from "./config";
import { SwarmCluster } from "./components/cluster";

// Config problems stop the program here, before a single resource is registered.
const config = loadStackConfig();

const cluster = new SwarmCluster("swarm", {
  managerCount: config.managerCount,
  workerCount: config.workerCount,
  managerInstanceType: config.managerInstanceType,
  workerInstanceType: config.workerInstanceType,
  sshAllowedCidrs: config.sshAllowedCidrs,
  vpcCidr: config.vpcCidr,
  azCount: config.azCount,
  nodePlacement: config.nodePlacement,
  sshPublicKey: config.sshPublicKey,
  registry: config.registry,
  services: config.services,
  serviceSecrets: loadServiceSecrets(config.services),
  publishedCidrs: config.publishedCidrs,
  publishedPorts: config.publishedPorts,
  stacks: config.stacks.map((s) => s.spec),
  stackSecrets: loadStackSecrets(config.stacks),
  tokenRotation: config.tokenRotation,
  logs: config.logs,
  alarmEmail: config.alarmEmail,
  workerGroups: config.workerGroups,
  autolock: config.autolock,
  unlockKeyRotation: config.unlockKeyRotation,
  backups: config.backups,
  restoreFrom: config.restoreFrom,
  rollingBatch: config.rollingBatch,
});

export const vpcId = cluster.vpcId;
export const managerPrivateIps = cluster.managerPrivateIps;
export const workerPrivateIps = cluster.workerPrivateIps;
export const managerPublicIps = cluster.managerPublicIps;
export const registryBucket = cluster.registryBucket;
export const managerJoinToken = cluster.managerJoinToken;
export const workerJoinToken = cluster.workerJoinToken;
export const sshPrivateKey = cluster.sshPrivateKey;
export const sshUser = cluster.sshUser;
export const leaderAddress = cluster.leaderAddress;
export const managerAddresses = cluster.managerAddresses;
export const controlAddress = cluster.controlAddress;
export const bastionPublicIp = cluster.bastionPublicIp;
export const loadBalancerDnsName = cluster.loadBalancerDnsName;
export const alarmTopicArn = cluster.alarmTopicArn;
export const servicesLogGroup = cluster.servicesLogGroup;
export const systemLogGroup = cluster.systemLogGroup;
export const dashboardName = cluster.dashboardName;
export const workerGroupNames = Object.fromEntries(Object.entries(cluster.workerGroups).map(([k, g]) => [k, g.groupName]));
export const unlockKey = cluster.unlockKey;

import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as tls from "@pulumi/tls";
import { throwIfInvalid, shown } from "./errors";
import { DEFAULT_NODE_PLACEMENT, Network, networkProblems, NodePlacement } from "./network";
import { ManagerQuorum, managerCountProblems } from "./managers";
import { WorkerPool, workerCountProblems } from "./workers";
import { DEFAULT_REGISTRY_IMAGE, Registry } from "./registry";
import { controlConnectionOf, SwarmBootstrap, SwarmHost, tokenRotationProblems } from "./bootstrap";
import { imageReferenceProblems } from "./image-reference";
import { DEFAULT_INSTANCE_TYPE, instanceTypeProblems } from "./instance-type";
import { ARGS_NAMES, SettingNames, Unchecked } from "./setting-names";
import { sshPublicKeyProblems } from "./ssh-key";
import { NEW_INSTANCE_DOCKER_WAIT_SECONDS, waitSecondsProblems } from "./waits";
import { SWARM_CLUSTER_TAG, SWARM_ROLE_TAG } from "./ports";
import { RollingBatch } from "./rolling";
import { DEFAULT_MANAGER_COUNT, DEFAULT_WORKER_COUNT } from "./quorum";
import { Services } from "./services";
import {
  parsePublishedPorts, parseServices, PublishedPortDefinition, publishedEndpoints, ServiceDefinition, servicesProblems,
} from "./services-config";
import { PublishedPorts, publishedCidrProblems } from "./loadbalancer";
import { ComposeStack, composeStackProblems } from "./compose";
import type { ClusterLogs } from "./logs";
import type { MetricsPublisher } from "./metrics";
import type { SwarmAlarms } from "./alarms";
import type { LogsSettings } from "./observability-config";
import { ClusterObservabilityArgs, clusterObservability, clusterObservabilityProblems } from "./observability";
import { WorkerGroupSpec, workerGroupsProblems } from "./worker-groups-config";
import { WorkerGroup } from "./worker-group";
import { WorkerJoin } from "./worker-join";
import { SwarmKeeper } from "./keeper";
import { SwarmOperations } from "./operations";
import { SwarmAutolock } from "./autolock";
import { BACKUPS_PREFIX, BackupsArgs, backupsRun, operationsProblems, parseBackups } from "./operations-config";

/** Registry settings of a cluster. */
export interface ClusterRegistryArgs {
  /** Run the S3-backed registry. @default true */
  enabled?: boolean;
  /** Registry image. @default "registry:2" */
  image?: pulumi.Input<string>;
  /** Delete stored images with the stack (dev stacks only). @default false */
  forceDestroy?: boolean;
}

/** A compose stack of a cluster (stack config `aws-swarm:stacks`; see docs/compose.md). */
export interface ClusterStackArgs {
  /** Swarm stack name, e.g. "shop". */
  name: string;
  /** Compose file path, relative to the Pulumi project directory. */
  composeFile: string;
  /** Values for `${VAR}` interpolation; not secret. @default {} */
  env?: Record<string, string>;
  /** Let services run privileged, add capabilities, or mount / or the Docker socket. @default false */
  allowPrivileged?: boolean;
}

/** Arguments of {@link SwarmCluster}: sizes, network, SSH, registry, services and stacks. */
export interface SwarmClusterArgs {
  /** Raft managers: 1, 3, 5 or 7. @default 3 */
  managerCount?: number;
  /** Workers: 0..1000. @default 2 */
  workerCount?: number;
  /** EC2 instance type of managers. @default "t3.small" */
  managerInstanceType?: pulumi.Input<string>;
  /** EC2 instance type of workers. @default "t3.small" */
  workerInstanceType?: pulumi.Input<string>;
  /** Networks that may reach SSH (the nodes, or the bastion); never 0.0.0.0/0 or ::/0. */
  sshAllowedCidrs: string[];
  /** VPC block. @default "10.0.0.0/16" */
  vpcCidr?: string;
  /** Availability zones to spread over: 1..6. @default 3 */
  azCount?: number;
  /** `public`: nodes get public IPs; `private`: nodes behind a NAT gateway and a bastion. @default "public" */
  nodePlacement?: string;
  /**
   * OpenSSH public key installed on every node. When set, the bootstrap authenticates through
   * the ssh-agent at `SSH_AUTH_SOCK`; when unset an ED25519 key is generated and its private
   * half is the secret output `sshPrivateKey`. @default a generated key
   */
  sshPublicKey?: pulumi.Input<string>;
  /** Login user of the AMI. @default "ec2-user" (Amazon Linux 2023) */
  sshUser?: string;
  /** S3-backed registry on every node; `false` turns it off. @default { enabled: true } */
  registry?: ClusterRegistryArgs | boolean;
  /** Seconds the bootstrap waits for Docker on a new node (user data installs it). @default 600 */
  dockerWaitSeconds?: number;
  /**
   * Changing this string rotates both Swarm join tokens on the next `up` (see
   * SwarmBootstrapArgs.tokenRotation); joined nodes are unaffected. @default unset: never rotate
   */
  tokenRotation?: string;
  /**
   * Autolock the managers: their Raft data and TLS keys are encrypted with an unlock key kept in
   * Secrets Manager (stack KMS key, readable by the managers' role only); a unit on each manager
   * unlocks it at boot. @default false
   */
  autolock?: boolean;
  /** Changing this string rotates the unlock key on the next `up` (needs autolock). @default unset: never rotate */
  unlockKeyRotation?: string;
  /**
   * Raft backups to the registry bucket under `backups/` (SSE-KMS) by a timer on the managers;
   * off without the registry. @default { enabled: true, schedule: "hourly", retentionDays: 14 }
   */
  backups?: BackupsArgs;
  /**
   * S3 key of a backup (or "backups/" for the newest) that the first manager is restored from
   * before the bootstrap, for a stack whose managers all lost their state (docs/backup-restore.md).
   * @default unset
   */
  restoreFrom?: string;
  /**
   * How many nodes a change that restarts or replaces them reaches at a time (see
   * components/rolling.ts). @default { managers: 1, workers: "25%" }
   */
  rollingBatch?: RollingBatch;
  /** Tags added to every AWS resource. @default {} */
  tags?: Record<string, string>;
  /**
   * Swarm services to deploy once the swarm is ready; `{ name, image }` is enough, the other
   * fields take their defaults. Any published port gets a Network Load Balancer. @default []
   */
  services?: ServiceDefinition[];
  /** Value of every secret the services list, by secret name; kept secret. @default {} */
  serviceSecrets?: Record<string, pulumi.Input<string>>;
  /** Networks that may reach published ports on the nodes directly, besides the load balancer. @default [] */
  publishedCidrs?: string[];
  /**
   * Extra load balancer ports for services deployed outside this stack (`docker stack
   * deploy`); ports the services publish are added for you. @default []
   */
  publishedPorts?: PublishedPortDefinition[];
  /** Encrypt the services' overlay networks (IPsec between nodes). @default true */
  encryptedOverlay?: boolean;
  /**
   * Compose stacks deployed with `docker stack deploy` from a manager that answers (see
   * `controlAddress`) once the swarm is ready; their published ports join the load balancer.
   * @default []
   */
  stacks?: ClusterStackArgs[];
  /** Value of every secret (or secret-valued config) the stacks' files define, by key. @default {} */
  stackSecrets?: Record<string, pulumi.Input<string>>;
  /**
   * Services' default log driver (`awslogs` to the cluster's log group, or `json-file`) and how
   * long both log groups keep logs. @default { driver: "awslogs", retentionDays: 30 }
   */
  logs?: LogsSettings;
  /** E-mail address subscribed to the alarm topic (SNS mails a confirmation link first). @default none */
  alarmEmail?: string;
  /** Down nodes tolerated before the down-nodes alarm fires. @default 0 */
  downNodesThreshold?: number;
  /**
   * The cluster's name in CloudWatch: the metrics' `Cluster` dimension, and part of the log group,
   * alarm and dashboard names, so it must be unique in the account and region.
   * @default `<project>-<stack>-<component name>`, e.g. "aws-swarm-dev-swarm"
   */
  clusterName?: string;
  /**
   * Auto Scaling groups of workers that join by themselves and leave through a lifecycle hook,
   * besides the fixed `workerCount` workers; any group installs the keeper on the managers
   * (README "Worker groups"). `instanceType` defaults to `workerInstanceType`. @default []
   */
  workerGroups?: WorkerGroupSpec[];
}

const stackArgs = (s: ClusterStackArgs, secrets: SwarmClusterArgs["stackSecrets"]) => ({
  stackName: s.name, composeFile: s.composeFile, env: s.env, allowPrivileged: s.allowPrivileged, secrets,
});

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether a registry setting (true, false or an object) leaves the registry on; it is by default. */
export function clusterRegistryEnabled(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  return !(isRecord(value) && value.enabled === false);
}

/**
 * Problems with a cluster's registry setting: true, false, or { enabled, image, forceDestroy }.
 * The image must be a plain reference: it becomes an argument of `docker run` on every node.
 */
export function clusterRegistryProblems(value: unknown, setting = "registry"): string[] {
  if (value === undefined || typeof value === "boolean") return [];
  const fix = `use true, false or { enabled: bool, image: string, forceDestroy: bool }`;
  if (!isRecord(value)) return [`${setting} is ${shown(value)}; ${fix}.`];
  return Object.entries(value).flatMap(([field, v]) => {
    const at = `${setting}.${field}`;
    if (field === "enabled" || field === "forceDestroy") {
      return v === undefined || typeof v === "boolean" ? [] : [`${at} is ${shown(v)}; use true or false.`];
    }
    if (field === "image") return isRecord(v) ? [] : imageReferenceProblems(v, at, DEFAULT_REGISTRY_IMAGE);
    return [`${at} is not a known setting; ${fix}.`];
  });
}

/**
 * Every problem with SwarmCluster arguments, found before any child exists. Stack config is
 * checked by this same function (config.ts passes `names` with the "aws-swarm:" prefix), so a
 * rule and its default live in one place and each message uses the name the user wrote.
 */
export function swarmClusterProblems(a: Unchecked<SwarmClusterArgs>, names: SettingNames = ARGS_NAMES, name = "swarm"): string[] {
  const at = (field: keyof SwarmClusterArgs) => `${names.prefix}${field}`;
  const problems = [
    ...managerCountProblems(a.managerCount ?? DEFAULT_MANAGER_COUNT, at("managerCount")),
    ...workerCountProblems(a.workerCount ?? DEFAULT_WORKER_COUNT, at("workerCount")),
    ...instanceTypeProblems(a.managerInstanceType, at("managerInstanceType")),
    ...instanceTypeProblems(a.workerInstanceType, at("workerInstanceType")),
    // The network's own checks (CIDRs, AZs, placement) run here too, before the key pair exists.
    ...networkProblems(
      { vpcCidr: a.vpcCidr, azCount: a.azCount, nodePlacement: a.nodePlacement as NodePlacement | undefined, sshAllowedCidrs: a.sshAllowedCidrs },
      names,
    ),
    ...sshPublicKeyProblems(a.sshPublicKey, at("sshPublicKey")),
    ...clusterRegistryProblems(a.registry, at("registry")),
    ...waitSecondsProblems(a.dockerWaitSeconds, at("dockerWaitSeconds")),
    ...tokenRotationProblems(a.tokenRotation, at("tokenRotation")),
  ];
  const secrets = (v: unknown) => (isRecord(v) ? Object.keys(v) : []);
  problems.push(
    ...servicesProblems(a.services, {
      key: at("services"),
      availableSecrets: secrets(a.serviceSecrets),
      missingSecretFix: (s) => `add its value to serviceSecrets[${shown(s)}]`,
    }),
    ...publishedCidrProblems(a.publishedCidrs, at("publishedCidrs")),
    ...(a.publishedPorts === undefined ? [] : parsePublishedPorts(a.publishedPorts, at("publishedPorts")).problems),
    ...workerGroupsProblems(a.workerGroups, at("workerGroups")),
    ...operationsProblems({ ...a, registryEnabled: clusterRegistryEnabled(a.registry) }, (s) => at(s as keyof SwarmClusterArgs)),
  );
  if (a.stacks !== undefined && !Array.isArray(a.stacks)) {
    problems.push(`${at("stacks")} is ${shown(a.stacks)}; it must be a list such as [{ name: "app", composeFile: "compose.yaml" }].`);
  }
  const stackSecrets = isRecord(a.stackSecrets) ? (a.stackSecrets as SwarmClusterArgs["stackSecrets"]) : undefined;
  problems.push(...clusterObservabilityProblems(a as ClusterObservabilityArgs, name, at));
  const stackNames = new Set<string>();
  for (const s of (Array.isArray(a.stacks) ? a.stacks : []) as ClusterStackArgs[]) {
    if (stackNames.has(s.name)) problems.push(`${at("stacks")} has two stacks named ${shown(s.name)}; give every stack its own name.`);
    stackNames.add(s.name);
    const manager = { host: "" };
    const fix = (k: string) => `add its value to stackSecrets[${shown(k)}]`;
    problems.push(...composeStackProblems(s.name, { ...stackArgs(s, stackSecrets), manager }, fix).problems);
  }
  return problems;
}

/**
 * A complete Docker Swarm on AWS: network, manager quorum, workers, registry bucket and the
 * bootstrap that turns the instances into one swarm.
 */
export class SwarmCluster extends pulumi.ComponentResource {
  /** ID of the cluster's own VPC. */
  readonly vpcId: pulumi.Output<string>;
  /** Private addresses of the managers, manager-1 first. */
  readonly managerPrivateIps: pulumi.Output<string[]>;
  /** Private addresses of the workers, worker-1 first. */
  readonly workerPrivateIps: pulumi.Output<string[]>;
  /** Public addresses of managers ("" in private placement). */
  readonly managerPublicIps: pulumi.Output<string[]>;
  /** Registry bucket name ("" when the registry is off). */
  readonly registryBucket: pulumi.Output<string>;
  /** Token that joins a manager; secret. */
  readonly managerJoinToken: pulumi.Output<string>;
  /** Token that joins a worker; secret. */
  readonly workerJoinToken: pulumi.Output<string>;
  /** Generated SSH private key (OpenSSH); secret; undefined when `sshPublicKey` was given. */
  readonly sshPrivateKey?: pulumi.Output<string>;
  /** Private address of the first manager, which created the swarm (not necessarily the current leader). */
  readonly leaderAddress: pulumi.Output<string>;
  /** Private addresses of every manager: clients that want any manager pick one of these. */
  readonly managerAddresses: pulumi.Output<string[]>;
  /**
   * Private address of the manager this `up` deployed services and stacks through: the first
   * that answered as a manager (SwarmBootstrap's `controlAddress`), manager-1 when none did.
   */
  readonly controlAddress: pulumi.Output<string>;
  /** Bastion public address in private placement. */
  readonly bastionPublicIp?: pulumi.Output<string>;
  /** DNS name of the load balancer of published ports; undefined when nothing is published. */
  readonly loadBalancerDnsName?: pulumi.Output<string>;
  /** Login user the bootstrap connects as. */
  readonly sshUser: string;
  /** The VPC, subnets and security groups. */
  readonly network: Network;
  /** The manager instances. */
  readonly managers: ManagerQuorum;
  /** The worker instances. */
  readonly workers: WorkerPool;
  /** The S3-backed registry, unless it is disabled. */
  readonly registry?: Registry;
  /** The remote commands that made the instances one swarm. */
  readonly bootstrap: SwarmBootstrap;
  /** The services, when any are configured. */
  readonly services?: Services;
  /** The compose stacks, by stack name. */
  readonly stacks: Record<string, ComposeStack>;
  /** The load balancer of published ports, when any port is published. */
  readonly publishedPorts?: PublishedPorts;
  /** The log groups and the journal forwarder. */
  readonly logs: ClusterLogs;
  /** The health publisher on every manager. */
  readonly metrics: MetricsPublisher;
  /** The alarms, their SNS topic and the dashboard. */
  readonly alarms: SwarmAlarms;
  /** ARN of the SNS topic the alarms notify. */
  readonly alarmTopicArn: pulumi.Output<string>;
  /** Log group of the services' output (awslogs driver). */
  readonly servicesLogGroup: pulumi.Output<string>;
  /** Log group of the nodes' systemd journal. */
  readonly systemLogGroup: pulumi.Output<string>;
  /** Name of the CloudWatch dashboard. */
  readonly dashboardName: pulumi.Output<string>;
  /** The worker groups, by group name. */
  readonly workerGroups: Record<string, WorkerGroup>;
  /** The token parameter and role of the worker groups, when there is any group. */
  readonly workerJoin?: WorkerJoin;
  /** The keeper on the managers, when there is any worker group. */
  readonly keeper?: SwarmKeeper;
  /** The current Swarm unlock key; secret; undefined without autolock. */
  readonly unlockKey?: pulumi.Output<string>;
  /** Autolock and backups on the managers, when either is on (or a restore is asked for). */
  readonly operations?: SwarmOperations;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmCluster", name, {}, opts);
    throwIfInvalid(this, swarmClusterProblems(args, ARGS_NAMES, name));
    // Checked above (networkProblems), so the plain string is one of the two placements.
    const placement = (args.nodePlacement ?? DEFAULT_NODE_PLACEMENT) as NodePlacement;
    const tags = args.tags ?? {};
    const user = (this.sshUser = args.sshUser ?? "ec2-user");

    let privateKey: pulumi.Output<string> | undefined;
    let publicKey: pulumi.Input<string>;
    if (args.sshPublicKey === undefined) {
      const key = new tls.PrivateKey(`${name}-ssh-key`, { algorithm: "ED25519" }, { parent: this });
      privateKey = pulumi.secret(key.privateKeyOpenssh);
      publicKey = key.publicKeyOpenssh;
    } else {
      publicKey = args.sshPublicKey;
    }
    const keyPair = new aws.ec2.KeyPair(`${name}-key`, { publicKey, tags }, { parent: this });
    this.sshPrivateKey = privateKey;

    this.network = new Network(`${name}-network`, {
      vpcCidr: args.vpcCidr,
      azCount: args.azCount,
      nodePlacement: placement,
      sshAllowedCidrs: args.sshAllowedCidrs,
      keyName: keyPair.keyName,
      tags,
    }, { parent: this });

    const group = {
      subnetIds: this.network.nodeSubnetIds,
      availabilityZones: this.network.availabilityZones,
      keyName: keyPair.keyName,
      associatePublicIpAddress: placement === "public",
      clusterName: name,
      tags,
    };
    this.managers = new ManagerQuorum(`${name}-managers`, {
      ...group,
      count: args.managerCount ?? DEFAULT_MANAGER_COUNT,
      instanceType: args.managerInstanceType,
      rollingBatch: args.rollingBatch,
      securityGroupIds: [this.network.nodesSecurityGroupId, this.network.managersSecurityGroupId],
    }, { parent: this });
    this.workers = new WorkerPool(`${name}-workers`, {
      ...group,
      count: args.workerCount ?? DEFAULT_WORKER_COUNT,
      instanceType: args.workerInstanceType,
      rollingBatch: args.rollingBatch,
      securityGroupIds: [this.network.nodesSecurityGroupId],
    }, { parent: this });

    const bastion = this.network.bastionPublicIp;
    // A generated key is used directly; a key of the user's own signs through their ssh-agent,
    // which the provider finds in its own SSH_AUTH_SOCK. The socket path is never an input: it
    // would be stored in state, so a new login would re-run every step and every later delete
    // would dial a dead socket.
    const auth = privateKey ? { privateKey } : {};
    const connect = (publicIp: pulumi.Output<string>, privateIp: pulumi.Output<string>) => ({
      host: placement === "public" ? publicIp : privateIp,
      user,
      ...auth,
      // A new instance answers SSH only after boot. The provider waits 0.1 s x 1.5^n (at most
      // 5 s) between dials and stops after dialErrorLimit + 1 of them: 60 gives about 4.5 min
      // when each dial is refused at once, more when dials time out.
      dialErrorLimit: 60,
      perDialTimeout: 15,
      ...(bastion
        ? { proxy: { host: bastion, user, ...auth, dialErrorLimit: 60 } }
        : {}),
    });
    const hosts = (g: ManagerQuorum | WorkerPool): SwarmHost[] =>
      g.instances.map((_, i) => ({
        name: g.nodeNames[i],
        connection: connect(g.publicIps[i], g.privateIps[i]),
        privateIp: g.privateIps[i],
        labels: { az: g.availabilityZones[i], "instance-type": g.instanceTypes[i] },
      }));
    const managerHosts = hosts(this.managers);
    const workerHosts = hosts(this.workers);
    const dockerWaitSeconds = args.dockerWaitSeconds ?? NEW_INSTANCE_DOCKER_WAIT_SECONDS;
    const registry = typeof args.registry === "boolean" ? { enabled: args.registry } : (args.registry ?? {});
    const registryEnabled = registry.enabled ?? true;
    const backups = backupsRun(args.backups, registryEnabled);
    if (registryEnabled) {
      this.registry = new Registry(`${name}-registry`, {
        roles: { managers: this.managers.role.name, workers: this.workers.role.name },
        forceDestroy: registry.forceDestroy,
        image: registry.image,
        hosts: [...managerHosts, ...workerHosts],
        dockerWaitSeconds,
        // As for the bootstrap below: a removed node's instance is terminated, never dialled.
        removeOnDelete: false,
        retentionRules: backups
          ? [{ id: "raft-backups", prefix: BACKUPS_PREFIX, days: parseBackups(args.backups, "backups").backups.retentionDays }]
          : [],
        tags,
      }, { parent: this });
    }
    if (args.autolock || backups || args.restoreFrom !== undefined) {
      this.operations = new SwarmOperations(`${name}-ops`, {
        managers: managerHosts,
        managerRoleName: this.managers.role.name,
        workerRoleName: this.workers.role.name,
        autolock: args.autolock,
        backups: { ...args.backups, enabled: backups },
        bucket: this.registry ? { name: this.registry.bucketName, arn: this.registry.bucketArn } : undefined,
        restoreFrom: args.restoreFrom,
        dockerWaitSeconds,
        tags,
      }, { parent: this });
    }
    this.bootstrap = new SwarmBootstrap(`${name}-swarm`, {
      managers: managerHosts,
      workers: workerHosts,
      dockerWaitSeconds,
      // A removed or replaced node's instance is terminated right after its steps are deleted,
      // so only the manager-side removal runs: a dead instance can never block an `up`.
      leaveOnDelete: false,
      tokenRotation: args.tokenRotation,
      initDependsOn: this.operations?.restore ? [this.operations.restore] : undefined,
      rollingBatch: args.rollingBatch,
      // Old instances of a replacement still run (the engine deletes them last), and with all
      // managers replaced in one `up` only they know the swarm: find them by their tags.
      formerManagers: aws.ec2.getInstancesOutput({
        instanceTags: { [SWARM_CLUSTER_TAG]: name, [SWARM_ROLE_TAG]: "manager" },
        instanceStateNames: ["running"],
      }, { parent: this }).apply((found) => found.privateIps.map((ip, i) => ({
        privateIp: ip,
        connection: connect(pulumi.output(found.publicIps[i] ?? ""), pulumi.output(ip)),
      }))),
    }, { parent: this });
    const ops = this.operations;
    if (ops?.unlockKeySecretArn) {
      this.unlockKey = new SwarmAutolock(`${name}-autolock`, {
        manager: managerHosts[0],
        secretId: ops.unlockKeySecretArn,
        region: ops.region,
        unlockKeyRotation: args.unlockKeyRotation,
        dockerWaitSeconds,
        swarmReady: this.bootstrap.ready,
        dependsOn: [...ops.installs, ops.access],
      }, { parent: this }).unlockKey;
    }

    this.workerGroups = {};
    const groups = args.workerGroups ?? [];
    // The groups' own role reads the token parameter; it also writes the services' logs.
    this.workerJoin = groups.length === 0 ? undefined : new WorkerJoin(`${name}-join`, {
      workerJoinToken: this.bootstrap.workerJoinToken,
      managerAddresses: this.managers.privateIps,
      tags,
    }, { parent: this });
    ({ logs: this.logs, metrics: this.metrics, alarms: this.alarms } = clusterObservability(name, args, {
      managerCount: args.managerCount ?? DEFAULT_MANAGER_COUNT,
      managerHosts,
      roles: {
        managers: this.managers.role.name,
        workers: this.workers.role.name,
        ...(this.workerJoin ? { "worker-groups": this.workerJoin.role.name } : {}),
      },
      ready: this.bootstrap.ready,
      dockerWaitSeconds,
      tags,
    }, this));
    const logTarget = this.logs.target;
    if (this.workerJoin) {
      const join = this.workerJoin;
      if (this.registry) {
        new aws.iam.RolePolicyAttachment(`${name}-registry-groups-access`,
          { role: join.role.name, policyArn: this.registry.policyArn }, { parent: this });
      }
      for (const g of groups) {
        this.workerGroups[g.name] = new WorkerGroup(`${name}-group-${g.name}`, {
          ...g,
          instanceType: g.instanceType ?? args.workerInstanceType ?? DEFAULT_INSTANCE_TYPE,
          subnetIds: this.network.nodeSubnetIds,
          securityGroupIds: [this.network.nodesSecurityGroupId],
          join: {
            tokenParameterName: join.tokenParameterName,
            managersParameterName: join.managersParameterName,
            instanceProfileName: join.instanceProfile.name,
            roleName: join.role.name,
            region: join.region,
          },
          tokenStep: `${name}-swarm-worker-token`,
          keyName: keyPair.keyName,
          associatePublicIpAddress: placement === "public",
          joinSeconds: dockerWaitSeconds,
          registry: this.registry
            ? { image: this.registry.image, bucket: this.registry.bucketName, region: this.registry.region }
            : undefined,
          clusterName: name,
          tags,
        }, { parent: this });
      }
      const list = Object.values(this.workerGroups);
      this.keeper = new SwarmKeeper(`${name}-keeper`, {
        managers: managerHosts,
        groupNames: list.map((g) => g.groupName),
        groupArns: list.map((g) => g.groupArn),
        region: join.region,
        managerRoleName: this.managers.role.name,
        dependsOn: [this.bootstrap.ready],
      }, { parent: this });
    }

    // DESIGN: services and stacks go through the manager the bootstrap's probe found able to
    // act (components/control.ts), never through manager-1 as such: with manager-1's host dead,
    // every `up` that touches them would fail. That manager may change between `up`s, and the
    // change costs nothing but a reconnect:
    // - Services: the manager's address is the Docker provider's `host`. A changed provider
    //   input is a provider update, not a replacement: the bridged provider's DiffConfig
    //   (pulumi-terraform-bridge, configDiffer) asks for a replacement only for fields marked
    //   ForcesProviderReplace, and pulumi-docker's provider/resources.go gives `host` only a
    //   default. A replaced provider would cascade to every network, secret and service; an
    //   updated one reads and changes them through the new host, and replaces none.
    //   The docker-access step is keyed to the host (a trigger) and re-runs there: idempotent.
    // - Stacks: a changed connection is an update of the deploy step, which re-runs create, an
    //   idempotent `docker stack deploy` of the same file (nothing to change, convergence
    //   checked again); the removal step has no create, so its update runs nothing and only
    //   stores the new connection, which its delete then uses (components/compose.ts).
    const controlIndex = this.bootstrap.controlManagerIndex;
    const controlManager = controlConnectionOf(managerHosts, controlIndex);
    const sshHosts = pulumi.all(placement === "public" ? this.managers.publicIps : this.managers.privateIps);
    const services = parseServices(args.services ?? [], { key: "services" }).services;
    if (services.length > 0) {
      this.services = new Services(`${name}-services`, {
        services,
        secrets: args.serviceSecrets,
        ssh: {
          host: pulumi.all([controlIndex, sshHosts]).apply(([i, ips]) => ips[i]),
          user,
          ...auth,
          ...(bastion ? { jumpHost: bastion } : {}),
        },
        // Images at 127.0.0.1:5000 need each node's registry running.
        dependsOn: [this.bootstrap.ready, ...(this.registry ? [this.registry.ready] : [])],
        encryptedOverlay: args.encryptedOverlay,
        logTarget,
      }, { parent: this });
    }
    this.stacks = {};
    for (const s of args.stacks ?? []) {
      this.stacks[s.name] = new ComposeStack(`${name}-stack-${s.name}`, {
        ...stackArgs(s, args.stackSecrets),
        manager: controlManager,
        dependsOn: [this.bootstrap.ready, ...(this.registry ? [this.registry.ready] : [])],
        dockerWaitSeconds,
        logTarget,
      }, { parent: this });
    }
    const stackEndpoints = Object.values(this.stacks).flatMap((s) => s.endpoints);
    const endpoints = publishedEndpoints(services, [...parsePublishedPorts(args.publishedPorts ?? []).endpoints, ...stackEndpoints]);
    if (endpoints.length > 0) {
      const targets = (g: ManagerQuorum | WorkerPool) =>
        g.instances.map((instance, i) => ({ name: g.nodeNames[i], instanceId: instance.id }));
      this.publishedPorts = new PublishedPorts(`${name}-lb`, {
        endpoints,
        vpcId: this.network.vpcId,
        subnetIds: this.network.publicSubnetIds,
        nodesSecurityGroupId: this.network.nodesSecurityGroupId,
        targets: [...targets(this.managers), ...targets(this.workers)],
        publishedCidrs: args.publishedCidrs,
        tags,
      }, { parent: this });
    }

    this.vpcId = this.network.vpcId;
    this.managerPrivateIps = pulumi.all(this.managers.privateIps);
    this.workerPrivateIps = pulumi.all(this.workers.privateIps);
    this.managerPublicIps = pulumi.all(this.managers.publicIps);
    this.registryBucket = this.registry ? this.registry.bucketName : pulumi.output("");
    this.managerJoinToken = this.bootstrap.managerJoinToken;
    this.workerJoinToken = this.bootstrap.workerJoinToken;
    this.leaderAddress = this.bootstrap.leaderAddress;
    this.managerAddresses = this.bootstrap.managerAddresses;
    this.controlAddress = this.bootstrap.controlAddress;
    this.bastionPublicIp = bastion;
    this.loadBalancerDnsName = this.publishedPorts?.dnsName;
    this.alarmTopicArn = this.alarms.topicArn;
    this.servicesLogGroup = this.logs.servicesLogGroup;
    this.systemLogGroup = this.logs.systemLogGroup;
    this.dashboardName = this.alarms.dashboardName;
    this.registerOutputs({
      vpcId: this.vpcId,
      managerPrivateIps: this.managerPrivateIps,
      workerPrivateIps: this.workerPrivateIps,
      managerPublicIps: this.managerPublicIps,
      registryBucket: this.registryBucket,
      managerJoinToken: this.managerJoinToken,
      workerJoinToken: this.workerJoinToken,
      sshPrivateKey: this.sshPrivateKey,
      leaderAddress: this.leaderAddress,
      managerAddresses: this.managerAddresses,
      controlAddress: this.controlAddress,
      bastionPublicIp: this.bastionPublicIp,
      loadBalancerDnsName: this.loadBalancerDnsName,
      alarmTopicArn: this.alarmTopicArn,
      servicesLogGroup: this.servicesLogGroup,
      systemLogGroup: this.systemLogGroup,
      dashboardName: this.dashboardName,
      unlockKey: this.unlockKey,
    });
  }
}

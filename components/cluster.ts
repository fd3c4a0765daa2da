import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as tls from "@pulumi/tls";
import { throwIfInvalid, shown } from "./errors";
import { Network, networkProblems } from "./network";
import { ManagerQuorum, managerCountProblems } from "./managers";
import { WorkerPool, workerCountProblems } from "./workers";
import { Registry } from "./registry";
import { SwarmBootstrap, SwarmHost } from "./bootstrap";
import { SWARM_CLUSTER_TAG, SWARM_ROLE_TAG } from "./ports";
import { RollingBatch } from "./rolling";
import { DEFAULT_MANAGER_COUNT, DEFAULT_WORKER_COUNT } from "./quorum";
import { Services } from "./services";
import {
  parsePublishedPorts, parseServices, PublishedEndpoint, publishedEndpoints, ServiceDefinition, servicesProblems,
} from "./services-config";
import { PublishedPorts, publishedCidrProblems } from "./loadbalancer";
import { ComposeStack, composeStackProblems } from "./compose";

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
  nodePlacement?: "public" | "private";
  /**
   * OpenSSH public key installed on every node. When set, the bootstrap authenticates through
   * the ssh-agent at `SSH_AUTH_SOCK`; when unset an ED25519 key is generated and its private
   * half is the secret output `sshPrivateKey`. @default a generated key
   */
  sshPublicKey?: pulumi.Input<string>;
  /** Login user of the AMI. @default "ec2-user" (Amazon Linux 2023) */
  sshUser?: string;
  /** S3-backed registry on every node. @default { enabled: true } */
  registry?: ClusterRegistryArgs;
  /** Seconds the bootstrap waits for Docker on a new node (user data installs it). @default 600 */
  dockerWaitSeconds?: number;
  /**
   * Changing this string rotates both Swarm join tokens on the next `up` (see
   * SwarmBootstrapArgs.tokenRotation); joined nodes are unaffected. @default unset: never rotate
   */
  tokenRotation?: string;
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
  publishedPorts?: PublishedEndpoint[];
  /** Encrypt the services' overlay networks (IPsec between nodes). @default true */
  encryptedOverlay?: boolean;
  /**
   * Compose stacks deployed with `docker stack deploy` from the first manager once the swarm is
   * ready; their published ports join the load balancer. @default []
   */
  stacks?: ClusterStackArgs[];
  /** Value of every secret (or secret-valued config) the stacks' files define, by key. @default {} */
  stackSecrets?: Record<string, pulumi.Input<string>>;
}

const stackArgs = (s: ClusterStackArgs, secrets: SwarmClusterArgs["stackSecrets"]) => ({
  stackName: s.name, composeFile: s.composeFile, env: s.env, allowPrivileged: s.allowPrivileged, secrets,
});

/** Problems with SwarmCluster arguments that the child components would otherwise find later. */
export function swarmClusterProblems(a: SwarmClusterArgs): string[] {
  const problems = [
    ...managerCountProblems(a.managerCount ?? DEFAULT_MANAGER_COUNT, "managerCount"),
    ...workerCountProblems(a.workerCount ?? DEFAULT_WORKER_COUNT, "workerCount"),
    // The network's own checks (CIDRs, AZs, placement) run here too, before the key pair exists.
    ...networkProblems({
      vpcCidr: a.vpcCidr, azCount: a.azCount, nodePlacement: a.nodePlacement, sshAllowedCidrs: a.sshAllowedCidrs,
    }),
  ];
  problems.push(
    ...servicesProblems(a.services, {
      key: "services",
      availableSecrets: Object.keys(a.serviceSecrets ?? {}),
      missingSecretFix: (s) => `add its value to serviceSecrets[${shown(s)}]`,
    }),
    ...publishedCidrProblems(a.publishedCidrs),
    ...(a.publishedPorts === undefined ? [] : parsePublishedPorts(a.publishedPorts).problems),
  );
  const names = new Set<string>();
  for (const s of a.stacks ?? []) {
    if (names.has(s.name)) problems.push(`stacks has two stacks named ${shown(s.name)}; give every stack its own name.`);
    names.add(s.name);
    const manager = { host: "" };
    const fix = (k: string) => `add its value to stackSecrets[${shown(k)}]`;
    problems.push(...composeStackProblems(s.name, { ...stackArgs(s, a.stackSecrets), manager }, fix).problems);
  }
  return problems;
}

/**
 * A complete Docker Swarm on AWS: network, manager quorum, workers, registry bucket and the
 * bootstrap that turns the instances into one swarm.
 */
export class SwarmCluster extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly managerPrivateIps: pulumi.Output<string[]>;
  readonly workerPrivateIps: pulumi.Output<string[]>;
  /** Public addresses of managers ("" in private placement). */
  readonly managerPublicIps: pulumi.Output<string[]>;
  /** Registry bucket name ("" when the registry is off). */
  readonly registryBucket: pulumi.Output<string>;
  readonly managerJoinToken: pulumi.Output<string>;
  readonly workerJoinToken: pulumi.Output<string>;
  /** Generated SSH private key (OpenSSH); secret; undefined when `sshPublicKey` was given. */
  readonly sshPrivateKey?: pulumi.Output<string>;
  /** Address of the first manager, which created the swarm (see SwarmBootstrap.leaderAddress). */
  readonly leaderAddress: pulumi.Output<string>;
  /** Private addresses of every manager: clients that want any manager pick one of these. */
  readonly managerAddresses: pulumi.Output<string[]>;
  /** Bastion public address in private placement. */
  readonly bastionPublicIp?: pulumi.Output<string>;
  /** DNS name of the load balancer of published ports; undefined when nothing is published. */
  readonly loadBalancerDnsName?: pulumi.Output<string>;
  readonly sshUser: string;
  readonly network: Network;
  readonly managers: ManagerQuorum;
  readonly workers: WorkerPool;
  readonly registry?: Registry;
  readonly bootstrap: SwarmBootstrap;
  /** The services, when any are configured. */
  readonly services?: Services;
  /** The compose stacks, by stack name. */
  readonly stacks: Record<string, ComposeStack>;
  /** The load balancer of published ports, when any port is published. */
  readonly publishedPorts?: PublishedPorts;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmCluster", name, {}, opts);
    throwIfInvalid(this, swarmClusterProblems(args));
    const placement = args.nodePlacement ?? "public";
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
    const dockerWaitSeconds = args.dockerWaitSeconds ?? 600;
    const registry = args.registry ?? {};
    if (registry.enabled ?? true) {
      this.registry = new Registry(`${name}-registry`, {
        roles: { managers: this.managers.role.name, workers: this.workers.role.name },
        forceDestroy: registry.forceDestroy,
        image: registry.image,
        hosts: [...managerHosts, ...workerHosts],
        dockerWaitSeconds,
        // As for the bootstrap below: a removed node's instance is terminated, never dialled.
        removeOnDelete: false,
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

    const services = parseServices(args.services ?? [], { key: "services" }).services;
    if (services.length > 0) {
      this.services = new Services(`${name}-services`, {
        services,
        secrets: args.serviceSecrets,
        ssh: {
          host: placement === "public" ? this.managers.publicIps[0] : this.managers.privateIps[0],
          user,
          ...auth,
          ...(bastion ? { jumpHost: bastion } : {}),
        },
        // Images at 127.0.0.1:5000 need each node's registry running.
        dependsOn: [this.bootstrap.ready, ...(this.registry ? [this.registry.ready] : [])],
        encryptedOverlay: args.encryptedOverlay,
      }, { parent: this });
    }
    this.stacks = {};
    for (const s of args.stacks ?? []) {
      this.stacks[s.name] = new ComposeStack(`${name}-stack-${s.name}`, {
        ...stackArgs(s, args.stackSecrets),
        manager: managerHosts[0].connection,
        dependsOn: [this.bootstrap.ready, ...(this.registry ? [this.registry.ready] : [])],
        dockerWaitSeconds,
      }, { parent: this });
    }
    const stackEndpoints = Object.values(this.stacks).flatMap((s) => s.endpoints);
    const endpoints = publishedEndpoints(services, [...(args.publishedPorts ?? []), ...stackEndpoints]);
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
    this.bastionPublicIp = bastion;
    this.loadBalancerDnsName = this.publishedPorts?.dnsName;
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
      bastionPublicIp: this.bastionPublicIp,
      loadBalancerDnsName: this.loadBalancerDnsName,
    });
  }
}

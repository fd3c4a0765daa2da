import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { shown, throwIfInvalid } from "./errors";
import { shellQuote } from "./scripts";
import { LogDriverSpec, ServiceLogTarget, serviceLogDriver } from "./logs";
import { networkNames, parseServices, secretNames, ServiceDefinition, ServiceSpec, servicesProblems } from "./services-config";

/** How the Docker provider reaches a manager of the swarm over SSH. */
export interface ServicesSshArgs {
  /** Address of a manager, normally the first one (it created the swarm). */
  host: pulumi.Input<string>;
  /** Login user: root, or a user with password-less sudo (it joins the `docker` group). @default "root" */
  user?: pulumi.Input<string>;
  /** SSH port of the manager and of the jump host. @default 22 */
  port?: number;
  /**
   * OpenSSH private key; secret. The system `ssh` that the Docker provider runs reads keys from
   * files only, so it is written to a 0600 file under `keyDirectory`; state holds only the path.
   * @default none: the ssh-agent at `agentSocketPath` signs instead
   */
  privateKey?: pulumi.Input<string>;
  /**
   * ssh-agent socket used when there is no `privateKey`. Leave it unset: the command provider and
   * `ssh` then read their own `SSH_AUTH_SOCK`. A path set here is stored in state, so the next
   * login's new socket re-runs the access step and deletes dial the old one.
   * @default the running process's `SSH_AUTH_SOCK`, read by the provider and ssh themselves
   */
  agentSocketPath?: string;
  /** Jump host (the bastion of private placement), reached with the same user and key. @default none */
  jumpHost?: pulumi.Input<string>;
}

/** Arguments of {@link Services}: the service definitions and where to reach a manager. */
export interface ServicesArgs {
  /** The services; defaults are resolved inside. Resource names derive from service names. */
  services: ServiceDefinition[];
  /** Value of every secret a service lists, by name; kept secret end to end. @default {} */
  secrets?: Record<string, pulumi.Input<string>>;
  /** How to reach the swarm's Docker API. */
  ssh: ServicesSshArgs;
  /** Outputs that must resolve before Docker is used, e.g. `[bootstrap.ready]`. @default [] */
  dependsOn?: pulumi.Input<unknown>[];
  /**
   * Encrypt the overlay networks (IPsec ESP between nodes, which the nodes security group
   * allows). Costs some CPU per packet. @default true
   */
  encryptedOverlay?: boolean;
  /** Where the private key file is written. @default $AWS_SWARM_KEY_DIR, else ~/.aws-swarm/keys */
  keyDirectory?: string;
  /**
   * Where services that set no `logging` send their logs (ClusterLogs' `target`). @default none:
   * Docker's default driver
   */
  logTarget?: pulumi.Input<ServiceLogTarget>;
}

/** Docker secret names are at most 64 characters, and Pulumi appends an 8-character suffix. */
const MAX_DOCKER_SECRET_NAME = 64 - 8;

/** Problems with Services arguments, each naming the setting, the value and the fix. */
export function servicesArgsProblems(name: string, args: ServicesArgs): string[] {
  const problems = servicesProblems(args.services, {
    key: "services",
    availableSecrets: Object.keys(args.secrets ?? {}),
    missingSecretFix: (s) => `pass its value as secrets[${shown(s)}]`,
  });
  if (Array.isArray(args.services) && args.services.length === 0) {
    problems.push(`services is []; list at least one service, or do not create Services.`);
  }
  // Only well-formed services have secret lists to measure.
  for (const s of problems.length === 0 ? secretNames(parseServices(args.services).services) : []) {
    const resource = `${name}-secret-${s}`;
    if (resource.length > MAX_DOCKER_SECRET_NAME) {
      problems.push(
        `secret ${shown(s)} makes the Docker secret name ${shown(resource)} longer than ` +
          `${MAX_DOCKER_SECRET_NAME} characters; use a shorter secret or component name.`,
      );
    }
  }
  const dir = args.keyDirectory;
  if (dir !== undefined && !path.isAbsolute(dir)) {
    problems.push(`keyDirectory is ${shown(dir)}; use an absolute path such as "/home/me/.aws-swarm/keys".`);
  }
  return problems;
}

/** Where a component's private key file lives: one file per project, stack and component. */
export function keyFilePath(directory: string, name: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, "-");
  return path.join(directory, `${safe(pulumi.getProject())}-${safe(pulumi.getStack())}-${safe(name)}.key`);
}

/** Writes an OpenSSH private key readable by the current user only. */
export function writePrivateKey(file: string, key: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
  // writeFileSync keeps the mode of a file that already exists.
  fs.chmodSync(file, 0o600);
}

/** How ssh authenticates: a key file, or an agent socket, or ssh's own defaults. */
export interface SshIdentity {
  keyFile?: string;
  agentSocketPath?: string;
}

/**
 * The `ssh` options the Docker provider appends for `ssh://` hosts. Host keys are not checked,
 * the same trust @pulumi/command gives the bootstrap: instances are new, and a replaced one
 * often reuses an address. A jump host goes through ProxyCommand, because `ssh -J` ignores
 * command-line identity options for the jump.
 */
export function dockerSshOptions(
  identity: SshIdentity,
  jump?: { host: string; user: string; port: number },
): string[] {
  const common = [
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=30",
    "-o", "ServerAliveInterval=30",
  ];
  const auth = identity.keyFile
    ? ["-i", identity.keyFile, "-o", "IdentitiesOnly=yes"]
    : identity.agentSocketPath
      ? ["-o", `IdentityAgent=${identity.agentSocketPath}`]
      : [];
  if (!jump) return [...common, ...auth];
  // ssh runs ProxyCommand through a shell, so every word is quoted.
  const hop = ["ssh", ...common, ...auth, "-p", String(jump.port), "-W", "%h:%p", `${jump.user}@${jump.host}`];
  return [...common, ...auth, "-o", `ProxyCommand=${hop.map(shellQuote).join(" ")}`];
}

/**
 * Lets the SSH user talk to the Docker socket: `docker system dial-stdio`, which the provider
 * runs over SSH, needs it, and the user already has root through sudo. Idempotent.
 */
export const DOCKER_ACCESS_SCRIPT = [
  "set -eu",
  'if [ "$(id -u)" -eq 0 ]; then echo "root already reaches the Docker socket"; exit 0; fi',
  'u=$(id -un)',
  'if id -nG "$u" | tr " " "\\n" | grep -qx docker; then echo "$u is in the docker group"; exit 0; fi',
  'sudo -n usermod -aG docker "$u"',
  'echo "added $u to the docker group"',
].join("\n");

/**
 * Swarm services deployed through @pulumi/docker on a manager reached over SSH: one overlay
 * network per network name, one Docker secret per secret, one service per entry. Nothing
 * talks to Docker before every output in `dependsOn` resolved.
 */
export class Services extends pulumi.ComponentResource {
  /** The Docker provider bound to the manager. */
  readonly provider: docker.Provider;
  /** Service IDs by service name. */
  readonly serviceIds: Record<string, pulumi.Output<string>>;
  /** Overlay network IDs by network name. */
  readonly networkIds: Record<string, pulumi.Output<string>>;
  /** Docker secret names by secret name (the Docker names carry a random suffix). */
  readonly secretNames: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: ServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:Services", name, {}, opts);
    throwIfInvalid(this, servicesArgsProblems(name, args));
    // Validated above, so every definition resolves; defaults are applied here, once.
    const services = parseServices(args.services, { key: "services" }).services;
    const parent = this;
    const ssh = args.ssh;
    const user = pulumi.output(ssh.user ?? "root");
    const port = ssh.port ?? 22;
    const encrypted = args.encryptedOverlay ?? true;
    const privateKey = ssh.privateKey === undefined ? undefined : pulumi.secret(ssh.privateKey);
    const agentSocketPath = privateKey ? undefined : ssh.agentSocketPath;
    const auth = privateKey ? { privateKey } : agentSocketPath ? { agentSocketPath } : {};

    const access = new command.remote.Command(`${name}-docker-access`, {
      connection: {
        host: ssh.host,
        user,
        port,
        ...auth,
        ...(ssh.jumpHost === undefined ? {} : { proxy: { host: ssh.jumpHost, user, port, ...auth } }),
        dialErrorLimit: 20,
        perDialTimeout: 15,
      },
      create: pulumi.all(args.dependsOn ?? []).apply(() => DOCKER_ACCESS_SCRIPT),
      addPreviousOutputInEnv: false,
      triggers: [ssh.host],
    }, { parent });

    const directory =
      args.keyDirectory ?? process.env.AWS_SWARM_KEY_DIR ?? path.join(os.homedir(), ".aws-swarm", "keys");
    const keyFile = privateKey?.apply((key) => {
      const file = keyFilePath(directory, name);
      writePrivateKey(file, key);
      return file;
    });
    const jump = ssh.jumpHost === undefined ? undefined : pulumi.all([ssh.jumpHost, user]);
    const sshOpts = pulumi.all([keyFile, jump]).apply(([file, hop]) =>
      dockerSshOptions(
        { keyFile: file, agentSocketPath },
        hop === undefined ? undefined : { host: hop[0], user: hop[1], port },
      ),
    );
    // The address waits for the access step, which waits for `dependsOn`: the provider is
    // configured only once the swarm exists and the user may use Docker.
    const host = pulumi
      .all([user, ssh.host, access.stdout])
      .apply(([u, h]) => `ssh://${u}@${h}:${port}`);
    this.provider = new docker.Provider(`${name}-docker`, { host, sshOpts }, { parent });
    const provider = this.provider;

    const networks: Record<string, docker.Network> = {};
    for (const net of networkNames(services)) {
      networks[net] = new docker.Network(`${name}-net-${net}`, {
        name: net,
        driver: "overlay",
        attachable: true,
        options: encrypted ? { encrypted: "true" } : {},
        // Docker adds its own options (the VXLAN ID), which would otherwise show as a change
        // and replace the network on every update; this label carries the one option we own.
        labels: [{ label: "aws-swarm.encrypted", value: String(encrypted) }],
      }, { parent, provider, deleteBeforeReplace: true, ignoreChanges: ["options"] });
    }

    const values = args.secrets ?? {};
    const secrets: Record<string, docker.Secret> = {};
    for (const s of secretNames(services)) {
      // No `name`: Pulumi names it with a random suffix, so a changed value creates the new
      // secret beside the old one, which Swarm cannot update in place or delete while in use.
      secrets[s] = new docker.Secret(`${name}-secret-${s}`, {
        data: pulumi.secret(pulumi.output(values[s]).apply((v) => Buffer.from(v, "utf8").toString("base64"))),
        labels: [{ label: "aws-swarm.secret", value: s }],
      }, { parent, provider });
    }

    this.serviceIds = {};
    for (const spec of services) {
      const logDriver = spec.logging
        ? pulumi.output<LogDriverSpec>({ name: spec.logging.driver, options: spec.logging.options ?? {} })
        : args.logTarget === undefined ? undefined : pulumi.output(args.logTarget).apply((t) => serviceLogDriver(t, spec.name));
      const service = new docker.Service(`${name}-${spec.name}`, serviceArgs(spec, networks, secrets, logDriver), {
        parent,
        provider,
        // The name is fixed (it is the service's DNS name) and Swarm cannot change a service's
        // mode, so a replacement must remove the old service first.
        deleteBeforeReplace: true,
      });
      this.serviceIds[spec.name] = service.id;
    }
    this.networkIds = Object.fromEntries(Object.entries(networks).map(([k, n]) => [k, n.id]));
    this.secretNames = Object.fromEntries(Object.entries(secrets).map(([k, s]) => [k, s.name]));
    this.registerOutputs({
      provider: this.provider,
      serviceIds: this.serviceIds,
      networkIds: this.networkIds,
      secretNames: this.secretNames,
    });
  }
}

/** The docker.Service inputs of one validated service. */
export function serviceArgs(
  spec: ServiceSpec,
  networks: Record<string, docker.Network>,
  secrets: Record<string, docker.Secret>,
  logDriver?: pulumi.Input<LogDriverSpec>,
): docker.ServiceArgs {
  const rollout = {
    parallelism: spec.update.parallelism,
    order: spec.update.order,
    ...(spec.update.delay === undefined ? {} : { delay: spec.update.delay }),
  };
  const replicas = spec.replicas ?? 0;
  return {
    name: spec.name,
    // Read by the bootstrap's rebalance step (components/scripts/rebalance.sh).
    labels: [{ label: "aws-swarm.rebalance", value: String(spec.rebalance) }],
    mode: spec.global ? { global: true } : { replicated: { replicas } },
    taskSpec: {
      containerSpec: {
        image: spec.image,
        ...(Object.keys(spec.env).length > 0 ? { env: spec.env } : {}),
        // Mounted at /run/secrets/<name>.
        secrets: spec.secrets.map((s) => ({
          secretId: secrets[s].id,
          secretName: secrets[s].name,
          fileName: s,
        })),
      },
      networksAdvanceds: spec.networks.map((n) => ({ id: networks[n].id })),
      placement: { constraints: spec.constraints, prefs: spec.placementPreferences },
      ...(logDriver === undefined ? {} : { logDriver }),
    },
    endpointSpec: {
      mode: "vip",
      ports: spec.ports.map((p) => ({
        protocol: p.protocol,
        publishMode: "ingress",
        publishedPort: p.published,
        targetPort: p.target,
      })),
    },
    updateConfig: { ...rollout, failureAction: spec.update.failureAction },
    // A rollback itself can only pause or continue when it fails.
    rollbackConfig: { ...rollout, failureAction: "pause" },
    // `pulumi up` fails when tasks do not start (a bad image, no node fits) instead of
    // reporting success; the provider's converge check only understands replicated services.
    ...(spec.global || replicas === 0 ? {} : { convergeConfig: { delay: "7s", timeout: "5m" } }),
  };
}

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { throwIfInvalid } from "./errors";
import { managerCountProblems } from "./quorum";
import { waitSecondsProblems } from "./waits";
import { hostNamesProblems } from "./host-names";
import { installedStepCommand, renderInstallCommand, Step } from "./scripts";

/** Anything reachable over SSH that runs Docker: an EC2 instance, a VM, a lab host. */
export interface SwarmHost {
  /** Stable logical name, e.g. "manager-1"; resource names derive from it, so never change it. */
  name: string;
  /** How to reach the host over SSH. The user must be root or have password-less sudo. */
  connection: command.types.input.remote.ConnectionArgs;
  /** The address Swarm advertises and joins on. Changing it means a new host: it rejoins. */
  privateIp: pulumi.Input<string>;
  /** Node labels for placement, e.g. `{ az: "us-east-1a" }`; `role` is always added. */
  labels?: Record<string, pulumi.Input<string>>;
}

/** Arguments of {@link SwarmBootstrap}: the hosts and how the steps behave. */
export interface SwarmBootstrapArgs {
  /** Managers, first one initialises the swarm; 1, 3, 5 or 7 hosts. */
  managers: SwarmHost[];
  /** Workers, joined in parallel. @default [] */
  workers?: SwarmHost[];
  /** Seconds each step waits for the Docker daemon to answer. @default 300 */
  dockerWaitSeconds?: number;
  /** Seconds a removed node's tasks get to move before it is removed anyway. @default 120 */
  drainSeconds?: number;
  /**
   * Join every node one after the other, managers first, instead of workers in parallel.
   * Slower; for bastions or networks that cannot take many SSH sessions at once. @default false
   */
  serialJoins?: boolean;
  /**
   * When a node is removed, also run `docker swarm leave` on the host itself, after a manager
   * drained and removed it. Needed for hosts that live on (a removed node's daemon still thinks
   * it is in the swarm). Set it to false when removed hosts are destroyed anyway, as cloud
   * instances are: no delete then dials the host, so a host that died cannot fail or stall
   * `pulumi up` and `pulumi destroy` (the provider retries a dead address for minutes, then
   * fails, and every later `up` retries the failed delete). @default true
   */
  leaveOnDelete?: boolean;
  /**
   * Any single-line string; changing it rotates both join tokens (`docker swarm join-token
   * --rotate`) on the next `up`, and every join step then holds the new token. Nodes already in
   * the swarm are unaffected; the old tokens join nothing any more. Rotate after a token may
   * have leaked, and after removing nodes. @default unset: never rotate
   */
  tokenRotation?: string;
  /** Resources the first manager's init waits for, e.g. a restore from a backup. @default [] */
  initDependsOn?: pulumi.Resource[];
}

/** A rotation marker is one line of printable ASCII; it is a plain argument of the token step. */
export function tokenRotationProblems(value: unknown, setting: string): string[] {
  if (value === undefined || (typeof value === "string" && /^[\x20-\x7e]{1,128}$/.test(value))) return [];
  return [`${setting} is ${JSON.stringify(value)}; use 1 to 128 printable ASCII characters on one line, e.g. a date such as "2026-12-01".`];
}

/** Problems with SwarmBootstrap arguments, each naming the setting, the value and the fix. */
export function swarmBootstrapProblems(args: SwarmBootstrapArgs): string[] {
  const problems = managerCountProblems(args.managers?.length, "managers.length");
  const names = [...(args.managers ?? []), ...(args.workers ?? [])].map((h) => h.name);
  problems.push(...hostNamesProblems(names, "managers and workers"));
  problems.push(...tokenRotationProblems(args.tokenRotation, "tokenRotation"));
  problems.push(...waitSecondsProblems(args.dockerWaitSeconds, "dockerWaitSeconds"));
  problems.push(...waitSecondsProblems(args.drainSeconds, "drainSeconds"));
  return problems;
}

/**
 * Builds a Docker Swarm on existing hosts with remote commands: init on the first manager,
 * join tokens read as secrets, managers joined one at a time, workers in parallel, and delete
 * hooks that drain, demote and remove a node before it leaves. Nothing here assumes EC2.
 */
export class SwarmBootstrap extends pulumi.ComponentResource {
  /** Token that joins a manager; secret. */
  readonly managerJoinToken: pulumi.Output<string>;
  /** Token that joins a worker; secret. */
  readonly workerJoinToken: pulumi.Output<string>;
  /** Address of the first manager, which created the swarm. */
  readonly leaderAddress: pulumi.Output<string>;
  /** Swarm node IDs of the managers, in the order given. */
  readonly managerNodeIds: pulumi.Output<string>[];
  /** Swarm node IDs of the workers, in the order given. */
  readonly workerNodeIds: pulumi.Output<string>[];
  /** Resolves once every node has joined and been labelled; depend on it to use the swarm. */
  readonly ready: pulumi.Output<string[]>;

  constructor(name: string, args: SwarmBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmBootstrap", name, {}, opts);
    throwIfInvalid(this, swarmBootstrapProblems(args));
    const wait = args.dockerWaitSeconds ?? 300;
    const drain = args.drainSeconds ?? 120;
    const [first, ...others] = args.managers;
    const workers = args.workers ?? [];
    const managerIps = args.managers.map((m) => m.privateIp);

    // Every command of a host is replaced when the host's address changes (a new instance), so
    // the old node is removed by its delete hooks instead of lingering as Down.
    const remoteCommand = (
      resource: string,
      host: SwarmHost,
      create: pulumi.Input<string> | undefined,
      extra: Partial<command.remote.CommandArgs>,
      options: pulumi.CustomResourceOptions,
    ) =>
      new command.remote.Command(
        `${name}-${resource}`,
        {
          connection: host.connection,
          create,
          triggers: [host.privateIp],
          // The provider would pass the previous stdout through SSH SetEnv, which a stock sshd
          // refuses; and for token commands that stdout is a secret.
          addPreviousOutputInEnv: false,
          ...extra,
        },
        { parent: this, ...options },
      );
    // Each host first gets its copy of the step scripts, so that every later command text is a
    // line long and a failure shows the step's own message right after it. No delete: other
    // steps' delete hooks use the copy until the very end.
    const installs = new Map<string, command.remote.Command>();
    const installed = (host: SwarmHost) => {
      let install = installs.get(host.name);
      if (!install) {
        install = remoteCommand(`${host.name}-steps`, host, renderInstallCommand(), {}, {});
        installs.set(host.name, install);
      }
      return install;
    };
    const step = (
      resource: string,
      host: SwarmHost,
      create: pulumi.Input<string> | undefined,
      extra: Partial<command.remote.CommandArgs>,
      options: { dependsOn?: pulumi.Resource[]; additionalSecretOutputs?: string[] } = {},
    ) => remoteCommand(resource, host, create, extra, { ...options, dependsOn: [installed(host), ...(options.dependsOn ?? [])] });
    // A delete hook that finds no daemon has nothing to undo; it must not hold a destroy for long.
    const deleteWait = Math.min(wait, 60);
    const leave = installedStepCommand("leave", [deleteWait]);

    const leaveOnDelete = args.leaveOnDelete ?? true;
    const init = step(`${first.name}-init`, first,
      installedStepCommand("init", [wait, first.privateIp, ...others.map((m) => m.privateIp)]),
      leaveOnDelete ? { delete: leave } : {}, { dependsOn: args.initDependsOn });

    // join.sh names the token step in its advice when a stored token is rejected.
    const tokenName = (role: "manager" | "worker") => `${name}-${role}-token`;
    const token = (role: "manager" | "worker") => {
      const rotate = args.tokenRotation === undefined ? [] : [args.tokenRotation];
      const cmd = step(`${role}-token`, first, installedStepCommand("token", [wait, role, ...rotate]),
        { logging: "none" }, { dependsOn: [init], additionalSecretOutputs: ["stdout"] });
      return pulumi.secret(cmd.stdout);
    };
    this.managerJoinToken = token("manager");
    this.workerJoinToken = token("worker");

    // Labels are set, and removal is driven, from the first manager: workers cannot do either.
    const member = (host: SwarmHost, role: string, nodeId: pulumi.Input<string>, dependsOn: pulumi.Resource[]) =>
      step(`${host.name}-member`, first,
        installedStepCommand("label", [wait, nodeId, ...labelArgs(host, role)]),
        {
          delete: pulumi.output(nodeId).apply((id) => installedStepCommand("remove", [deleteWait, id, drain])),
          triggers: [host.privateIp],
        },
        { dependsOn });

    // The provider runs a delete with the stdin of the last create, and sends it to whatever
    // answers at the stored address. So the join, which gets the token on stdin, has no delete;
    // the node's `leave` step holds the delete hook and is given no stdin at all. Its create is
    // empty: nothing runs until the node goes away.
    const join = (host: SwarmHost, role: "manager" | "worker", tokenOut: pulumi.Output<string>, dependsOn: pulumi.Resource[]) => {
      const joined = step(`${host.name}-join`, host,
        installedStepCommand("join", [wait, role, host.privateIp, tokenName(role), ...managerIps.filter((ip) => ip !== host.privateIp)]),
        { stdin: tokenOut },
        { dependsOn: [init, ...dependsOn] });
      const leaving = leaveOnDelete ? [step(`${host.name}-leave`, host, undefined, { delete: leave }, { dependsOn: [joined] })] : [];
      return { joined, leaving };
    };

    const members: command.remote.Command[] = [member(first, "manager", init.stdout, [])];
    const managerJoins: command.remote.Command[] = [];
    // Managers join one at a time, each after the previous is Reachable; the member chain makes
    // deletes run in reverse, one manager at a time, so the quorum is never cut twice at once.
    // A member depends on its node's leave step, so the node is removed before it leaves.
    for (const host of others) {
      const { joined, leaving } = join(host, "manager", this.managerJoinToken, managerJoins.slice(-1));
      managerJoins.push(joined);
      members.push(member(host, "manager", joined.stdout, [members[members.length - 1], ...leaving]));
    }
    // Workers need only the first manager and the worker token, never the other managers.
    const workerJoins: { joined: command.remote.Command; leaving: command.remote.Command[] }[] = [];
    for (const host of workers) {
      const previous = args.serialJoins ? [...managerJoins, ...workerJoins.map((w) => w.joined)].slice(-1) : [];
      workerJoins.push(join(host, "worker", this.workerJoinToken, previous));
    }
    workers.forEach((host, i) => members.push(member(host, "worker", workerJoins[i].joined.stdout, workerJoins[i].leaving)));

    this.leaderAddress = pulumi.output(first.privateIp);
    this.managerNodeIds = [init.stdout, ...managerJoins.map((j) => j.stdout)];
    this.workerNodeIds = workerJoins.map((w) => w.joined.stdout);
    this.ready = pulumi.all(members.map((m) => m.stdout));
    this.registerOutputs({
      managerJoinToken: this.managerJoinToken,
      workerJoinToken: this.workerJoinToken,
      leaderAddress: this.leaderAddress,
      managerNodeIds: this.managerNodeIds,
      workerNodeIds: this.workerNodeIds,
      ready: this.ready,
    });
  }
}

/** `key=value` words for the label step; `role` comes from the bootstrap, not the caller. */
function labelArgs(host: SwarmHost, role: string): pulumi.Input<string>[] {
  const labels: Record<string, pulumi.Input<string>> = { ...(host.labels ?? {}), role };
  return Object.keys(labels)
    .sort()
    .map((k) => pulumi.output(labels[k]).apply((v) => `${k}=${v}`));
}

export type { Step };

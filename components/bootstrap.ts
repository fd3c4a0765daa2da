import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { throwIfInvalid } from "./errors";
import { managerCountProblems } from "./quorum";
import { waitSecondsProblems } from "./waits";
import { hostNamesProblems } from "./host-names";
import { probeManagers, ProbeConnection } from "./control";
import { inBatches, RollingBatch, rollingBatchProblems, workerBatchSize } from "./rolling";
import { renderInstallCommand, renderInstalledStepCommand, Step } from "./scripts";

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

/** A host that may still run a manager of this swarm though it is not in `managers` any more. */
export interface FormerManager {
  /** How to reach it over SSH. */
  connection: command.types.input.remote.ConnectionArgs;
  /** The address it advertises in the swarm. */
  privateIp: pulumi.Input<string>;
}

/** Arguments of {@link SwarmBootstrap}: the hosts and how the steps behave. */
export interface SwarmBootstrapArgs {
  /**
   * Managers; 1, 3, 5 or 7 hosts. The first creates the swarm when no manager of this stack
   * (these and `formerManagers`) runs one; otherwise it joins, like the others.
   */
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
  /**
   * Hosts that may still run managers of this swarm but are no longer listed in `managers`:
   * the old instances of a replacement, or, in the lab, old hosts. A new manager joins their
   * swarm instead of creating one, and tokens are read from them when no listed manager
   * answers (all managers replaced in one `up`). SwarmCluster fills it from the running
   * instances tagged as its managers. @default []
   */
  formerManagers?: pulumi.Input<FormerManager[]>;
  /**
   * How many nodes a rollout joins (and whose replaced nodes it removes) before the next
   * batch starts: managers one at a time, workers in batches. @default { managers: 1, workers: "25%" }
   */
  rollingBatch?: RollingBatch;
  /**
   * After nodes are added or come back, restart the tasks of services spread unevenly over
   * nodes or AZs (`docker service update --force`, within each service's update parallelism).
   * A service labelled `aws-swarm.rebalance=false` is never touched. @default true
   */
  rebalance?: boolean;
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
  problems.push(...rollingBatchProblems(args.rollingBatch, "rollingBatch"));
  problems.push(...waitSecondsProblems(args.dockerWaitSeconds, "dockerWaitSeconds"));
  problems.push(...waitSecondsProblems(args.drainSeconds, "drainSeconds"));
  return problems;
}

/**
 * Builds a Docker Swarm on existing hosts with remote commands, and keeps it whole on day 2.
 * Nothing here assumes EC2.
 *
 * DESIGN (see also control.ts and rolling.ts):
 * - No special manager after day 1. The first manager's step creates the swarm only when no
 *   manager of this stack (listed or former) answers; a replaced first manager joins like the
 *   others. Every node's label step removes the node it replaced (same host label), after the
 *   new one is Ready: never a second swarm, never two managers away at once.
 * - Work that needs a manager runs on the first manager that answers the program's bounded SSH
 *   probe (control.ts), so a dead manager-1 blocks nothing while a majority is up. A manager's
 *   own label step runs on itself, once it has joined.
 * - Rolling gate: managers join one after the other, each after the previous one's label step
 *   (Ready, Reachable, quorum whole, replaced node removed); workers in batches
 *   (`rollingBatch`), each batch after the previous one's label steps.
 * - Removal of nodes that are gone from the lists runs in one prune step on a manager that
 *   answers, not in delete hooks with stored connections. Only a node's own `leave` (when
 *   `leaveOnDelete`) is a delete hook; managers' leaves are chained, one at a time.
 */
export class SwarmBootstrap extends pulumi.ComponentResource {
  /** Token that joins a manager; secret. */
  readonly managerJoinToken: pulumi.Output<string>;
  /** Token that joins a worker; secret. */
  readonly workerJoinToken: pulumi.Output<string>;
  /**
   * Address of the first listed manager, the one that created the swarm on day 1 (after it
   * is replaced, its replacement's address: that one joined). Not necessarily the Raft leader;
   * clients that want any manager use `managerAddresses`.
   */
  readonly leaderAddress: pulumi.Output<string>;
  /** Addresses of every listed manager, in the order given. */
  readonly managerAddresses: pulumi.Output<string[]>;
  /** Swarm node IDs of the managers, in the order given. */
  readonly managerNodeIds: pulumi.Output<string>[];
  /** Swarm node IDs of the workers, in the order given. */
  readonly workerNodeIds: pulumi.Output<string>[];
  /** Resolves once every node has joined and been labelled; depend on it to use the swarm. */
  readonly ready: pulumi.Output<string[]>;
  /**
   * Address (`privateIp`) of the listed manager that answered the program's probe as a manager
   * that can act, the first in list order; the first listed manager when none answered (day 1).
   * The steps after the joins (worker labels, prune, rebalance) run there, and so should
   * anything else that needs a manager: SwarmCluster deploys its services and compose stacks
   * through it. It changes when that manager stops answering, so it may differ between `up`s.
   */
  readonly controlAddress: pulumi.Output<string>;
  /**
   * Position in `managers` of the manager at `controlAddress`, from 0: pick that host's
   * connection with `controlConnectionOf(managers, controlManagerIndex)`.
   */
  readonly controlManagerIndex: pulumi.Output<number>;

  constructor(name: string, args: SwarmBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmBootstrap", name, {}, opts);
    throwIfInvalid(this, swarmBootstrapProblems(args));
    const wait = args.dockerWaitSeconds ?? 300;
    const drain = args.drainSeconds ?? 120;
    const managers = args.managers;
    const [first, ...others] = managers;
    const workers = args.workers ?? [];
    const managerIps = managers.map((m) => m.privateIp);
    const formers = pulumi.output(args.formerManagers ?? []);
    const formerIps = formers.apply((fs) => fs.map((f) => f.privateIp));
    // Every manager a node may find a running swarm at, itself excepted.
    const peersOf = (self: pulumi.Input<string> | undefined) =>
      pulumi.all([pulumi.all(managerIps), formerIps, self]).apply(([ms, fs, me]) => [...new Set([...ms, ...fs])].filter((ip) => ip !== me));
    const text = (step: Step, fixed: pulumi.Input<string | number>[], rest: pulumi.Input<string[]> = []) =>
      pulumi.all([pulumi.all(fixed), rest]).apply(([a, r]) => renderInstalledStepCommand(step, [...a, ...r].map(String)));

    // Which manager answers now (control.ts). The result holds no secret, though it was
    // computed from connections that do.
    const connections = pulumi.all([pulumi.output(managers.map((m) => m.connection)), formers]).apply(([ms, fs]) => [...ms, ...fs.map((f) => f.connection)]);
    const probe = pulumi.unsecret(connections.apply((cs) => probeManagers(cs as unknown as ProbeConnection[])));
    const controlConnection = pulumi.all([probe, connections]).apply(([p, cs]) => cs[Math.max(0, p.index)]);
    // Steps after the joins run on a listed manager: a former one may be removed meanwhile.
    const controlIndex = probe.apply((p) => listedControlIndex(p.index, managers.length));
    const postConnection = pulumi.all([controlIndex, connections]).apply(([i, cs]) => cs[i]);

    // Every command of a host is replaced when the host's address changes (a new instance), so
    // its old steps are deleted and the new node's label step removes the old node.
    const remoteCommand = (
      resource: string,
      connection: pulumi.Input<command.types.input.remote.ConnectionArgs>,
      trigger: pulumi.Input<string> | undefined,
      create: pulumi.Input<string> | undefined,
      extra: Partial<command.remote.CommandArgs>,
      options: pulumi.CustomResourceOptions,
    ) =>
      new command.remote.Command(
        `${name}-${resource}`,
        {
          connection,
          create,
          ...(trigger === undefined ? {} : { triggers: [trigger] }),
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
        install = remoteCommand(`${host.name}-steps`, host.connection, host.privateIp, renderInstallCommand(), {}, {});
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
    ) => remoteCommand(resource, host.connection, host.privateIp, create, extra, { ...options, dependsOn: [installed(host), ...(options.dependsOn ?? [])] });
    managers.forEach(installed);
    // The manager that answers may be a former one, with an older copy of the steps (or none).
    const controlInstall = remoteCommand("control-steps", controlConnection, undefined, renderInstallCommand(), {}, {});
    const managerInstalls = managers.map(installed);

    // A delete hook that finds no daemon has nothing to undo; it must not hold a destroy for long.
    const deleteWait = Math.min(wait, 60);
    const leave = text("leave", [deleteWait]);
    const leaveOnDelete = args.leaveOnDelete ?? true;

    // The first manager creates the swarm only when no manager of the stack runs one; its join
    // step (below) joins a running one. Nothing here depends on what the probe found, so
    // neither step re-runs when the answering manager changes.
    const init = step(`${first.name}-init`, first,
      text("init", [wait, first.privateIp], peersOf(first.privateIp)),
      leaveOnDelete ? { delete: leave } : {}, { dependsOn: args.initDependsOn });

    // join.sh names the token step in its advice when a stored token is rejected.
    const tokenName = (role: "manager" | "worker") => `${name}-${role}-token`;
    const token = (role: "manager" | "worker") => {
      const rotate = args.tokenRotation === undefined ? [] : [args.tokenRotation];
      const cmd = remoteCommand(`${role}-token`, controlConnection, undefined, text("token", [wait, role, ...rotate]),
        { logging: "none" },
        { dependsOn: [controlInstall, init], additionalSecretOutputs: ["stdout"] });
      return pulumi.secret(cmd.stdout);
    };
    this.managerJoinToken = token("manager");
    this.workerJoinToken = token("worker");

    // The label step: Ready, active, labelled, and the node it replaced removed.
    const label = (host: SwarmHost, role: string, nodeId: pulumi.Input<string>) =>
      text("label", [wait, nodeId, name, host.name, drain, ...labelArgs(host, role)]);
    // A manager labels itself once it has joined; workers are labelled by a listed manager.
    const managerMember = (host: SwarmHost, nodeId: pulumi.Input<string>, dependsOn: pulumi.Resource[]) =>
      step(`${host.name}-member`, host, label(host, "manager", nodeId), {}, { dependsOn });
    const workerMember = (host: SwarmHost, nodeId: pulumi.Input<string>, dependsOn: pulumi.Resource[]) =>
      remoteCommand(`${host.name}-member`, postConnection, host.privateIp, label(host, "worker", nodeId), {},
        { dependsOn: [...managerInstalls, ...dependsOn] });

    // The provider runs a delete with the stdin of the last create, and sends it to whatever
    // answers at the stored address. So the join, which gets the token on stdin, has no delete;
    // the node's `leave` step holds the delete hook and is given no stdin at all. Its create is
    // empty: nothing runs until the node goes away.
    const join = (host: SwarmHost, role: "manager" | "worker", gate: number, tokenOut: pulumi.Output<string>, dependsOn: pulumi.Resource[]) =>
      step(`${host.name}-join`, host,
        text("join", [wait, role, host.privateIp, tokenName(role), gate], peersOf(host.privateIp)),
        { stdin: tokenOut },
        { dependsOn: [init, ...dependsOn] });

    // One manager at a time: each joins after the previous one's label step (the gate), and
    // leaves before it on delete, so the quorum is never cut twice at once. The first one's
    // join is a no-op on day 1 (init made it a manager) and joins a replaced one.
    const members: command.remote.Command[] = [];
    const managerJoins: command.remote.Command[] = [];
    const managerLeaves: command.remote.Command[] = [];
    managers.forEach((host, k) => {
      const joined = join(host, "manager", k + 1, this.managerJoinToken, members.slice(-1));
      managerJoins.push(joined);
      if (leaveOnDelete && k > 0) {
        managerLeaves.push(step(`${host.name}-leave`, host, undefined, { delete: leave }, { dependsOn: [joined, ...managerLeaves.slice(-1)] }));
      }
      members.push(managerMember(host, joined.stdout, [joined]));
    });
    // Workers need only the first manager and the worker token, never the other managers; a
    // batch waits for the previous batch's label steps.
    const workerJoins: command.remote.Command[] = [];
    let previousBatch: pulumi.Resource[] = [];
    for (const batch of inBatches(workers, args.serialJoins ? 1 : workerBatchSize(args.rollingBatch, workers.length))) {
      const labelled: pulumi.Resource[] = [];
      for (const host of batch) {
        const serial = args.serialJoins ? [...managerJoins, ...workerJoins].slice(-1) : [];
        const joined = join(host, "worker", 0, this.workerJoinToken, [...previousBatch, ...serial]);
        workerJoins.push(joined);
        if (leaveOnDelete) step(`${host.name}-leave`, host, undefined, { delete: leave }, { dependsOn: [joined] });
        const member = workerMember(host, joined.stdout, [joined, members[0]]);
        labelled.push(member);
        members.push(member);
      }
      previousBatch = labelled;
    }

    // Nodes of this stack whose host is no longer listed leave the swarm here.
    const prune = remoteCommand("prune", postConnection, undefined,
      text("prune", [wait, name, drain, ...[...managers, ...workers].map((h) => h.name)]), {},
      { dependsOn: [...managerInstalls, ...members] });
    const after: command.remote.Command[] = [prune];
    if (args.rebalance ?? true) {
      // Its input is what the probe found uneven, so it runs exactly when there is work.
      after.push(remoteCommand("rebalance", postConnection, undefined,
        text("rebalance", [wait, "apply", Math.max(drain, 60)], probe.apply((p) => p.unbalanced)), {},
        { dependsOn: [prune] }));
    }

    this.leaderAddress = pulumi.output(first.privateIp);
    this.controlManagerIndex = controlIndex;
    this.controlAddress = pulumi.all([controlIndex, pulumi.all(managerIps)]).apply(([i, ips]) => ips[i]);
    this.managerAddresses = pulumi.all(managerIps);
    this.managerNodeIds = managerJoins.map((j) => j.stdout);
    this.workerNodeIds = workerJoins.map((j) => j.stdout);
    const afterDone = pulumi.all(after.map((a) => a.stdout));
    this.ready = pulumi.all([pulumi.all(members.map((m) => m.stdout)), afterDone]).apply(([ids]) => ids);
    this.registerOutputs({
      managerJoinToken: this.managerJoinToken,
      workerJoinToken: this.workerJoinToken,
      leaderAddress: this.leaderAddress,
      managerAddresses: this.managerAddresses,
      managerNodeIds: this.managerNodeIds,
      workerNodeIds: this.workerNodeIds,
      ready: this.ready,
      controlAddress: this.controlAddress,
      controlManagerIndex: this.controlManagerIndex,
    });
  }
}

/**
 * Where work that needs a listed manager runs, given the probe's answer (an index into the
 * listed managers followed by the former ones, or -1): the answering manager when it is a
 * listed one, else the first listed manager. A former manager is never chosen: it may be
 * removed in the same `up`. Pure, for tests.
 */
export function listedControlIndex(probeIndex: number, listed: number): number {
  return probeIndex >= 0 && probeIndex < listed ? probeIndex : 0;
}

/**
 * The connection of the manager a bootstrap chose ({@link SwarmBootstrap.controlManagerIndex})
 * among `managers`, the same hosts, in the same order, that the bootstrap was given. Secret, as
 * every remote connection is: it may hold a private key.
 */
export function controlConnectionOf(
  managers: SwarmHost[],
  controlManagerIndex: pulumi.Input<number>,
): pulumi.Output<command.types.input.remote.ConnectionArgs> {
  const all = pulumi.all(managers.map((m) => pulumi.output(m.connection)));
  return pulumi.secret(pulumi.all([controlManagerIndex, all]).apply(([i, cs]) => cs[i] as command.types.input.remote.ConnectionArgs));
}

/** `key=value` words for the label step; `role` comes from the bootstrap, not the caller. */
function labelArgs(host: SwarmHost, role: string): pulumi.Input<string>[] {
  const labels: Record<string, pulumi.Input<string>> = { ...(host.labels ?? {}), role };
  return Object.keys(labels)
    .sort()
    .map((k) => pulumi.output(labels[k]).apply((v) => `${k}=${v}`));
}

export type { Step };

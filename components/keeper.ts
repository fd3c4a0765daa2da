import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SwarmHost } from "./bootstrap";
import { throwIfInvalid, shown } from "./errors";
import { shellQuote, stepScript } from "./scripts";
import { DRAIN_HOOK_NAME } from "./worker-group";

/** Where the keeper and its settings live on a manager. */
export const KEEPER_PATH = "/usr/local/sbin/aws-swarm-keeper";
export const KEEPER_ENV = "/etc/aws-swarm/keeper.env";
export const KEEPER_UNIT_DIR = "/etc/systemd/system";

/** The managers the keeper runs on and the worker groups it looks after. */
export interface SwarmKeeperArgs {
  /** The managers: the keeper is installed on every one; only the leader acts. */
  managers: SwarmHost[];
  /** Auto Scaling group names whose terminating instances the keeper drains and removes. */
  groupNames: pulumi.Input<string>[];
  /** Region of the groups. */
  region: pulumi.Input<string>;
  /** Seconds between runs: 15..30. @default 20 */
  intervalSeconds?: number;
  /** Most nodes removed in one run: 1..50. @default 3 */
  maxRemovalsPerRun?: number;
  /** Seconds a leaving node's tasks get to move: 10..3600 (keep below the hook's heartbeat). @default 120 */
  drainSeconds?: number;
  /** Install only once these resolve (SwarmBootstrap's `ready`). @default [] */
  dependsOn?: pulumi.Input<unknown>[];
  /**
   * The managers' IAM role: gets read-only describes and CompleteLifecycleAction on
   * `groupArns` only. @default no policy (hosts that are not EC2 instances)
   */
  managerRoleName?: pulumi.Input<string>;
  /** ARNs of the groups, for the managers' policy. @default [] */
  groupArns?: pulumi.Input<string>[];
}

const range = (v: unknown, key: string, lo: number, hi: number, unit: string): string[] =>
  v === undefined || (Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi)
    ? []
    : [`${key} is ${shown(v)}; use a whole number of ${unit} from ${lo} to ${hi}.`];

/** Problems with SwarmKeeper arguments, each naming the setting, the value and the fix. */
export function swarmKeeperProblems(a: SwarmKeeperArgs): string[] {
  return [
    ...(Array.isArray(a.managers) && a.managers.length > 0 ? [] : [`managers is ${shown(a.managers)}; give the swarm's managers.`]),
    ...range(a.intervalSeconds, "intervalSeconds", 15, 30, "seconds"),
    ...range(a.maxRemovalsPerRun, "maxRemovalsPerRun", 1, 50, "nodes"),
    ...range(a.drainSeconds, "drainSeconds", 10, 3600, "seconds"),
  ];
}

/**
 * The managers' permissions for the keeper: describes that AWS cannot scope, and
 * CompleteLifecycleAction on the groups' ARNs only.
 */
export function keeperPolicyDocument(groupArns: string[]) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DescribeInstancesAndGroups",
        Effect: "Allow",
        Action: ["ec2:DescribeInstances", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups"],
        Resource: "*",
      },
      { Sid: "CompleteWorkerLifecycleActions", Effect: "Allow", Action: "autoscaling:CompleteLifecycleAction", Resource: groupArns },
    ],
  };
}

/** The keeper's systemd units; `ExecStart` is also what lab tests run directly. */
export function keeperUnits(intervalSeconds: number): { service: string; timer: string } {
  return {
    service: [
      "[Unit]",
      "Description=aws-swarm keeper: labels nodes, removes terminating and vanished worker instances",
      "After=docker.service",
      "",
      "[Service]",
      "Type=oneshot",
      `ExecStart=${KEEPER_PATH}`,
      "",
    ].join("\n"),
    timer: [
      "[Unit]",
      "Description=Run the aws-swarm keeper",
      "",
      "[Timer]",
      "OnBootSec=30s",
      "OnActiveSec=10s",
      `OnUnitInactiveSec=${intervalSeconds}s`,
      "AccuracySec=1s",
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n"),
  };
}

/** Settings of one keeper, as its sourceable env file. */
export function keeperEnv(s: { groups: string[]; region: string; maxRemovals: number; drainSeconds: number }): string {
  return [
    `AWS_SWARM_GROUPS=${shellQuote(s.groups.join(" "))}`,
    `AWS_DEFAULT_REGION=${shellQuote(s.region)}`,
    `AWS_SWARM_MAX_REMOVALS=${s.maxRemovals}`,
    `AWS_SWARM_DRAIN_SECONDS=${s.drainSeconds}`,
    `AWS_SWARM_HOOK_NAME=${DRAIN_HOOK_NAME}`,
  ].join("\n");
}

const END = "AWS_SWARM_KEEPER_EOF";
const file = (path: string, text: string) => `cat >${path} <<'${END}'\n${text}\n${END}`;

/** The command that installs (or updates) the keeper on one manager; idempotent, nothing secret. */
export function renderKeeperInstall(env: string, intervalSeconds: number): string {
  const units = keeperUnits(intervalSeconds);
  const script = [
    "set -eu",
    "mkdir -p /etc/aws-swarm /usr/local/sbin",
    file(`${KEEPER_PATH}.new`, `#!/bin/sh\n${stepScript("keeper")}`),
    `chmod 755 ${KEEPER_PATH}.new && mv ${KEEPER_PATH}.new ${KEEPER_PATH}`,
    file(KEEPER_ENV, env),
    `mkdir -p ${KEEPER_UNIT_DIR}`,
    file(`${KEEPER_UNIT_DIR}/aws-swarm-keeper.service`, units.service),
    file(`${KEEPER_UNIT_DIR}/aws-swarm-keeper.timer`, units.timer),
    // Hosts without systemd (containers, the lab) get the files only; something else must run it.
    "if [ -d /run/systemd/system ]; then",
    "  systemctl daemon-reload && systemctl enable --now aws-swarm-keeper.timer",
    '  echo "swarm-keeper: installed; aws-swarm-keeper.timer enabled" >&2',
    "else",
    '  echo "swarm-keeper: installed; no systemd on $(hostname), so the timer is not enabled: run ' + KEEPER_PATH + ' every ' + intervalSeconds + ' s another way" >&2',
    "fi",
  ].join("\n");
  return `exec $([ "$(id -u)" -eq 0 ] || echo sudo -n) sh -c ${shellQuote(script)} swarm-keeper-install`;
}

/**
 * The keeper on every manager: a POSIX sh program run by a systemd timer, of which only the
 * current leader acts (scripts/keeper.sh). Installed by one remote command per manager once the
 * swarm is ready; no SSH from outside afterwards.
 */
export class SwarmKeeper extends pulumi.ComponentResource {
  /** The install command per manager, in manager order. */
  readonly installs: command.remote.Command[];
  /** The managers' policy, when `managerRoleName` was given. */
  readonly policy?: aws.iam.RolePolicy;

  constructor(name: string, args: SwarmKeeperArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmKeeper", name, {}, opts);
    throwIfInvalid(this, swarmKeeperProblems(args));
    const interval = args.intervalSeconds ?? 20;
    const create = pulumi
      .all([pulumi.all(args.groupNames), args.region, pulumi.all(args.dependsOn ?? [])])
      .apply(([groups, region]) =>
        renderKeeperInstall(keeperEnv({ groups, region, maxRemovals: args.maxRemovalsPerRun ?? 3, drainSeconds: args.drainSeconds ?? 120 }), interval));
    this.installs = args.managers.map((host) =>
      new command.remote.Command(`${name}-${host.name}`, {
        connection: host.connection,
        create,
        // A new instance at the address is a new manager: install there too.
        triggers: [host.privateIp],
        addPreviousOutputInEnv: false,
      }, { parent: this }));
    if (args.managerRoleName !== undefined) {
      this.policy = new aws.iam.RolePolicy(`${name}-policy`, {
        role: args.managerRoleName,
        policy: pulumi.all(args.groupArns ?? []).apply((arns) => JSON.stringify(keeperPolicyDocument(arns))),
      }, { parent: this });
    }
    this.registerOutputs({ installs: this.installs.map((c) => c.stdout) });
  }
}

import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { shown, throwIfInvalid } from "./errors";
import { clusterNameProblems } from "./alarms";
import { LogsSettings, logsProblems, resolveLogs } from "./observability-config";
import { stepCommand } from "./scripts";

/** Fluent Bit, whose systemd input and cloudwatch_logs output forward the journal. */
export const DEFAULT_JOURNAL_IMAGE = "fluent/fluent-bit:3.2";

/** A cluster's log groups: their names, retention, writers and journal forwarder. */
export interface ClusterLogsArgs {
  /** Names both log groups: `/aws-swarm/<clusterName>/services` and `/aws-swarm/<clusterName>/system`. */
  clusterName: string;
  /** Services' default driver and the groups' retention. @default { driver: "awslogs", retentionDays: 30 } */
  logs?: LogsSettings;
  /** Node roles that may write to both groups, by a kebab-case key naming the attachment. @default {} */
  roles?: Record<string, pulumi.Input<string>>;
  /**
   * A manager that deploys the journal forwarder (the global service aws-swarm-journal). Unset: no
   * forwarder, the system group stays empty. @default none
   */
  journalManager?: command.types.input.remote.ConnectionArgs;
  /** Image of the forwarder. @default "fluent/fluent-bit:3.2" */
  journalImage?: string;
  /** Outputs that must resolve before the forwarder is deployed, e.g. `[bootstrap.ready]`. @default [] */
  dependsOn?: pulumi.Input<unknown>[];
  /** Seconds the forwarder step waits for Docker. @default 300 */
  dockerWaitSeconds?: number;
  /**
   * CloudWatch Logs endpoint URL for the services' awslogs driver (`awslogs-endpoint`), for
   * endpoints other than AWS's own (a VPC endpoint's DNS name, a test server). @default AWS's
   */
  endpoint?: pulumi.Input<string>;
  /** Tags added to every resource. @default {} */
  tags?: Record<string, string>;
}

/** A Docker log driver and its options, as a service's task spec takes them. */
export interface LogDriverSpec {
  /** Docker log driver name, e.g. "awslogs". */
  name: string;
  /** The driver's `--log-opt` options. */
  options: Record<string, string>;
}

/** Where a cluster's services log: what {@link serviceLogDriver} needs. */
export interface ServiceLogTarget {
  /** The cluster's default driver for services. */
  driver: "awslogs" | "json-file";
  /** The services' log group name. */
  group: string;
  /** Region of the log group. */
  region: string;
  /** `awslogs-endpoint`; "" for AWS's. */
  endpoint: string;
}

/**
 * The log driver of one service that sets none. awslogs: the cluster's group, one stream per task
 * container named `<service>/<container id>` (so streams list by service name, and no two daemons
 * write one stream), non-blocking so a slow CloudWatch never stalls the application. json-file:
 * rotated, so a chatty service cannot fill the node's disk.
 */
export function serviceLogDriver(target: ServiceLogTarget, service: string): LogDriverSpec {
  if (target.driver === "json-file") return { name: "json-file", options: { "max-size": "10m", "max-file": "3" } };
  return {
    name: "awslogs",
    options: {
      "awslogs-group": target.group,
      "awslogs-region": target.region,
      ...(target.endpoint ? { "awslogs-endpoint": target.endpoint } : {}),
      tag: `${service}/{{.ID}}`,
      mode: "non-blocking",
      "max-buffer-size": "4m",
    },
  };
}

/**
 * Writing to the given groups and nothing else: CreateLogStream and PutLogEvents (the awslogs
 * driver and Fluent Bit need no more) on each group and its streams. No CreateLogGroup: the
 * groups exist, with their retention, before any node writes.
 */
export function logsPolicyDocument(groupArns: string[]): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{
      Sid: "WriteClusterLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: groupArns.flatMap((arn) => [arn, `${arn}:log-stream:*`]),
    }],
  };
}

/** Log group names of a cluster. */
export const logGroupNames = (clusterName: string) => ({
  services: `/aws-swarm/${clusterName}/services`,
  system: `/aws-swarm/${clusterName}/system`,
});

/** Problems with ClusterLogs arguments. */
export function clusterLogsProblems(a: ClusterLogsArgs): string[] {
  const problems = [...clusterNameProblems(a.clusterName), ...logsProblems(a.logs)];
  for (const key of Object.keys(a.roles ?? {})) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(key)) problems.push(`roles key ${shown(key)} names a resource; use kebab-case such as "workers".`);
  }
  const w = a.dockerWaitSeconds;
  if (w !== undefined && !(Number.isInteger(w) && w >= 1 && w <= 3600)) problems.push(`dockerWaitSeconds is ${shown(w)}; use a whole number of seconds from 1 to 3600.`);
  return problems;
}

/**
 * A cluster's logs: the services group (every service's stdout and stderr, streams by service),
 * the system group (every node's journal: dockerd, the metrics publisher and other units),
 * both with the same retention; a policy letting the node roles write to those two groups only;
 * and the journal forwarder, a global Swarm service of Fluent Bit.
 */
export class ClusterLogs extends pulumi.ComponentResource {
  /** Name of the services' log group, `/aws-swarm/<cluster>/services`. */
  readonly servicesLogGroup: pulumi.Output<string>;
  /** Name of the nodes' journal log group, `/aws-swarm/<cluster>/system`. */
  readonly systemLogGroup: pulumi.Output<string>;
  /** Where services log by default; feed it to {@link serviceLogDriver}. */
  readonly target: pulumi.Output<ServiceLogTarget>;

  constructor(name: string, args: ClusterLogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:ClusterLogs", name, {}, opts);
    throwIfInvalid(this, clusterLogsProblems(args));
    const parent = this;
    const settings = resolveLogs(args.logs);
    const names = logGroupNames(args.clusterName);
    const group = (key: "services" | "system") => new aws.cloudwatch.LogGroup(`${name}-${key}`, {
      name: names[key],
      retentionInDays: settings.retentionDays,
      tags: { ...args.tags, Name: names[key] },
    }, { parent });
    const services = group("services");
    const system = group("system");
    const policy = new aws.iam.Policy(`${name}-write`, {
      description: `Write to the ${args.clusterName} cluster's two log groups, for Swarm nodes`,
      policy: pulumi.all([services.arn, system.arn]).apply((arns) => JSON.stringify(logsPolicyDocument(arns))),
      tags: { ...args.tags, Name: `${name}-write` },
    }, { parent });
    const attachments = Object.entries(args.roles ?? {}).map(([key, role]) =>
      new aws.iam.RolePolicyAttachment(`${name}-${key}-write`, { role, policyArn: policy.arn }, { parent }));
    const region = aws.getRegionOutput({}, { parent }).region;
    if (args.journalManager) {
      const create = pulumi.all([
        stepCommand("journal", [args.dockerWaitSeconds ?? 300, args.journalImage ?? DEFAULT_JOURNAL_IMAGE, system.name, region]),
        pulumi.all(args.dependsOn ?? []),
      ]).apply(([text]) => text);
      new command.remote.Command(`${name}-journal`, {
        connection: args.journalManager,
        create,
        addPreviousOutputInEnv: false,
      }, { parent, dependsOn: attachments });
    }
    this.servicesLogGroup = services.name;
    this.systemLogGroup = system.name;
    // Services start logging only once the roles may write: the driver's first call is CreateLogStream.
    this.target = pulumi.all([services.name, region, args.endpoint ?? "", pulumi.all(attachments.map((a) => a.id))])
      .apply(([g, r, e]) => ({ driver: settings.driver, group: g, region: r, endpoint: e }));
    this.registerOutputs({ servicesLogGroup: this.servicesLogGroup, systemLogGroup: this.systemLogGroup, target: this.target });
  }
}

import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SwarmHost } from "./bootstrap";
import { throwIfInvalid } from "./errors";
import { clusterNameProblems } from "./alarms";
import { METRICS_NAMESPACE } from "./alarm-rules";
import { stepCommand, stepScript } from "./scripts";

/** Where the health publisher runs and which cluster it reports as. */
export interface MetricsPublisherArgs {
  /** The `Cluster` dimension of every metric; SwarmAlarms must be given the same. */
  clusterName: string;
  /** The managers: each gets the publisher and its timer. */
  managers: SwarmHost[];
  /** Region CloudWatch is called in. @default the provider's region */
  region?: pulumi.Input<string>;
  /** Roles allowed to publish, by a kebab-case key naming the attachment (`${name}-<key>-put`). @default {} */
  roles?: Record<string, pulumi.Input<string>>;
  /** Outputs that must resolve before the install runs, e.g. `[bootstrap.ready]`. @default [] */
  dependsOn?: pulumi.Input<unknown>[];
}

/** The only permission the publisher needs: PutMetricData, which takes no resource, into namespace Swarm alone. */
export function metricsPolicyDocument(): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{
      Sid: "PublishSwarmMetrics",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricData"],
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": METRICS_NAMESPACE } },
    }],
  };
}

/** Problems with MetricsPublisher arguments. */
export function metricsPublisherProblems(a: MetricsPublisherArgs): string[] {
  const problems = clusterNameProblems(a.clusterName, "clusterName");
  for (const key of Object.keys(a.roles ?? {})) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(key)) problems.push(`roles key ${JSON.stringify(key)} names a resource; use kebab-case such as "managers".`);
  }
  return problems;
}

/**
 * The swarm health publisher on every manager: components/scripts/metrics.sh installed as
 * /usr/local/lib/aws-swarm/swarm-metrics with its own systemd timer (every minute), sending the
 * Reachable managers, whether there is a leader, Ready and Down nodes and the days left on the
 * node's certificate to CloudWatch namespace Swarm. It runs on every manager, not only the
 * leader: with the quorum lost there is no leader left to report it. It touches nothing of the
 * bootstrap; it waits for `dependsOn` (the bootstrap's ready output) and then installs.
 */
export class MetricsPublisher extends pulumi.ComponentResource {
  /** Path of the installed publisher on each manager, in the order of `managers`. */
  readonly installed: pulumi.Output<string[]>;

  constructor(name: string, args: MetricsPublisherArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:MetricsPublisher", name, {}, opts);
    throwIfInvalid(this, metricsPublisherProblems(args));
    const parent = this;
    const policy = new aws.iam.Policy(`${name}-put`, {
      description: `Publish ${args.clusterName}'s Swarm health metrics (namespace ${METRICS_NAMESPACE} only)`,
      policy: JSON.stringify(metricsPolicyDocument()),
    }, { parent });
    const attachments = Object.entries(args.roles ?? {}).map(([key, role]) =>
      new aws.iam.RolePolicyAttachment(`${name}-${key}-put`, { role, policyArn: policy.arn }, { parent }));
    const region = args.region ?? aws.getRegionOutput({}, { parent }).region;
    // The install waits for the swarm (its first publish reads `docker node ls`) and for the
    // permission; its text carries neither, so a later `up` re-runs it only when the script changes.
    const create = pulumi.all([stepCommand("metrics-install", [args.clusterName, region]), pulumi.all(args.dependsOn ?? [])])
      .apply(([text]) => text);
    const commands = args.managers.map((host) => new command.remote.Command(`${name}-${host.name}`, {
      connection: host.connection,
      create,
      // The program itself travels on stdin, so a changed script is a changed input and re-installs.
      stdin: stepScript("metrics"),
      triggers: [host.privateIp],
      addPreviousOutputInEnv: false,
    }, { parent, dependsOn: attachments }));
    this.installed = pulumi.all(commands.map((c) => c.stdout));
    this.registerOutputs({ installed: this.installed });
  }
}

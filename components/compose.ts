import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { shown, throwIfInvalid } from "./errors";
import { CheckedStack, checkStack, stackNameProblems } from "./compose-config";
import { deployInput, renderCompose } from "./compose-render";
import { stepCommand } from "./scripts";
import { ServiceLogTarget, serviceLogDriver } from "./logs";
import { PublishedEndpoint } from "./services-config";
import { DEFAULT_DOCKER_WAIT_SECONDS, waitSecondsProblems } from "./waits";

/** Arguments of {@link ComposeStack}: the compose file, its values and the manager it is deployed from. */
export interface ComposeStackArgs {
  /** Swarm stack name; prefixes its services and networks. @default the component name */
  stackName?: string;
  /** Path of the compose file, relative to `baseDir`. Read and checked at preview. */
  composeFile: string;
  /** Directory `composeFile` is relative to. @default process.cwd(), the Pulumi project */
  baseDir?: string;
  /** Values for `${VAR}` interpolation; stored in state, so never secrets. @default {} */
  env?: Record<string, string>;
  /**
   * Value of every secret the file defines (and of every config that has neither `file` nor
   * `content`), by key; kept secret end to end. @default {}
   */
  secrets?: Record<string, pulumi.Input<string>>;
  /** Let services run privileged, add capabilities, or mount / or the Docker socket. @default false */
  allowPrivileged?: boolean;
  /**
   * How to reach a manager of the swarm; the user must be root or have password-less sudo. It
   * may change between `up`s (SwarmCluster passes the manager that answered, see
   * SwarmBootstrap's `controlAddress`): the deploy then runs again there, and the removal
   * step stores the new connection.
   */
  manager: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Outputs that must resolve first, e.g. `[bootstrap.ready]`. @default [] */
  dependsOn?: pulumi.Input<unknown>[];
  /** Seconds to wait for the Docker daemon to answer. @default 300 */
  dockerWaitSeconds?: number;
  /** Seconds the services get to converge on deploy, and the stack to vanish on delete. @default 300 */
  waitSeconds?: number;
  /**
   * Where services without a `logging` section send their logs (ClusterLogs' `target`).
   * @default none: the daemon's default driver
   */
  logTarget?: pulumi.Input<ServiceLogTarget>;
}

/**
 * Dials the removal step makes before its delete fails: the manager answered when it was
 * stored, so a refusal now means it is gone, not booting. 10 dials wait about 17 s in all when
 * each is refused at once (0.1 s x 1.5^n), about 3 min when each times out.
 */
export const REMOVE_DIAL_LIMIT = 10;

/** Problems with ComposeStack arguments, file included; the checked stack when there are none. */
export function composeStackProblems(
  name: string,
  args: ComposeStackArgs,
  missingSecretFix: (s: string) => string = (s) => `pass its value as secrets[${shown(s)}]`,
): { problems: string[]; checked?: CheckedStack } {
  const problems: string[] = [];
  for (const k of ["dockerWaitSeconds", "waitSeconds"] as const) problems.push(...waitSecondsProblems(args[k], k));
  const stack = args.stackName ?? name;
  problems.push(...stackNameProblems(stack, "stackName"));
  if (typeof args.composeFile !== "string") {
    problems.push(`composeFile is ${shown(args.composeFile)}; set it to the path of a compose file.`);
    return { problems };
  }
  const checked = checkStack(
    { name: stack, composeFile: args.composeFile, env: args.env ?? {}, allowPrivileged: args.allowPrivileged ?? false },
    { baseDir: args.baseDir, availableSecrets: Object.keys(args.secrets ?? {}), missingSecretFix },
    problems,
  );
  return { problems, checked: problems.length ? undefined : checked };
}

/**
 * A compose file deployed to the swarm with `docker stack deploy --prune --with-registry-auth`
 * from a manager, checked before any resource exists. It re-deploys when the file, its env or a
 * secret changes, waits until the services converge (reporting the failing service and its
 * task error), and runs `docker stack rm` on delete, waiting until its networks are gone.
 */
export class ComposeStack extends pulumi.ComponentResource {
  /** The Swarm stack name. */
  readonly stackName: string;
  /** Ports the stack publishes on every node; a load balancer forwards them. */
  readonly endpoints: PublishedEndpoint[];
  /** `<service> <replicas>` per line, as the deploy step reported them. */
  readonly services: pulumi.Output<string>;

  constructor(name: string, args: ComposeStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:ComposeStack", name, {}, opts);
    const { problems, checked } = composeStackProblems(name, args);
    throwIfInvalid(this, problems);
    const { doc, facts } = checked!;
    for (const w of facts.warnings) pulumi.log.warn(w, this);
    const stack = (this.stackName = checked!.spec.name);
    const wait = args.dockerWaitSeconds ?? DEFAULT_DOCKER_WAIT_SECONDS;
    const converge = args.waitSeconds ?? 300;

    const keys = [...facts.secrets, ...facts.secretConfigs];
    const secrets = args.secrets ?? {};
    const stdin = pulumi.secret(
      pulumi.all([pulumi.all(keys.map((k) => secrets[k])), pulumi.all(args.dependsOn ?? []), args.logTarget]).apply(([values, , target]) => {
        const byKey = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
        const pick = (list: string[]) => Object.fromEntries(list.map((k) => [k, byKey[k]]));
        const logging = target === undefined ? undefined : (svc: string) => serviceLogDriver(target, svc);
        const { yaml, owned } = renderCompose(stack, doc.data, { secrets: pick(facts.secrets), configs: pick(facts.secretConfigs) }, logging);
        return deployInput(yaml, owned);
      }),
    );
    const deploy = new command.remote.Command(`${name}-deploy`, {
      connection: args.manager,
      create: stepCommand("compose-deploy", [wait, stack, converge]),
      // The file, its env and the secret values all reach the step here, so a change to any of
      // them is a change of stdin, which re-runs the deploy (no mtime, no hash to keep in sync).
      stdin,
      // A new stack name is a new stack: create it, then remove the old one with its old name.
      triggers: [stack],
      logging: "stderr",
      addPreviousOutputInEnv: false,
    }, { parent: this, additionalSecretOutputs: ["stdin"] });
    // The provider runs a delete with the stdin of the last create, so the removal lives on a
    // step of its own that holds no secret: nothing of the stack's secrets is sent on delete.
    //
    // DESIGN: the delete runs with the connection stored by the last `up` that registered this
    // stack, never the current one. The step has no create, so a changed `manager` updates it
    // without running anything and keeps the stored connection on a manager that answered then.
    // When the stack is dropped later and that manager:
    // - answers but cannot act (Docker down, out of the swarm, demoted), compose-remove.sh warns,
    //   naming the stack and how to remove it by hand, and succeeds: a delete that can never
    //   succeed there must not fail every later `up`;
    // - does not answer at all, the provider fails the delete (no script runs), after
    //   REMOVE_DIAL_LIMIT dials rather than the minutes a booting host is given. The engine
    //   retries it on every `up` until it succeeds; put the stack back for one `up` (its removal
    //   step then stores a manager that answers now) and drop it again, as the README says.
    new command.remote.Command(`${name}-remove`, {
      connection: pulumi.output(args.manager).apply((c) => ({ ...c, dialErrorLimit: REMOVE_DIAL_LIMIT })),
      delete: stepCommand("compose-remove", [Math.min(wait, 60), stack, converge]),
      triggers: [stack],
      addPreviousOutputInEnv: false,
    }, { parent: this, dependsOn: [deploy] });

    this.endpoints = facts.endpoints;
    this.services = deploy.stdout;
    this.registerOutputs({ stackName: this.stackName, endpoints: this.endpoints, services: this.services });
  }
}

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SwarmHost } from "./bootstrap";
import { tokenRotationProblems } from "./bootstrap";
import { throwIfInvalid } from "./errors";
import { renderOpsCommand } from "./ops-scripts";

/** The manager that turns autolock on, and where it keeps the key. */
export interface SwarmAutolockArgs {
  /** The manager that turns autolock on and stores the key (the programs must be installed on it). */
  manager: SwarmHost;
  /** Secrets Manager secret (ARN or name) that holds the unlock key. */
  secretId: pulumi.Input<string>;
  /** Region of the secret; "" for the AWS CLI's own default. @default "" */
  region?: pulumi.Input<string>;
  /**
   * Any one-line string; changing it rotates the unlock key (`docker swarm unlock-key
   * --rotate`) on the next `up`, and the secret holds the new key before the step ends.
   * @default unset: never rotate
   */
  unlockKeyRotation?: string;
  /** Seconds the step waits for Docker. @default 300 */
  dockerWaitSeconds?: number;
  /** Resolves once the swarm exists (SwarmBootstrap.ready); the step waits for it. */
  swarmReady: pulumi.Input<unknown>;
  /** Resources the step waits for, e.g. the programs' install and the managers' policy. @default [] */
  dependsOn?: pulumi.Resource[];
}

/**
 * Turns autolock on and keeps the unlock key in Secrets Manager. A manager writes the key with
 * its instance role, so it never passes through command text; the step's stdout is the secret
 * output {@link unlockKey}, for break-glass unlocks. Switching it off turns autolock off.
 */
export class SwarmAutolock extends pulumi.ComponentResource {
  /** The current unlock key; secret. */
  readonly unlockKey: pulumi.Output<string>;

  constructor(name: string, args: SwarmAutolockArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:SwarmAutolock", name, {}, opts);
    throwIfInvalid(this, tokenRotationProblems(args.unlockKeyRotation, "unlockKeyRotation"));
    const wait = args.dockerWaitSeconds ?? 300;
    const rotate = args.unlockKeyRotation === undefined ? [] : [args.unlockKeyRotation];
    // swarmReady is read only so that the engine orders the step after the bootstrap.
    const text = (mode: "on" | "off", seconds: number) =>
      pulumi.all([args.secretId, args.region ?? "", args.swarmReady]).apply(([secret, region]) =>
        renderOpsCommand("autolock", [mode, seconds, secret, region || "-", ...(mode === "on" ? rotate : [])]));
    const step = new command.remote.Command(`${name}-enable`, {
      connection: args.manager.connection,
      create: text("on", wait),
      delete: text("off", Math.min(wait, 60)),
      triggers: [args.manager.privateIp],
      logging: "none",
      addPreviousOutputInEnv: false,
    }, { parent: this, dependsOn: args.dependsOn, additionalSecretOutputs: ["stdout"] });
    this.unlockKey = pulumi.secret(step.stdout);
    this.registerOutputs({ unlockKey: this.unlockKey });
  }
}

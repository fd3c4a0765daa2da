import * as pulumi from "@pulumi/pulumi";

/**
 * A list of configuration problems, each naming the setting, the value it got and the fix.
 * Thrown before any child resource exists, so a bad value never reaches AWS. It is a
 * pulumi.RunError, which the Node SDK's program runner prints as the message alone, never as
 * "failed with an unhandled exception" with a stack trace (@pulumi/pulumi cmd/run/run.js).
 */
export class ConfigError extends pulumi.RunError {
  /** @param problems Every problem found, each naming the setting, the value and the fix. */
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : problems.map((p) => `- ${p}`).join("\n"));
    this.name = "ConfigError";
  }
}

/**
 * Throws every problem at once against `resource` with the stack hidden, so the user reads one
 * clean list instead of a stack dump. Does nothing when `problems` is empty.
 */
export function throwIfInvalid(resource: pulumi.Resource | undefined, problems: string[]): void {
  if (problems.length === 0) return;
  const message = new ConfigError(problems).message;
  throw resource ? new pulumi.ResourceError(message, resource, true) : new ConfigError(problems);
}

export { shown } from "./shown";

import * as pulumi from "@pulumi/pulumi";

/**
 * A list of configuration problems, each naming the setting, the value it got and the fix.
 * Thrown before any child resource exists, so a bad value never reaches AWS.
 */
export class ConfigError extends Error {
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

/** Renders a value the way a user wrote it, for error messages (`"x"`, `4`, `[...]`). */
export function shown(value: unknown): string {
  if (value === undefined) return "unset";
  if (typeof value === "string") return JSON.stringify(value);
  // JSON would print NaN and Infinity as null.
  if (typeof value === "number") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

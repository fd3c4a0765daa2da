/** Pure message helper shared by components/, config.ts and the policy pack (no Pulumi here). */

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

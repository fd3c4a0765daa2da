/**
 * During a preview some inputs are not known yet (an ID AWS assigns on create). @pulumi/policy
 * hands rules a proxy that throws its UnknownValueError when such a value is read, and reports
 * the rule as advisory "can't run during preview". Rules use `readKnown` only where the unknown
 * value does not change the verdict, such as which security group a rule admits traffic from.
 */

/** A value Pulumi will only know after apply. */
export const UNKNOWN: unique symbol = Symbol("known after apply");

function isUnknownValueError(e: unknown): boolean {
  // The class is internal to @pulumi/policy (and the pack may load its own copy), so match by name.
  return e instanceof Error && e.constructor.name === "UnknownValueError";
}

/** `read()`, or UNKNOWN when it touches a value that is unknown during a preview. */
export function readKnown<T>(read: () => T): T | typeof UNKNOWN {
  try {
    return read();
  } catch (e) {
    if (isUnknownValueError(e)) return UNKNOWN;
    throw e;
  }
}

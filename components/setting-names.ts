/**
 * How a caller wrote its settings, so one rule reports in the user's own words: a component user
 * wrote Args fields (`managerCount`), a stack-config user `aws-swarm:managerCount`. Every
 * `...Problems` function that both config.ts and a component call takes one of these.
 */
export interface SettingNames {
  /** Put before every field name: "" for Args, "aws-swarm:" for stack config. */
  prefix: string;
  /** How to set the first entry of a list, e.g. `sshAllowedCidrs: ["203.0.113.0/24"]`. */
  listEntry(setting: string, example: string): string;
}

/** Names as a component user writes them: the Args fields. */
export const ARGS_NAMES: SettingNames = {
  prefix: "",
  listEntry: (setting, example) => `${setting}: [${JSON.stringify(example)}]`,
};

/**
 * Args as a user may really pass them (from JavaScript, or decoded from stack config): every
 * field present or not, of any type. The `...Problems` functions take this, so a wrong type is a
 * problem they report, never a TypeError.
 */
export type Unchecked<T> = { [K in keyof T]?: unknown };

import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";

const ROOT = path.join(__dirname, "..", "..");

/**
 * A stack file's config as the Pulumi CLI hands it to the program: every value a string,
 * structured values as JSON.
 */
export function stackConfig(stack: string): Record<string, string> {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/**
 * Runs the program (index.ts) under the test mocks with the given config and returns its
 * exports. Each call evaluates the program afresh.
 */
export function runProgram(
  config: Record<string, string>,
  secretKeys: string[] = Object.keys(config).filter((k) => k.startsWith("aws-swarm-secrets:")),
): Record<string, unknown> {
  // Secret keys as the language host marks them (`pulumi config set --secret`).
  pulumi.runtime.setAllConfig(config, secretKeys);
  for (const mod of ["index.ts", "config.ts"]) delete require.cache[path.join(ROOT, mod)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(ROOT, "index.ts")) as Record<string, unknown>;
}

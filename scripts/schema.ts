// Writes the Pulumi package schema that other languages' SDKs are generated from, by running the
// schema inference of @pulumi/pulumi's component provider host (ComponentProvider.getSchema, what
// the Node.js language host runs for `pulumi package add`) directly in Node, since that language
// host cannot be built here. Usage: ts-node scripts/schema.ts <out.json> [Component...]
import * as fs from "node:fs";
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import * as api from "../components";

const [out, ...names] = process.argv.slice(2);
if (!out) {
  console.error("usage: ts-node scripts/schema.ts <out.json> [Component...] (default: SwarmBootstrap)");
  process.exit(2);
}
const exported = api as unknown as Record<string, unknown>;
const components = (names.length > 0 ? names : ["SwarmBootstrap"]).map((n) => {
  if (typeof exported[n] !== "function") throw new Error(`${n} is not a component exported by components/index.ts`);
  return exported[n] as new (...args: never[]) => never;
});

(async () => {
  const provider = new ComponentProvider({
    name: "aws-swarm",
    dirname: path.resolve(__dirname, ".."),
    components: components as never,
  });
  try {
    const schema = JSON.parse(await provider.getSchema());
    fs.writeFileSync(out, `${JSON.stringify(schema, null, 2)}\n`);
    console.error(`schema: ${Object.keys(schema.resources).join(", ")} -> ${out}`);
  } catch (e) {
    console.error(`schema: the inference cannot describe ${names.join(", ") || "SwarmBootstrap"}: ${(e as Error).message}`);
    process.exit(1);
  }
})();

import * as assert from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { filesUnder, pack, Packed, REPO } from "../helpers/pack";

/**
 * The component package as `npm pack` makes it: exactly what a consumer needs at run time and
 * for its types, and nothing of the program, the tests or the tools. The expected list is
 * derived from the sources, so a new component or step script is expected in the package
 * without editing this test, and a stray file (a test, a source map, the program) fails it.
 */
describe("the npm package", function () {
  this.timeout(300000);
  let packed: Packed;
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));

  before(async () => {
    packed = await pack();
  });

  it("holds the compiled components, their declarations, the files they read at run time, package.json, README and CHANGELOG, nothing else", () => {
    const sources = filesUnder(path.join(REPO, "components"));
    const modules = sources.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => `bin/components/${f.slice(0, -3)}`);
    const expected = [
      ...modules.flatMap((m) => [`${m}.js`, `${m}.d.ts`]),
      ...sources.filter((f) => /^scripts\/[^/]+\.sh$/.test(f)).map((f) => `bin/components/${f}`),
      "bin/components/compose-schema/compose-spec.json",
      "bin/components/compose-schema/README.md",
      // what a restore uploads to the first manager (components/recover-tool.ts)
      "bin/components/tools/swarm-recover-linux-amd64",
      "package.json",
      "README.md",
      "CHANGELOG.md",
    ].sort();
    assert.ok(modules.length >= 20, `only ${modules.length} component modules found`);
    assert.deepStrictEqual(packed.files, expected);
  });

  it("points main, types and its one export at files that are in it", () => {
    const dot = manifest.exports["."];
    for (const file of [manifest.main, manifest.types, dot.default, dot.types]) {
      assert.ok(packed.files.includes(file.replace(/^\.\//, "")), `${file} is not in the package`);
    }
    assert.deepStrictEqual(Object.keys(manifest.exports).sort(), [".", "./package.json"]);
  });

  it("makes @pulumi/pulumi a peer, tested at the lower bound of its range, and keeps @pulumi/policy out of consumers' installs", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8"));
    const tested = lock.packages["node_modules/@pulumi/pulumi"].version;
    assert.strictEqual(manifest.dependencies["@pulumi/pulumi"], undefined);
    assert.strictEqual(manifest.peerDependencies["@pulumi/pulumi"], `>=${tested} <4.0.0`);
    assert.strictEqual(manifest.dependencies["@pulumi/policy"], undefined);
    assert.ok(manifest.devDependencies["@pulumi/policy"]);
    const goMod = fs.readFileSync(path.join(REPO, "tools", "engine", "go.mod"), "utf8");
    assert.match(goMod, new RegExp(`github.com/pulumi/pulumi/pkg/v3 v${tested.replace(/\./g, "\\.")}\\b`));
  });

  it("is what examples/typescript installs: this version's tarball", () => {
    const example = JSON.parse(fs.readFileSync(path.join(REPO, "examples", "typescript", "package.json"), "utf8"));
    assert.strictEqual(example.dependencies["aws-swarm"], `file:../${path.basename(packed.tarball)}`);
    assert.strictEqual(path.basename(packed.tarball), `aws-swarm-${manifest.version}.tgz`);
  });

  it("has a semver version with a CHANGELOG entry", () => {
    assert.match(manifest.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    const changelog = fs.readFileSync(path.join(REPO, "CHANGELOG.md"), "utf8");
    assert.match(changelog, new RegExp(`^## ${manifest.version.replace(/\./g, "\\.")}\\b`, "m"));
  });
});

describe("Pulumi.yaml", () => {
  it("names the program, so Pulumi never runs the package's entry point (which registers nothing) as the stack", () => {
    const project = yaml.load(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")) as { main?: string };
    assert.strictEqual(project.main, "index.ts");
    assert.ok(fs.existsSync(path.join(REPO, project.main)));
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
    // Without `main`, the Node.js language host runs exports["."] (cmd/run/run.js): the package.
    assert.notStrictEqual(manifest.exports["."].default, `./${project.main.replace(/\.ts$/, ".js")}`);
  });
});

import * as assert from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..");
const EXAMPLE = path.join(REPO, "examples", "python");

/**
 * SwarmBootstrap from Python, as far as it goes without the language hosts (examples/python/README.md):
 * the committed schema is what @pulumi/pulumi's component inference makes of the TypeScript now,
 * pkg/v3's Python generator turns it into an SDK, and the example program, under Python mocks,
 * registers the TypeScript component with the right inputs.
 */
describe("examples/python: the Python SDK generated from the TypeScript components", function () {
  this.timeout(600000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-pysdk-"));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("schema.json is what the component inference makes of SwarmBootstrap now", async () => {
    const fresh = path.join(work, "schema.json");
    await execFileAsync("npx", ["ts-node", "--transpile-only", "scripts/schema.ts", fresh, "SwarmBootstrap"], { cwd: REPO });
    assert.strictEqual(fs.readFileSync(path.join(EXAMPLE, "schema.json"), "utf8"), fs.readFileSync(fresh, "utf8"),
      "examples/python/schema.json is stale: run examples/python/generate and commit schema.json");
  });

  it("generates an SDK that imports, and the example registers aws-swarm:index:SwarmBootstrap through it", async () => {
    const sdk = path.join(work, "sdk");
    await execFileAsync("go", ["run", "./pysdk", path.join(EXAMPLE, "schema.json"), sdk], {
      cwd: path.join(REPO, "tools", "engine"),
      env: { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "-mod=readonly" },
    });
    assert.ok(fs.existsSync(path.join(sdk, "pulumi_aws_swarm", "swarm_bootstrap.py")));
    for (const f of ["__main__.py", "test_sdk.py"]) fs.copyFileSync(path.join(EXAMPLE, f), path.join(work, f));
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8"));
    const version = lock.packages["node_modules/@pulumi/pulumi"].version;
    const venv = process.env.AWS_SWARM_PYTHON_VENV ??
      path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "aws-swarm", `python-${version}`);
    assert.ok(fs.existsSync(path.join(venv, "bin", "python")), `${venv} is missing: npm test's pretest step creates it`);
    // Installed, not just put on the path: the SDK reads its version from its package metadata.
    // Offline and without its dependencies, which pretest put in the virtualenv.
    const site = path.join(work, "site");
    await execFileAsync(path.join(venv, "bin", "pip"), [
      "install", "-q", "--disable-pip-version-check", "--no-deps", "--no-index", "--no-build-isolation", "--target", site, sdk,
    ]);
    const r = await execFileAsync(path.join(venv, "bin", "python"), ["-m", "unittest", "-v", "test_sdk"], {
      cwd: work, env: { ...process.env, PYTHONPATH: site },
    })
      .then((o) => ({ code: 0, out: o.stderr }), (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }));
    assert.strictEqual(r.code, 0, r.out);
    assert.match(r.out, /Ran 2 tests/);
  });
});

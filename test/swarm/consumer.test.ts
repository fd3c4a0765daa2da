import * as assert from "node:assert";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { pack, REPO } from "../helpers/pack";
import { SwarmHarness } from "./harness";
import { Lab } from "./lab";
import { nodes, settled, swarmState } from "./cluster";

const execFileAsync = promisify(execFile);

/**
 * examples/typescript, a Pulumi program of its own, installs the packed tarball as a consumer
 * would (`npm install ../aws-swarm-<version>.tgz`) and bootstraps a swarm of 3 managers and 2
 * workers on lab hosts. The harness runs the program's remote commands over SSH, as the engine
 * with @pulumi/command would (the real engine cannot run them here: tools/engine/README.md);
 * the program and every aws-swarm module it loads come from the example's node_modules.
 */
describe("examples/typescript: a consumer of the packed package", function () {
  this.timeout(600000);
  const lab = new Lab({ name: "sxt", net: "10.248.0" });
  const harness = new SwarmHarness();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-consumer-"));
  const example = path.join(work, "typescript");
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8"));
  // The SDK at the version every other suite tests, the lower bound of the peer range;
  // AWS_SWARM_CONSUMER_PULUMI tries another version of the range (e.g. the newest).
  const pulumiVersion: string = process.env.AWS_SWARM_CONSUMER_PULUMI ?? lock.packages["node_modules/@pulumi/pulumi"].version;
  const installed = path.join(example, "node_modules", "aws-swarm", "bin", "components");

  const config = () => {
    const project = pulumi.getProject();
    const hosts = (from: number, n: number, role: string) =>
      Array.from({ length: n }, (_, k) => ({ name: `${role}-${k + 1}`, address: lab.addr(from + k) }));
    pulumi.runtime.setAllConfig({
      [`${project}:managers`]: JSON.stringify(hosts(1, 3, "manager")),
      [`${project}:workers`]: JSON.stringify(hosts(4, 2, "worker")),
      [`${project}:privateKey`]: lab.privateKey(),
    }, [`${project}:privateKey`]);
  };
  /** One `pulumi up` of the example program: loaded afresh, as each `up` runs it anew. */
  const up = () => harness.deploy(() => {
    config();
    const entry = path.join(example, "index.ts");
    delete require.cache[require.resolve(entry)];
    const program = require(entry) as Record<string, pulumi.Output<unknown>>;
    return pulumi.all([program.ready, program.leaderAddress, program.managerJoinToken, program.workerJoinToken]);
  });

  before(async () => {
    const [{ tarball }] = await Promise.all([pack(), lab.up(5)]);
    fs.mkdirSync(example);
    for (const f of ["package.json", "tsconfig.json", "Pulumi.yaml", "index.ts"]) {
      fs.copyFileSync(path.join(REPO, "examples", "typescript", f), path.join(example, f));
    }
    // Where the example's package.json expects it (file:../aws-swarm-<version>.tgz).
    fs.copyFileSync(tarball, path.join(work, path.basename(tarball)));
    await execFileAsync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `@pulumi/pulumi@${pulumiVersion}`], {
      cwd: example, maxBuffer: 16 << 20,
    });
  });
  after(async () => {
    harness.dispose();
    await lab.down();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("type-checks against the installed package's declarations, through its exports", async () => {
    const r = await execFileAsync(path.join(example, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", example])
      .then(() => ({ code: 0, out: "" }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
    assert.strictEqual(r.code, 0, r.out);
    // Resolved as the example's own modules resolve it (from the test file, Node's package
    // self-reference would find this repository instead).
    assert.strictEqual(createRequire(path.join(example, "index.ts")).resolve("aws-swarm"), path.join(installed, "index.js"));
  });

  let first: Awaited<ReturnType<typeof up>>;
  it("up: 3 managers and 2 workers, one leader, from the installed package's components and step scripts", async () => {
    first = await up();
    const rows = await settled(lab, 1, 5);
    assert.deepStrictEqual(rows.map((r) => r.manager).sort(), ["", "", "Leader", "Reachable", "Reachable"]);
    assert.strictEqual(first.value[1], lab.addr(1));
    assert.ok(require.cache[path.join(installed, "bootstrap.js")], `SwarmBootstrap was not loaded from the example's node_modules: ${Object.keys(require.cache).filter((k) => k.includes("bootstrap")).join(", ")}`);
    // Every host got the installed package's copy of the step scripts (the ones in its bin/), and
    // so did the manager that answered the probe (control-steps), which runs tokens and labels.
    assert.deepStrictEqual(first.ran.filter((r) => r.name.endsWith("-steps")).map((r) => r.name).sort(),
      ["control", "manager-1", "manager-2", "manager-3", "worker-1", "worker-2"].map((h) => `swarm-${h}-steps`));
    const lib = fs.readFileSync(path.join(installed, "scripts", "lib.sh"), "utf8");
    const onHost = await lab.exec(4, "cat /var/lib/aws-swarm/steps/*/lib.sh");
    assert.strictEqual(onHost.stdout.trim(), lib.trim());
  });

  it("a second up with no changes runs no command and keeps every node", async () => {
    const before = (await nodes(lab, 1)).map((r) => r.id).sort();
    const second = await up();
    assert.deepStrictEqual(second.ran.map((r) => `${r.operation} ${r.name}`), []);
    assert.deepStrictEqual((await nodes(lab, 1)).map((r) => r.id).sort(), before);
    assert.deepStrictEqual(second.value.slice(1), first.value.slice(1));
  });

  it("destroy: every host has left the swarm", async () => {
    const ran = await harness.destroy();
    assert.ok(ran.some((r) => r.operation === "delete"));
    assert.deepStrictEqual(await Promise.all([1, 2, 3, 4, 5].map((i) => swarmState(lab, i))), Array(5).fill("inactive"));
    assert.strictEqual(harness.state.size, 0);
  });
});

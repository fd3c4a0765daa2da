import * as assert from "node:assert";
import { DEFAULT_ROLLING_BATCH } from "../../components/rolling";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CONFIG_KEYS, parseStackConfig, StackConfig } from "../../config";

/**
 * The README's "Configuration" table is what users read instead of the code: its keys, defaults,
 * valid values and examples must be what parseStackConfig accepts.
 */
const README = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");

interface Row {
  key: string;
  default: string;
  valid: string;
  example: string;
}

function configTable(): Row[] {
  const section = README.split(/^## Configuration$/m)[1].split(/^## /m)[0];
  const lines = section.split("\n").filter((l) => /^\| `/.test(l));
  return lines.map((line) => {
    // Split on the cell bars only, not on `|` inside backticks.
    const cells = line.slice(1, -1).split(/\|(?=(?:[^`]*`[^`]*`)*[^`]*$)/).map((c) => c.trim());
    const code = (c: string) => /^`(.*)`$/.exec(c)?.[1];
    return { key: code(cells[0])!, default: cells[1], valid: cells[2], example: cells[3] };
  });
}

const K = (k: string) => `aws-swarm:${k}`;
const BASE = { [K("sshAllowedCidrs")]: '["203.0.113.0/24"]' };

/** A cell value as `pulumi config set` stores it: scalars as text, lists and maps as JSON. */
function stored(cell: string): string {
  const text = /^`(.*)`$/.exec(cell)?.[1] ?? cell;
  const value = yaml.load(text);
  return typeof value === "object" && value !== null ? JSON.stringify(value) : text;
}

/** Keys that only make sense beside another setting, which the check then sets too. */
const NEEDS: Record<string, Record<string, string>> = { unlockKeyRotation: { [K("autolock")]: "true" } };

function problemsWith(key: string, value: string): string[] {
  return parseStackConfig({ ...BASE, ...NEEDS[key], [K(key)]: value }).problems.filter((p) => p.startsWith(K(key)));
}

const resolved = (): StackConfig => {
  const { config, problems } = parseStackConfig(BASE);
  assert.deepStrictEqual(problems, []);
  return config!;
};

describe("README Configuration table", () => {
  const rows = configTable();

  it("lists every key the code accepts, and no other", () => {
    assert.deepStrictEqual(rows.map((r) => r.key).sort(), [...CONFIG_KEYS].sort());
  });

  it("gives the default the code resolves for every key", () => {
    const config = resolved() as unknown as Record<string, unknown>;
    for (const row of rows) {
      if (row.default === "— (required)") {
        assert.deepStrictEqual(problemsWith(row.key, "[]").length, 1, row.key);
        continue;
      }
      if (row.key === "instanceType") {
        assert.strictEqual(config.managerInstanceType, stored(row.default));
        assert.strictEqual(config.workerInstanceType, stored(row.default));
        continue;
      }
      if (row.default === "`instanceType`") {
        const withBase = parseStackConfig({ ...BASE, [K("instanceType")]: "m7i.large" }).config!;
        assert.strictEqual((withBase as unknown as Record<string, unknown>)[row.key], "m7i.large", row.key);
        continue;
      }
      // Left unset in the stack config: the components apply this default.
      if (row.key === "rollingBatch") {
        assert.deepStrictEqual(yaml.load(/^`(.*)`$/.exec(row.default)![1]), DEFAULT_ROLLING_BATCH, row.key);
        continue;
      }
      if (["sshPublicKey", "tokenRotation", "unlockKeyRotation", "restoreFrom"].includes(row.key)) {
        assert.strictEqual(config[row.key], undefined, row.key);
        continue;
      }
      const expected = yaml.load(/^`(.*)`$/.exec(row.default)?.[1] ?? "");
      assert.deepStrictEqual(config[row.key], expected, `${row.key}: README says ${row.default}`);
    }
  });

  it("accepts every example", () => {
    for (const row of rows) {
      // An OpenSSH key does not fit a table cell: the README shortens it with "…".
      if (row.example.includes("…")) continue;
      // Compose stack examples name a file of the user's project.
      if (row.key === "stacks") continue;
      assert.deepStrictEqual(problemsWith(row.key, stored(row.example)), [], `${row.key} = ${row.example}`);
    }
    assert.deepStrictEqual(rows.filter((r) => r.example.includes("…")).map((r) => r.key), ["sshPublicKey"]);
  });

  it("accepts exactly the counts it lists, and rejects those beside them", () => {
    const counts = (row: Row | undefined) => {
      const list = /^[\d, ]+$/.test(row!.valid) ? row!.valid.split(",").map(Number) : undefined;
      const range = /^(\d+)\.\.(\d+)$/.exec(row!.valid);
      return list ?? [Number(range![1]), Number(range![2])];
    };
    for (const key of ["managerCount", "workerCount", "azCount"]) {
      const row = rows.find((r) => r.key === key);
      const ok = counts(row);
      const lowest = Math.min(...ok);
      const highest = Math.max(...ok);
      for (const n of ok) assert.deepStrictEqual(problemsWith(key, String(n)), [], `${key} ${n}`);
      for (const n of [lowest - 1, highest + 1]) assert.strictEqual(problemsWith(key, String(n)).length, 1, `${key} ${n}`);
      if (/,/.test(row!.valid)) {
        for (let n = lowest; n <= highest; n++) {
          assert.strictEqual(problemsWith(key, String(n)).length, ok.includes(n) ? 0 : 1, `${key} ${n}`);
        }
      }
    }
  });

  it("accepts the placements it lists and the VPC prefixes it names", () => {
    const placements = [...rows.find((r) => r.key === "nodePlacement")!.valid.matchAll(/`(\w+)`/g)].map((m) => m[1]);
    assert.deepStrictEqual(placements, ["public", "private"]);
    for (const p of placements) assert.deepStrictEqual(problemsWith("nodePlacement", p), []);
    const [, low, high] = /\/(\d+)\.\.\/(\d+)/.exec(rows.find((r) => r.key === "vpcCidr")!.valid)!;
    assert.deepStrictEqual(problemsWith("vpcCidr", `10.0.0.0/${low}`), []);
    assert.strictEqual(problemsWith("vpcCidr", `10.0.0.0/${Number(low) - 1}`).length, 1);
    assert.strictEqual(problemsWith("vpcCidr", `10.0.0.0/${Number(high) + 1}`).length, 1);
    // The widest source prefixes the README names for sshAllowedCidrs.
    const [, v4, v6] = /IPv4 \/(\d+) or IPv6 \/(\d+)/.exec(rows.find((r) => r.key === "sshAllowedCidrs")!.valid)!;
    assert.deepStrictEqual(problemsWith("sshAllowedCidrs", `["10.0.0.0/${v4}","2001:db8::/${v6}"]`), []);
    assert.strictEqual(problemsWith("sshAllowedCidrs", `["10.0.0.0/${Number(v4) - 1}"]`).length, 1);
    assert.strictEqual(problemsWith("sshAllowedCidrs", `["2001:db8::/${Number(v6) - 1}"]`).length, 1);
  });
});

import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { created, settle, valueOf } from "../helpers/mocks";
import { runProgram, stackConfig } from "../helpers/stack";
import { CONFIG_KEYS, parseStackConfig } from "../../config";
import { ConfigError, Services, SwarmCluster } from "../../components";
import { swarmClusterProblems } from "../../components/cluster";

/**
 * One validation at the door: every bad stack-config value stops the program before a single
 * resource is registered, with a message naming the key, the value and the fix.
 */
const K = (k: string) => `aws-swarm:${k}`;
/** [key, raw value as Pulumi hands it to the program, text the message must show]. */
const BAD: [string, string, string][] = [
  // type
  ["managerCount", "three", '"three"'],
  ["workerCount", "two", '"two"'],
  ["azCount", "x", '"x"'],
  ["registry", '{"enabled":"yes"}', '"yes"'],
  ["sshAllowedCidrs", "[5]", "5"],
  ["publishedPorts", '["x"]', '"x"'],
  ["services", '{"name":"web"}', '{"name":"web"}'],
  // range
  ["managerCount", "4", "4"],
  ["managerCount", "9", "9"],
  ["workerCount", "-1", "-1"],
  ["workerCount", "1001", "1001"],
  ["azCount", "7", "7"],
  ["vpcCidr", "10.0.0.0/8", '"10.0.0.0/8"'],
  ["publishedPorts", "[70000]", "70000"],
  ["publishedPorts", "[2377]", "2377"],
  ["services", '[{"name":"web","image":"nginx","replicas":-1}]', "-1"],
  ["services", '[{"name":"web","image":"nginx","ports":[{"published":22,"target":22}]}]', "22"],
  // format
  ["instanceType", "big", '"big"'],
  ["managerInstanceType", "--privileged", '"--privileged"'],
  ["workerInstanceType", "t3.small x", '"t3.small x"'],
  ["vpcCidr", "10.0.0.1/16", '"10.0.0.1/16"'],
  ["nodePlacement", "dmz", '"dmz"'],
  ["sshPublicKey", "not a key", '"not a key"'],
  ["sshAllowedCidrs", '["10.0.0.300/24"]', '"10.0.0.300/24"'],
  ["registry", '{"image":"--privileged"}', '"--privileged"'],
  ["registry", '{"size":3}', "size"],
  ["services", '[{"name":"web","image":"--privileged"}]', '"--privileged"'],
  ["services", '[{"name":"web","image":"Nginx"}]', '"Nginx"'],
  // a list set without --path: one plain string
  ["sshAllowedCidrs", "203.0.113.7/32", '"203.0.113.7/32"'],
  ["publishedCidrs", "198.51.100.0/24", '"198.51.100.0/24"'],
  ["publishedPorts", "8443", '"8443"'],
  ["services", "web", '"web"'],
  // duplicates
  ["sshAllowedCidrs", '["203.0.113.0/24","203.0.113.0/24"]', '"203.0.113.0/24"'],
  ["publishedCidrs", '["198.51.100.0/24","198.51.100.0/24"]', '"198.51.100.0/24"'],
  ["publishedPorts", "[8080,8080]", "8080"],
  ["services", '[{"name":"web","image":"nginx"},{"name":"web","image":"nginx"}]', '"web"'],
  // world-open, whole or in pieces, or too wide for an admin range
  ["sshAllowedCidrs", '["0.0.0.0/0"]', '"0.0.0.0/0"'],
  ["sshAllowedCidrs", '["::/0"]', '"::/0"'],
  ["sshAllowedCidrs", '["0.0.0.0/1","128.0.0.0/1"]', '"0.0.0.0/1"'],
  ["sshAllowedCidrs", '["::/1","8000::/1"]', '"::/1"'],
  ["sshAllowedCidrs", '["10.0.0.0/7"]', '"10.0.0.0/7"'],
  ["sshAllowedCidrs", '["2001:db8::/31"]', '"2001:db8::/31"'],
  ["sshAllowedCidrs", "[]", "[]"],
  ["publishedCidrs", '["0.0.0.0/0"]', '"0.0.0.0/0"'],
  ["publishedCidrs", '["0.0.0.0/1","128.0.0.0/1"]', '"0.0.0.0/1"'],
  // injection: shell metacharacters and newlines
  ["managerCount", "3; rm -rf /", '"3; rm -rf /"'],
  ["workerCount", "$(reboot)", '"$(reboot)"'],
  ["instanceType", "t3.small;reboot", '"t3.small;reboot"'],
  ["managerInstanceType", "t3.small\nreboot", '"t3.small\\nreboot"'],
  ["vpcCidr", "10.0.0.0/16\n", '"10.0.0.0/16\\n"'],
  ["nodePlacement", "public`reboot`", '"public`reboot`"'],
  ["sshPublicKey", "ssh-ed25519 AAAA\nreboot", '"ssh-ed25519 AAAA\\nreboot"'],
  ["sshAllowedCidrs", '["203.0.113.7/32; reboot"]', '"203.0.113.7/32; reboot"'],
  ["sshAllowedCidrs", '["203.0.113.7/32\\n"]', '"203.0.113.7/32\\n"'],
  ["registry", '{"image":"registry:2; reboot"}', '"registry:2; reboot"'],
  ["registry", '{"image":"registry:2\\nreboot"}', '"registry:2\\nreboot"'],
  ["services", '[{"name":"web","image":"nginx$(reboot)"}]', '"nginx$(reboot)"'],
  ["services", '[{"name":"a;b","image":"nginx"}]', '"a;b"'],
  ["services", '[{"name":"web","image":"nginx","env":{"A;B":"x"}}]', '"A;B"'],
  ["services", '[{"name":"web","image":"nginx","constraints":["node.role==worker\\nx"]}]', '"node.role==worker\\nx"'],
  ["publishedPorts", '[{"port":8080,"protocol":"tcp;reboot"}]', '"tcp;reboot"'],
  ["azCount", "3\n", '"3\\n"'],
  ["workerCount", "2 && reboot", '"2 && reboot"'],
  ["publishedCidrs", '["198.51.100.0/24|reboot"]', '"198.51.100.0/24|reboot"'],
  ["tokenRotation", "2026-12-01\nreboot", '"2026-12-01\\nreboot"'],
  ["tokenRotation", "$(reboot)\t", '"$(reboot)\\t"'],
  ["stacks", '[{"name":"a;b","composeFile":"test/fixtures/compose/v3.yml"}]', '"a;b"'],
  ["stacks", '[{"name":"shop","composeFile":"test/fixtures/compose/v3.yml","env":{"TAG":"$(reboot)\\n"}}]', '"localhost/busybox:$(reboot)\\n"'],
  // more types
  ["publishedCidrs", '[5]', "5"],
  ["publishedCidrs", '{"a":1}', '{"a":1}'],
  ["registry", '"yes"', '"yes"'],
  ["registry", '{"forceDestroy":"yes"}', '"yes"'],
  ["stacks", '{"name":"shop"}', '{"name":"shop"}'],
  ["stacks", "shop", '"shop"'],
  ["tokenRotation", "x".repeat(129), `"${"x".repeat(129)}"`],
  ["nodePlacement", "Public", '"Public"'],
  ["vpcCidr", "10.0.0.0", '"10.0.0.0"'],
  ["logs", '{"driver":"syslog"}', '"syslog"'],
  ["logs", '{"retentionDays":31}', "31"],
  ["logs", '{"retentionDays":"30"}', '"30"'],
  ["logs", '{"driver":"awslogs;reboot"}', '"awslogs;reboot"'],
  ["logs", '{"level":"debug"}', "level"],
  ["logs", "awslogs", '"awslogs"'],
  ["workerGroups", "general", '"general"'],
  ["workerGroups", '{"name":"general"}', '{"name":"general"}'],
  ["workerGroups", '[{"name":"General","min":0,"max":2}]', '"General"'],
  ["workerGroups", '[{"name":"g;reboot","min":0,"max":2}]', '"g;reboot"'],
  ["workerGroups", '[{"name":"g","min":3,"max":2}]', "3"],
  ["workerGroups", '[{"name":"g","min":0,"max":1001}]', "1001"],
  ["workerGroups", '[{"name":"g","min":0,"max":2,"spot":"yes"}]', '"yes"'],
  ["workerGroups", '[{"name":"g","min":0,"max":2},{"name":"g","min":0,"max":2}]', '"g"'],
  ["workerGroups", '[{"name":"g","min":0,"max":2,"instanceType":"t3.small\\nx"}]', '"t3.small\\nx"'],
  ["autolock", "yes", '"yes"'],
  ["autolock", "true;reboot", '"true;reboot"'],
  ["unlockKeyRotation", "2026-12-01\nreboot", '"2026-12-01\\nreboot"'],
  ["backups", '{"schedule":"hourly\\nExecStartPre=/bin/sh"}', '"hourly\\nExecStartPre=/bin/sh"'],
  ["backups", '{"retentionDays":0}', "0"],
  ["backups", '{"enabled":"yes"}', '"yes"'],
  ["backups", "hourly", '"hourly"'],
  ["restoreFrom", "../etc/shadow", '"../etc/shadow"'],
  ["restoreFrom", "backups/$(reboot).tar.gz", '"backups/$(reboot).tar.gz"'],
  ["rollingBatch", '{"managers":2}', "2"],
  ["rollingBatch", '{"workers":"150%"}', '"150%"'],
  ["rollingBatch", '{"workers":"25%;reboot"}', '"25%;reboot"'],
  ["rollingBatch", "25%", '"25%"'],
  ["alarmEmail", "ops", '"ops"'],
  ["alarmEmail", "ops@example.com\nx@example.com", '"ops@example.com\\nx@example.com"'],
  ["alarmEmail", "a@example.com,b@example.com", '"a@example.com,b@example.com"'],
  ["vpcCidr", "2001:db8::/56", '"2001:db8::/56"'],
  // more duplicates and world-open entries
  ["publishedCidrs", '["::/0"]', '"::/0"'],
  ["publishedCidrs", '["10.0.0.0/7"]', '"10.0.0.0/7"'],
  ["sshAllowedCidrs", '["203.0.113.0/24","203.0.113.1/24"]', '"203.0.113.1/24"'],
  ["stacks", '[{"name":"shop","composeFile":"test/fixtures/compose/v3.yml"},{"name":"shop","composeFile":"test/fixtures/compose/v3.yml"}]', '"shop"'],
  ["services", '[{"name":"web","image":"nginx","ports":[{"published":80,"target":80}]},{"name":"api","image":"nginx","ports":[{"published":80,"target":8080}]}]', "80"],
  // unknown key
  ["managerCont", "3", '"3"'],
];

/** A fix is an instruction: every message says what to use, set, list, remove, ... */
const FIX = /; (.* )?(use|set|list|remove|make|give|write|name|quote|publish|pick|paste|run|add)\b/;

async function assertStopsAtTheDoor(config: Record<string, string>, secretKeys?: string[]): Promise<ConfigError> {
  created.length = 0;
  let thrown: unknown;
  try {
    runProgram(config, secretKeys);
  } catch (e) {
    thrown = e;
  }
  await settle();
  assert.ok(thrown instanceof ConfigError, `expected a ConfigError, got ${String(thrown)}`);
  assert.deepStrictEqual(created.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.name), []);
  return thrown;
}

describe("one validation at the door", () => {
  const dev = stackConfig("dev");

  for (const [key, value, shownAs] of BAD) {
    it(`stops ${K(key)} = ${JSON.stringify(value)} before any resource, naming key, value and fix`, async () => {
      const error = await assertStopsAtTheDoor({ ...dev, [K(key)]: value });
      assert.strictEqual(error.problems.length >= 1, true);
      const mine = error.problems.filter((p) => p.startsWith(K(key)));
      assert.ok(mine.length >= 1, `no problem names ${K(key)}: ${error.message}`);
      assert.ok(mine.some((p) => p.includes(shownAs)), `no problem shows ${shownAs}: ${mine.join(" | ")}`);
      for (const p of mine) assert.match(p, FIX);
    });
  }

  it("tries every key the stack accepts", () => {
    const tried = new Set(BAD.map(([k]) => k));
    assert.deepStrictEqual(CONFIG_KEYS.filter((k) => !tried.has(k)), []);
  });

  it("tries every list key as a plain string and with an injection attempt", () => {
    for (const k of ["sshAllowedCidrs", "publishedCidrs", "publishedPorts", "services", "stacks", "workerGroups"]) {
      const rows = BAD.filter(([key]) => key === k).map(([, v]) => v);
      assert.ok(rows.some((v) => !v.startsWith("[") && !v.startsWith("{")), `${k}: no plain string`);
      assert.ok(rows.some((v) => /[;$|`]|\\n/.test(v)), `${k}: no injection attempt`);
    }
  });

  it("says the exact command when a list was set as a plain string", () => {
    assert.deepStrictEqual(parseStackConfig({ [K("sshAllowedCidrs")]: "203.0.113.7/32" }).problems, [
      `${K("sshAllowedCidrs")} is "203.0.113.7/32", a plain string, but it must be a list; set it entry by entry: ` +
        `pulumi config rm ${K("sshAllowedCidrs")} && pulumi config set --path '${K("sshAllowedCidrs")}[0]' 203.0.113.7/32.`,
    ]);
  });

  it("names the halves that together open SSH to the world", () => {
    assert.deepStrictEqual(parseStackConfig({ [K("sshAllowedCidrs")]: '["0.0.0.0/1","128.0.0.0/1"]' }).problems, [
      `${K("sshAllowedCidrs")}[0] is "0.0.0.0/1", wider than /8, which opens SSH to a large part of the internet; list your office or VPN ranges (IPv4 /8 or longer, IPv6 /32 or longer).`,
      `${K("sshAllowedCidrs")}[1] is "128.0.0.0/1", wider than /8, which opens SSH to a large part of the internet; list your office or VPN ranges (IPv4 /8 or longer, IPv6 /32 or longer).`,
    ]);
  });

  it("rejects 256 /8s that add up to the whole IPv4 internet", () => {
    const all = Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`);
    const found = parseStackConfig({ [K("sshAllowedCidrs")]: JSON.stringify(all) }).problems;
    assert.strictEqual(found.length, 1);
    assert.match(found[0], /^aws-swarm:sshAllowedCidrs is \["0\.0\.0\.0\/8",.*; together its IPv4 entries cover every IPv4 address, which opens SSH to the whole internet: list only your office or VPN ranges\.$/);
  });

  it("talks about the published ports, not SSH, for publishedCidrs", () => {
    const found = parseStackConfig({ ...dev, [K("publishedCidrs")]: '["0.0.0.0/0"]' }).problems;
    assert.deepStrictEqual(found, [
      `${K("publishedCidrs")}[0] is "0.0.0.0/0", which opens the published ports on the nodes to the whole internet; list your office or VPN ranges instead.`,
    ]);
  });

  it("refuses a service secret set without --secret, without repeating its value", async () => {
    const config = {
      ...dev,
      [K("services")]: '[{"name":"db","image":"postgres:16","secrets":["db-password"]}]',
      "aws-swarm-secrets:db-password": "hunter2-plain",
    };
    const error = await assertStopsAtTheDoor(config, []);
    assert.deepStrictEqual(error.problems, [
      "aws-swarm-secrets:db-password is stored in plain text in the stack file; make it a secret: pulumi config set --secret aws-swarm-secrets:db-password <value> (and rotate the value if the file was shared).",
    ]);
    assert.doesNotMatch(error.message, /hunter2/);
  });

  it("accepts the same secret when Pulumi holds it as a secret", () => {
    const config = {
      ...dev,
      [K("services")]: '[{"name":"db","image":"postgres:16","secrets":["db-password"]}]',
      "aws-swarm-secrets:db-password": "hunter2",
    };
    assert.deepStrictEqual(parseStackConfig(config, (k) => k === "aws-swarm-secrets:db-password").problems, []);
  });

  it("reads secrecy the way the SDK does (runtime.setAllConfig with secret keys)", () => {
    pulumi.runtime.setAllConfig({ "aws-swarm-secrets:a": "x", "aws-swarm-secrets:b": "y" }, ["aws-swarm-secrets:a"]);
    const found = parseStackConfig({ ...dev, "aws-swarm-secrets:a": "x", "aws-swarm-secrets:b": "y" }).problems;
    assert.deepStrictEqual(found.map((p) => p.split(" ")[0]), ["aws-swarm-secrets:b"]);
  });

  it("warns about a credential-like env name, pointing to secrets, without its value", () => {
    const { problems, warnings } = parseStackConfig({
      ...dev,
      [K("services")]: '[{"name":"api","image":"app:1","env":{"DB_PASSWORD":"s3cret-value","LOG_LEVEL":"info","API_KEY":"k-value"}}]',
    });
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(warnings.map((w) => w.split(" ")[0]), [`${K("services")}[0].env.DB_PASSWORD`, `${K("services")}[0].env.API_KEY`]);
    for (const w of warnings) {
      assert.match(w, /pulumi config set --secret aws-swarm-secrets:<name> <value>/);
      assert.doesNotMatch(w, /s3cret-value|k-value/);
    }
  });

  it("throws an error the Node SDK prints as its message alone (a RunError)", async () => {
    const error = await assertStopsAtTheDoor({ ...dev, [K("managerCount")]: "4", [K("workerCount")]: "-1" });
    assert.ok(pulumi.RunError.isInstance(error));
    assert.strictEqual(
      error.message,
      "- aws-swarm:managerCount is 4; a Swarm manager quorum must be odd and at most 7: use 1, 3, 5 or 7.\n" +
        "- aws-swarm:workerCount is -1; use a whole number of workers from 0 to 1000.",
    );
  });
});

describe("one rule, two names: stack config and SwarmCluster Args report the same problems", () => {
  const STRING_KEYS = ["managerInstanceType", "workerInstanceType", "vpcCidr", "nodePlacement", "sshPublicKey", "tokenRotation", "alarmEmail", "restoreFrom"];
  const NUMBER_KEYS = ["managerCount", "workerCount", "azCount"];
  const JSON_KEYS = ["sshAllowedCidrs", "publishedCidrs", "registry", "logs"];
  /** The value as a component user would pass it, or undefined when only config can hold it. */
  function asArg(key: string, text: string): { value: unknown } | undefined {
    if (STRING_KEYS.includes(key)) return { value: text };
    if (NUMBER_KEYS.includes(key)) return { value: /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text };
    if (!JSON_KEYS.includes(key)) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === "string" || typeof value === "number" ? undefined : { value };
    } catch {
      return undefined;
    }
  }
  const rows = BAD.flatMap(([key, text]) => {
    const arg = asArg(key, text);
    return arg ? [{ key, text, value: arg.value }] : [];
  });

  it("covers every key both can take", () => {
    assert.deepStrictEqual([...new Set(rows.map((r) => r.key))].sort(), [...STRING_KEYS, ...NUMBER_KEYS, ...JSON_KEYS].sort());
  });

  for (const { key, text, value } of rows) {
    it(`${key} = ${JSON.stringify(text)}`, () => {
      const base = { sshAllowedCidrs: ["203.0.113.0/24"] };
      const fromArgs = swarmClusterProblems({ ...base, [key]: value });
      const fromConfig = parseStackConfig({ [K("sshAllowedCidrs")]: '["203.0.113.0/24"]', [K(key)]: text }).problems;
      assert.ok(fromArgs.length > 0);
      // Only the empty-list fix differs: each says how its user sets a list.
      const same = (p: string) => p.replace(/, e\.g\. .*$/, "");
      assert.deepStrictEqual(fromConfig.map((p) => same(p.replace(/aws-swarm:/g, ""))), fromArgs.map(same));
    });
  }
});

describe("SwarmCluster args at the door", () => {
  for (const [what, cidrs] of [
    ["IPv4 halves", ["0.0.0.0/1", "128.0.0.0/1"]],
    ["IPv6 halves", ["::/1", "8000::/1"]],
    ["a duplicate", ["203.0.113.0/24", "203.0.113.0/24"]],
  ] as const) {
    it(`rejects sshAllowedCidrs with ${what} before the key pair is registered`, async () => {
      created.length = 0;
      assert.throws(
        () => new SwarmCluster(`door-${what.replace(/\W+/g, "-")}`, { sshAllowedCidrs: [...cidrs] }),
        (e: Error) => /sshAllowedCidrs\[1\] is /.test(e.message) && !/aws-swarm:/.test(e.message),
      );
      await settle();
      assert.deepStrictEqual(created.filter((r) => r.custom).map((r) => r.name), []);
    });
  }
});

describe("minimal Args through the public API", () => {
  it("deploys a service given only { name, image }", async () => {
    created.length = 0;
    const services = new Services("mini", {
      services: [{ name: "web", image: "nginx:1.27" }],
      ssh: { host: "203.0.113.10", privateKey: "key" },
    });
    assert.match(await valueOf(services.serviceIds.web), /^mini-web-id$/);
    const svc = created.find((r) => r.type === "docker:index/service:Service" && r.name === "mini-web")!;
    assert.deepStrictEqual(svc.inputs.mode, { replicated: { replicas: 1 } });
    assert.deepStrictEqual((svc.inputs.updateConfig as Record<string, unknown>).order, "start-first");
  });
});

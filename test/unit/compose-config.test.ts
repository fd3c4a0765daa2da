import * as assert from "node:assert";
import * as path from "path";
import { parseStacks } from "../../components/compose-config";
import { interpolate, parseComposeText } from "../../components/compose-file";
import { publishedOf } from "../../components/compose-keys";
import { ownedName, renderCompose } from "../../components/compose-render";
import { parse } from "yaml";

const baseDir = path.join(__dirname, "..", "fixtures", "compose");
const KEY = "aws-swarm:stacks";
const check = (composeFile: string, extra: Record<string, unknown> = {}, availableSecrets = ["db-password"]) =>
  parseStacks([{ name: "app", composeFile, ...extra }], KEY, { baseDir, availableSecrets });
const at = (file: string) => `${KEY}[0] (app): ${file}`;

describe("compose stacks: files of every shape", () => {
  it("accepts a v3 file, publishing its short-syntax ports (tcp and udp) and taking its secret from config", () => {
    const { stacks, problems } = check("v3.yml");
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(stacks[0].facts, {
      endpoints: [{ port: 8080, protocol: "tcp" }, { port: 9090, protocol: "udp" }],
      secrets: ["db-password"], secretConfigs: [], warnings: [],
    });
    assert.strictEqual((stacks[0].doc.data.services as Record<string, { image: string }>).web.image, "localhost/busybox:latest");
  });

  it("accepts a spec file with anchors, merge keys, extension fields, long ports and env interpolation", () => {
    const { stacks, problems } = check("spec.yaml", { env: { API_PORT: "8081" } });
    assert.deepStrictEqual(problems, []);
    const services = stacks[0].doc.data.services as Record<string, Record<string, unknown>>;
    assert.deepStrictEqual(services.api.deploy, { endpoint_mode: "dnsrr" });
    assert.strictEqual(services.worker.image, "localhost/busybox:latest");
    assert.deepStrictEqual(services.worker.environment, { PRICE: "$5" });
    assert.deepStrictEqual(stacks[0].facts.endpoints, [{ port: 8081, protocol: "tcp" }]);
    assert.deepStrictEqual(stacks[0].facts.warnings, ["spec.yaml:2: name is ignored; the stack is named by its name in aws-swarm:stacks."]);
  });

  const bad: [string, Record<string, unknown>, string[]][] = [
    ["bad-yaml.yml", {}, ["bad-yaml.yml:4: the file is not valid YAML (All mapping items must start at the same column); fix the syntax."]],
    ["bad-schema.yml", {}, ["bad-schema.yml:4: services.web.replicas_count is not a Compose key; remove it, fix its spelling, or prefix it with x- to keep it as an extension field."]],
    ["bad-keys.yml", {}, [
      'bad-keys.yml:4: services.web.build is ".": ignored: Swarm never builds images; build and push the image first (e.g. to the registry at 127.0.0.1:5000) and set image.',
      'bad-keys.yml:5: services.web.restart is "always": ignored: Swarm restarts tasks by deploy.restart_policy; use deploy.restart_policy (condition: on-failure | any | none).',
    ]],
    ["bad-ports.yml", {}, [
      "bad-ports.yml:5: services.web.ports[0] publishes 2377, which is reserved for SSH, the Docker API, Swarm or the registry (22, 2375, 2376, 2377, 7946, 4789, 5000); publish the service on another port.",
      "bad-ports.yml:6: services.web.ports[1] publishes 5000, which is reserved for SSH, the Docker API, Swarm or the registry (22, 2375, 2376, 2377, 7946, 4789, 5000); publish the service on another port.",
    ]],
    ["bad-privileged.yml", {}, [
      "bad-privileged.yml:4: services.agent.privileged is true, which gives the task root on its node; remove it, or set allowPrivileged: true on the stack if it really needs it.",
      'bad-privileged.yml:5: services.agent.cap_add is ["NET_ADMIN"]; added capabilities widen what a task can do to its node: remove cap_add, or set allowPrivileged: true on the stack if it really needs it.',
      'bad-privileged.yml:7: services.agent.volumes[0] bind-mounts "/var/run/docker.sock", which gives the task root on its node; remove the mount, or set allowPrivileged: true on the stack if it really needs it.',
      'bad-privileged.yml:8: services.agent.volumes[1] bind-mounts "/", which gives the task root on its node; remove the mount, or set allowPrivileged: true on the stack if it really needs it.',
    ]],
    ["bad-env.yml", {}, ["bad-env.yml:3: services.web.image uses ${TAG}, which has no value; add TAG to the stack's env, or give a default: ${TAG:-value}."]],
    ["bad-depends.yml", {}, ['bad-depends.yml:6: services.web.depends_on is {"db":{"condition":"service_healthy"}}: Swarm waits for no condition; make the service retry its dependencies, and give them a healthcheck.']],
    ["missing.yml", {}, ["missing.yml cannot be read (ENOENT); composeFile is relative to the Pulumi project directory: fix the path."]],
    ["v3.yml", {}, []],
  ];
  for (const [file, extra, want] of bad.slice(0, -1)) {
    it(`rejects ${file}, naming the file, line, key, value and fix`, () => {
      const r = check(file, extra);
      assert.deepStrictEqual(r.problems, want.map((m) => `${KEY}[0] (app): ${m}`));
      assert.deepStrictEqual(r.stacks, []);
    });
  }

  it("lets a stack that opts in run privileged tasks", () => {
    assert.deepStrictEqual(check("bad-privileged.yml", { allowPrivileged: true }).problems, []);
  });

  it("reports a secret the file defines but config does not hold", () => {
    assert.deepStrictEqual(check("v3.yml", {}, []).problems, [
      `${at("v3.yml")}:15: secrets.db-password has no value; run pulumi config set --secret aws-swarm-secrets:db-password <value>.`,
    ]);
  });

  it("rejects bad stack entries before reading any file", () => {
    const r = parseStacks([{ name: "App!", composeFile: "" }, { name: "a", composeFile: "v3.yml", env: { TAG: 1 }, extra: true }, "x"], KEY, { baseDir });
    assert.deepStrictEqual(r.problems, [
      `${KEY}[0].name is "App!"; use at most 30 lower-case letters, digits, "-" or "_", starting with a letter or digit, e.g. "shop".`,
      `${KEY}[0].composeFile is ""; set it to the compose file's path relative to the Pulumi project, e.g. "compose.yaml".`,
      `${KEY}[1].extra is not a known setting (value true); remove it or use one of: name, composeFile, env, allowPrivileged.`,
      `${KEY}[1].env is {"TAG":1}; write it as a map of variable names to strings, e.g. { TAG: "1.4" }.`,
      `${KEY}[2] is "x"; write each stack as { name: "app", composeFile: "compose.yaml" }.`,
    ]);
    assert.deepStrictEqual(parseStacks({}, KEY).problems, [`${KEY} is {}; it must be a list such as [{ name: "app", composeFile: "compose.yaml" }].`]);
  });

  it("rejects two stacks of one name", () => {
    assert.deepStrictEqual(parseStacks([{ name: "a", composeFile: "spec.yaml", env: { API_PORT: "1" } }, { name: "a", composeFile: "v3.yml" }], KEY, { baseDir }).problems, [
      `${KEY}[1].name is "a", already the name of another stack; give every stack its own name.`,
    ]);
  });
});

describe("compose interpolation", () => {
  const env = { A: "1", EMPTY: "" };
  const cases: [string, string][] = [
    ["$A-${A}", "1-1"], ["${EMPTY:-d}", "d"], ["${EMPTY-d}", ""], ["$$A", "$A"], ["a$$", "a$"],
  ];
  for (const [text, want] of cases) {
    it(`turns ${text} into ${JSON.stringify(want)}`, () => {
      const problems: string[] = [];
      assert.strictEqual(interpolate(text, env, "f:1: k", problems), want);
      assert.deepStrictEqual(problems, []);
    });
  }
  it("reports a required variable with its message, and a malformed expression", () => {
    const problems: string[] = [];
    interpolate("${NONE:?set the tag}", env, "f:1: k", problems);
    interpolate("${1x}", env, "f:2: k", problems);
    assert.deepStrictEqual(problems, [
      "f:1: k uses ${NONE} (set the tag), which has no value; add NONE to the stack's env, or give a default: ${NONE:-value}.",
      'f:2: k has "${1x}", which is not a valid interpolation; write ${NAME}, ${NAME:-default} or $$ for a literal $.',
    ]);
  });
  it("points a schema problem in a flow mapping at its own line", () => {
    const problems: string[] = [];
    parseComposeText("c.yml", "services:\n  a: {image: x}\n  b:\n    image: 3\n", {}, problems);
    assert.deepStrictEqual(problems, ["c.yml:4: services.b.image is 3, which the Compose specification rejects (must be string); fix the value, see https://github.com/compose-spec/compose-spec/blob/main/05-services.md."]);
  });
});

describe("compose ports", () => {
  const cases: [unknown, ReturnType<typeof publishedOf>][] = [
    ["80", undefined], ["8080:80", { ports: [8080], protocol: "tcp" }], ["127.0.0.1:53:53/udp", { ports: [53], protocol: "udp" }],
    ["[::1]:8443:443", { ports: [8443], protocol: "tcp" }], ["9000-9002:9000-9002", { ports: [9000, 9001, 9002], protocol: "tcp" }],
    [{ target: 80 }, undefined], [{ target: 80, published: "81", protocol: "udp" }, { ports: [81], protocol: "udp" }],
  ];
  for (const [entry, want] of cases) {
    it(`reads ${JSON.stringify(entry)}`, () => assert.deepStrictEqual(publishedOf(entry), want));
  }
});

describe("compose rendering", () => {
  const data = check("v3.yml").stacks[0].doc.data;
  it("names a secret by stack, key and content hash, and marks it external", () => {
    const { yaml, owned } = renderCompose("app", data, { secrets: { "db-password": "one" }, configs: {} });
    const doc = parse(yaml);
    assert.deepStrictEqual(doc.secrets, { "db-password": { external: true, name: ownedName("app", "db-password", "one") } });
    assert.match(owned[0].name, /^app_db-password_[0-9a-f]{12}$/);
    assert.ok(!yaml.includes("one"), "the value is in the file");
    assert.strictEqual(doc.version, "3.8");
  });
  it("gives a changed value a new name, and the same value the same name", () => {
    assert.notStrictEqual(ownedName("app", "k", "one"), ownedName("app", "k", "two"));
    assert.strictEqual(ownedName("app", "k", "one"), ownedName("app", "k", "one"));
  });
  it("escapes $ so the manager's CLI does not interpolate again, and drops ignored keys", () => {
    const spec = check("spec.yaml", { env: { API_PORT: "8081" } }).stacks[0].doc.data;
    const doc = parse(renderCompose("app", spec, { secrets: {}, configs: {} }).yaml);
    assert.strictEqual(doc.services.worker.environment.PRICE, "$$5");
    assert.strictEqual(doc.services.api.ports[0].published, 8081);
    assert.strictEqual(doc.name, undefined);
    assert.deepStrictEqual(doc.configs["app-config"].external, true);
  });
});

import * as assert from "node:assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { SwarmBootstrap, SwarmHost } from "../../components/bootstrap";
import {
  DOCKER_ACCESS_SCRIPT,
  dockerSshOptions,
  keyFilePath,
  Services,
  ServicesArgs,
} from "../../components/services";
import { parseServices, ServiceSpec } from "../../components/services-config";
import {
  created,
  isWrappedSecret,
  KEY_DIR,
  recordedUnder,
  registeredOutputs,
  settle,
  unwrapSecret,
  valueOf,
} from "../helpers/mocks";

type Recorded = pulumi.runtime.MockResourceArgs;

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-services-test-key\n-----END OPENSSH PRIVATE KEY-----\n";
const DB_PASSWORD = "correct horse battery staple";
const API_TOKEN = "tok-5f0e1c2d3b4a";
const base64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const SERVICES: ServiceSpec[] = parseServices([
  { name: "web", image: "nginx:1.27", replicas: 8, ports: [{ published: 80, target: 80 }] },
  {
    name: "api",
    image: "127.0.0.1:5000/api:1.0",
    ports: [{ published: 8080, target: 3000 }, { published: 5353, target: 53, protocol: "udp" }],
    env: { LOG_LEVEL: "info" },
    secrets: ["db-password", "api-token"],
    constraints: ["node.role==worker"],
    networks: ["backend", "swarm-overlay"],
    update: { parallelism: 2, order: "stop-first", failureAction: "pause", delay: "10s" },
  },
  { name: "worker", image: "127.0.0.1:5000/worker:1.0", replicas: 0, secrets: ["db-password"], networks: ["backend"] },
  { name: "agent", image: "127.0.0.1:5000/agent:1.0", global: true, rebalance: false },
]).services;

function args(extra: Partial<ServicesArgs> = {}): ServicesArgs {
  return {
    services: SERVICES,
    secrets: { "db-password": pulumi.secret(DB_PASSWORD), "api-token": API_TOKEN },
    ssh: { host: "198.51.100.10", user: "ec2-user", privateKey: pulumi.secret(PRIVATE_KEY) },
    ...extra,
  };
}

async function build(prefix: string, extra: Partial<ServicesArgs> = {}): Promise<Recorded[]> {
  const services = new Services(prefix, args(extra));
  // Services register last (after networks and secrets), so their IDs mean everything is in.
  await valueOf(pulumi.all(Object.values(services.serviceIds)));
  return recordedUnder(prefix);
}

const ofType = (rs: Recorded[], type: string) => rs.filter((r) => r.type === type);
const byName = (rs: Recorded[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `no resource ${name}; have ${rs.map((x) => x.name).join(", ")}`);
  return r;
};
const NETWORK = "docker:index/network:Network";
const SECRET = "docker:index/secret:Secret";
const SERVICE = "docker:index/service:Service";
const PROVIDER = "pulumi:providers:docker";

/** Provider inputs reach the engine JSON-encoded when they are not strings. */
const sshOptsOf = (provider: Recorded): unknown => JSON.parse(String(unwrapSecret(provider.inputs.sshOpts)));

describe("Services", () => {
  let recorded: Recorded[];
  before(async () => {
    created.length = 0;
    recorded = await build("svc");
  });

  it("creates one attachable, encrypted overlay network per network name", () => {
    assert.deepStrictEqual(
      ofType(recorded, NETWORK).map((n) => [n.name, n.inputs]).sort(),
      [
        ["svc-net-backend", { name: "backend", driver: "overlay", attachable: true, options: { encrypted: "true" }, labels: [{ label: "aws-swarm.encrypted", value: "true" }] }],
        ["svc-net-swarm-overlay", { name: "swarm-overlay", driver: "overlay", attachable: true, options: { encrypted: "true" }, labels: [{ label: "aws-swarm.encrypted", value: "true" }] }],
      ],
    );
  });

  it("creates one Docker secret per secret name, named by Pulumi so a new value can replace it", () => {
    const secrets = ofType(recorded, SECRET);
    assert.deepStrictEqual(secrets.map((s) => s.name).sort(), ["svc-secret-api-token", "svc-secret-db-password"]);
    assert.ok(secrets.every((s) => s.inputs.name === undefined));
  });

  it("passes each secret value base64-encoded and wrapped as a secret, even when given in plain text", () => {
    const data = (name: string) => byName(recorded, name).inputs.data;
    assert.ok(isWrappedSecret(data("svc-secret-db-password")));
    assert.ok(isWrappedSecret(data("svc-secret-api-token")));
    assert.strictEqual(unwrapSecret(data("svc-secret-db-password")), base64(DB_PASSWORD));
    assert.strictEqual(unwrapSecret(data("svc-secret-api-token")), base64(API_TOKEN));
  });

  it("puts no secret value, encoded or not, and no private key in any other input", () => {
    const needles = [DB_PASSWORD, base64(DB_PASSWORD), API_TOKEN, base64(API_TOKEN), "mock-services-test-key"];
    for (const r of recorded) {
      const { data, connection, ...rest } = r.inputs;
      if (r.type !== SECRET) assert.strictEqual(data, undefined, r.name);
      // The docker-access command's connection carries the key, wrapped as a secret.
      if (connection !== undefined) assert.ok(isWrappedSecret(connection), `${r.name} connection is not secret`);
      const text = JSON.stringify(rest);
      for (const needle of needles) assert.ok(!text.includes(needle), `${r.name} contains a secret value`);
    }
  });

  it("creates one service per entry in replicated or global mode", () => {
    assert.deepStrictEqual(
      ofType(recorded, SERVICE).map((s) => [s.name, s.inputs.name, s.inputs.mode]).sort(),
      [
        ["svc-agent", "agent", { global: true }],
        ["svc-api", "api", { replicated: { replicas: 1 } }],
        ["svc-web", "web", { replicated: { replicas: 8 } }],
        ["svc-worker", "worker", { replicated: { replicas: 0 } }],
      ],
    );
  });

  it("rolls updates one task at a time, start-first, rolling back on failure, by default", () => {
    const web = byName(recorded, "svc-web").inputs;
    assert.deepStrictEqual(web.updateConfig, { parallelism: 1, order: "start-first", failureAction: "rollback" });
    assert.deepStrictEqual(web.rollbackConfig, { parallelism: 1, order: "start-first", failureAction: "pause" });
  });

  it("uses a service's own update settings, for rollbacks too", () => {
    const api = byName(recorded, "svc-api").inputs;
    assert.deepStrictEqual(api.updateConfig, { parallelism: 2, order: "stop-first", failureAction: "pause", delay: "10s" });
    assert.deepStrictEqual(api.rollbackConfig, { parallelism: 2, order: "stop-first", failureAction: "pause", delay: "10s" });
  });

  it("publishes ports in ingress mode so every node routes them to a task", () => {
    assert.deepStrictEqual(byName(recorded, "svc-api").inputs.endpointSpec, {
      mode: "vip",
      ports: [
        { protocol: "tcp", publishMode: "ingress", publishedPort: 8080, targetPort: 3000 },
        { protocol: "udp", publishMode: "ingress", publishedPort: 5353, targetPort: 53 },
      ],
    });
    assert.deepStrictEqual(byName(recorded, "svc-agent").inputs.endpointSpec, { mode: "vip", ports: [] });
  });

  it("spreads replicated tasks over AZs by default and keeps constraints", () => {
    const placement = (name: string) => (byName(recorded, name).inputs.taskSpec as Record<string, unknown>).placement;
    assert.deepStrictEqual(placement("svc-web"), { constraints: [], prefs: ["spread=node.labels.az"] });
    assert.deepStrictEqual(placement("svc-api"), { constraints: ["node.role==worker"], prefs: ["spread=node.labels.az"] });
    assert.deepStrictEqual(placement("svc-agent"), { constraints: [], prefs: [] });
  });

  it("labels each service with whether the bootstrap may rebalance it", () => {
    const labels = (name: string) => byName(recorded, name).inputs.labels;
    assert.deepStrictEqual(labels("svc-web"), [{ label: "aws-swarm.rebalance", value: "true" }]);
    assert.deepStrictEqual(labels("svc-agent"), [{ label: "aws-swarm.rebalance", value: "false" }]);
  });

  it("attaches services to their networks by ID and mounts their secrets by name", () => {
    const task = byName(recorded, "svc-api").inputs.taskSpec as Record<string, Record<string, unknown>>;
    assert.deepStrictEqual(task.networksAdvanceds, [{ id: "svc-net-backend-id" }, { id: "svc-net-swarm-overlay-id" }]);
    assert.deepStrictEqual(task.containerSpec, {
      image: "127.0.0.1:5000/api:1.0",
      env: { LOG_LEVEL: "info" },
      secrets: [
        { secretId: "svc-secret-db-password-id", secretName: "svc-secret-db-password-a1b2c3d", fileName: "db-password" },
        { secretId: "svc-secret-api-token-id", secretName: "svc-secret-api-token-a1b2c3d", fileName: "api-token" },
      ],
    });
  });

  it("waits for replicated services with tasks to converge, and only for those", () => {
    assert.deepStrictEqual(
      ofType(recorded, SERVICE).filter((s) => s.inputs.convergeConfig !== undefined).map((s) => s.name).sort(),
      ["svc-api", "svc-web"],
    );
    assert.deepStrictEqual(byName(recorded, "svc-web").inputs.convergeConfig, { delay: "7s", timeout: "5m" });
  });

  it("creates every Docker resource through its own provider", () => {
    const docker = recorded.filter((r) => r.type.startsWith("docker:"));
    assert.strictEqual(docker.length, 8);
    for (const r of docker) {
      assert.match(String(r.provider), /:Services\$pulumi:providers:docker::svc-docker::svc-docker-id$/, r.name);
    }
  });

  it("reaches the manager over ssh:// with the key in a 0600 file that only the path points to", async () => {
    const provider = byName(recorded, "svc-docker");
    const file = keyFilePath(KEY_DIR, "svc");
    assert.strictEqual(provider.inputs.host, "ssh://ec2-user@198.51.100.10:22");
    assert.ok(isWrappedSecret(provider.inputs.sshOpts), "sshOpts derive from the key, so they stay secret");
    assert.deepStrictEqual(sshOptsOf(provider), dockerSshOptions({ keyFile: file }));
    assert.ok(!JSON.stringify(provider.inputs).includes("mock-services-test-key"));
    assert.strictEqual(fs.readFileSync(file, "utf8"), PRIVATE_KEY);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
  });

  it("lets the SSH user use Docker first, with the same connection", () => {
    const access = byName(recorded, "svc-docker-access");
    assert.strictEqual(access.inputs.create, DOCKER_ACCESS_SCRIPT);
    const conn = unwrapSecret(access.inputs.connection) as Record<string, unknown>;
    assert.deepStrictEqual([conn.host, conn.user, conn.port, unwrapSecret(conn.privateKey)], ["198.51.100.10", "ec2-user", 22, PRIVATE_KEY]);
    assert.strictEqual(conn.proxy, undefined);
  });

  it("registers its outputs", () => {
    assert.deepStrictEqual(Object.keys(registeredOutputs.get("svc") ?? {}).sort(), ["networkIds", "provider", "secretNames", "serviceIds"]);
  });

  describe("options", () => {
    beforeEach(() => {
      created.length = 0;
    });

    it("leaves overlays unencrypted when encryptedOverlay is false, and labels them so", async () => {
      const rs = await build("svc-plain", { encryptedOverlay: false });
      for (const n of ofType(rs, NETWORK)) {
        assert.deepStrictEqual([n.inputs.options, n.inputs.labels], [{}, [{ label: "aws-swarm.encrypted", value: "false" }]]);
      }
    });

    it("signs with the ssh-agent and writes no key file when there is no private key", async () => {
      const rs = await build("svc-agent", { ssh: { host: "198.51.100.11", user: "admin", agentSocketPath: "/run/agent.sock" } });
      const provider = byName(rs, "svc-agent-docker");
      assert.deepStrictEqual(sshOptsOf(provider), dockerSshOptions({ agentSocketPath: "/run/agent.sock" }));
      assert.ok(!isWrappedSecret(provider.inputs.sshOpts));
      assert.ok(!fs.existsSync(keyFilePath(KEY_DIR, "svc-agent")));
      const conn = unwrapSecret(byName(rs, "svc-agent-docker-access").inputs.connection) as Record<string, unknown>;
      assert.deepStrictEqual([conn.agentSocketPath, conn.privateKey], ["/run/agent.sock", undefined]);
    });

    it("jumps through the bastion for private managers", async () => {
      const rs = await build("svc-jump", {
        ssh: { host: "10.0.1.5", user: "ec2-user", privateKey: pulumi.secret(PRIVATE_KEY), jumpHost: "203.0.113.9" },
      });
      const file = keyFilePath(KEY_DIR, "svc-jump");
      const opts = sshOptsOf(byName(rs, "svc-jump-docker"));
      assert.deepStrictEqual(opts, dockerSshOptions({ keyFile: file }, { host: "203.0.113.9", user: "ec2-user", port: 22 }));
      const conn = unwrapSecret(byName(rs, "svc-jump-docker-access").inputs.connection) as Record<string, Record<string, unknown>>;
      assert.deepStrictEqual([conn.proxy.host, conn.proxy.user], ["203.0.113.9", "ec2-user"]);
    });
  });

  describe("ssh options", () => {
    const common = [
      "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
      "-o", "ConnectTimeout=30", "-o", "ServerAliveInterval=30",
    ];

    it("uses only the key file when one is given", () => {
      assert.deepStrictEqual(dockerSshOptions({ keyFile: "/k/a.key", agentSocketPath: "/s" }), [
        ...common, "-i", "/k/a.key", "-o", "IdentitiesOnly=yes",
      ]);
    });

    it("leaves identity to ssh's defaults when neither key nor agent is given", () => {
      assert.deepStrictEqual(dockerSshOptions({}), common);
    });

    it("quotes every word of the ProxyCommand, since ssh runs it through a shell", () => {
      const opts = dockerSshOptions({ keyFile: "/my keys/a.key" }, { host: "203.0.113.9", user: "ec2-user", port: 2222 });
      assert.strictEqual(
        opts[opts.length - 1],
        "ProxyCommand='ssh' '-o' 'StrictHostKeyChecking=no' '-o' 'UserKnownHostsFile=/dev/null' '-o' 'LogLevel=ERROR' " +
          "'-o' 'ConnectTimeout=30' '-o' 'ServerAliveInterval=30' '-i' '/my keys/a.key' '-o' 'IdentitiesOnly=yes' " +
          "'-p' '2222' '-W' '%h:%p' 'ec2-user@203.0.113.9'",
      );
    });
  });

  describe("ordering", () => {
    it("talks to Docker only after the bootstrap's last member command", async () => {
      created.length = 0;
      const host = (name: string, ip: string): SwarmHost => ({
        name,
        privateIp: ip,
        connection: { host: ip, user: "root", privateKey: pulumi.secret("KEY") },
      });
      const boot = new SwarmBootstrap("ord", {
        managers: [host("manager-1", "10.8.0.10")],
        workers: [host("worker-1", "10.8.0.20"), host("worker-2", "10.8.0.21")],
      });
      const services = new Services("ord-svc", args({ dependsOn: [boot.ready] }));
      await valueOf(pulumi.all(Object.values(services.serviceIds)));
      await recordedUnder("ord-svc");
      const index = (pred: (r: Recorded) => boolean) => created.map((r, i) => (pred(r) ? i : -1)).filter((i) => i >= 0);
      const lastMember = Math.max(...index((r) => /^ord-.*-member$/.test(r.name)));
      const [access] = index((r) => r.name === "ord-svc-docker-access");
      const [provider] = index((r) => r.type === PROVIDER);
      const firstDocker = Math.min(...index((r) => r.type.startsWith("docker:")));
      assert.strictEqual(index((r) => /^ord-.*-member$/.test(r.name)).length, 3);
      assert.ok(lastMember < access && access < provider && provider < firstDocker, `order: ${[lastMember, access, provider, firstDocker]}`);
    });
  });

  describe("validation", () => {
    beforeEach(() => {
      created.length = 0;
    });

    it("rejects bad services before creating anything, naming each problem", async () => {
      const bad = [{ ...SERVICES[0], replicas: 2000, ports: [{ published: 22, target: 22, protocol: "tcp" as const }] }];
      assert.throws(() => new Services("bad", args({ services: bad })), (e: Error) => {
        assert.strictEqual(
          e.message,
          "- services[0].replicas is 2000; use a whole number of tasks from 0 to 1000.\n" +
            "- services[0].ports[0].published is 22, which is reserved for SSH, the Docker API, Swarm or the registry " +
            "(22, 2375, 2376, 2377, 7946, 4789, 5000); publish the service on another port.",
        );
        return true;
      });
      await settle();
      assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith("bad")), []);
    });

    it("rejects a secret that has no value", () => {
      assert.throws(
        () => new Services("nosecret", args({ secrets: { "db-password": "x" } })),
        /^Error: services\[1\]\.secrets\[1\] is "api-token", but that secret has no value; pass its value as secrets\["api-token"\]\.$/,
      );
    });

    it("rejects an empty service list", () => {
      assert.throws(() => new Services("empty", args({ services: [] })), /services is \[\]; list at least one service/);
    });

    it("rejects a secret whose Docker name would be too long", () => {
      const long = "x".repeat(30);
      const services = parseServices([{ name: "web", image: "nginx", secrets: [long] }]).services;
      assert.throws(
        () => new Services("a-rather-long-component-name", args({ services, secrets: { [long]: "v" } })),
        /secret "x{30}" makes the Docker secret name "a-rather-long-component-name-secret-x{30}" longer than 56 characters; use a shorter secret or component name\./,
      );
    });

    it("rejects a relative key directory", () => {
      assert.throws(() => new Services("reldir", args({ keyDirectory: "keys" })), /keyDirectory is "keys"; use an absolute path/);
    });
  });
});

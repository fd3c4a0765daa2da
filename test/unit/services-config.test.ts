import * as assert from "node:assert";
import { parseStackConfig } from "../../config";
import {
  networkNames,
  parseServices,
  publishedEndpoints,
  RESERVED_PORTS,
  secretNames,
  ServiceSpec,
  servicesProblems,
} from "../../components/services-config";

const KEY = "aws-swarm:services";
const problems = (value: unknown, availableSecrets?: string[]) =>
  servicesProblems(value, availableSecrets ? { availableSecrets } : {});
const one = (service: Record<string, unknown>) => problems([{ name: "web", image: "nginx:1.27", ...service }]);

const WEB_DEFAULTS: ServiceSpec = {
  name: "web",
  image: "nginx:1.27",
  replicas: 1,
  global: false,
  ports: [],
  env: {},
  secrets: [],
  constraints: [],
  placementPreferences: ["spread=node.labels.az"],
  update: { parallelism: 1, order: "start-first", failureAction: "rollback" },
  networks: ["swarm-overlay"],
  rebalance: true,
};

describe("service config", () => {
  describe("defaults", () => {
    it("resolves every default from a name and an image", () => {
      assert.deepStrictEqual(parseServices([{ name: "web", image: "nginx:1.27" }]), {
        services: [WEB_DEFAULTS],
        problems: [],
      });
    });

    it("gives a global service no replica count and no placement preference", () => {
      const { services } = parseServices([{ name: "agent", image: "agent:1", global: true }]);
      const { replicas, ...replicated } = WEB_DEFAULTS;
      assert.strictEqual(replicas, 1);
      assert.deepStrictEqual(services, [
        { ...replicated, name: "agent", image: "agent:1", global: true, placementPreferences: [] },
      ]);
    });

    it("defaults a port's protocol to tcp and keeps every field given", () => {
      const { services, problems: found } = parseServices([{
        name: "api",
        image: "127.0.0.1:5000/api:1.0",
        replicas: 0,
        ports: [{ published: 8080, target: 3000 }, { published: 5353, target: 53, protocol: "udp" }],
        env: { LOG_LEVEL: "info" },
        secrets: ["db-password"],
        constraints: [" node.role==worker "],
        placementPreferences: [],
        update: { parallelism: 2, order: "stop-first", failureAction: "pause", delay: "10s" },
        networks: ["backend", "backend", "frontend"],
        rebalance: false,
      }]);
      assert.deepStrictEqual(found, []);
      assert.deepStrictEqual(services, [{
        name: "api",
        image: "127.0.0.1:5000/api:1.0",
        replicas: 0,
        global: false,
        ports: [{ published: 8080, target: 3000, protocol: "tcp" }, { published: 5353, target: 53, protocol: "udp" }],
        env: { LOG_LEVEL: "info" },
        secrets: ["db-password"],
        constraints: ["node.role==worker"],
        placementPreferences: [],
        update: { parallelism: 2, order: "stop-first", failureAction: "pause", delay: "10s" },
        networks: ["backend", "frontend"],
        rebalance: false,
      }]);
    });

    it("accepts a resolved service again, so components can re-check what config.ts produced", () => {
      const { services } = parseServices([
        { name: "web", image: "nginx:1.27", ports: [{ published: 80, target: 80 }] },
        { name: "agent", image: "agent:1", global: true },
      ]);
      assert.deepStrictEqual(problems(services), []);
    });

    it("treats a missing list as no services", () => {
      assert.deepStrictEqual(parseServices(undefined), { services: [], problems: [] });
    });
  });

  describe("errors name the setting, the value and the fix", () => {
    it("rejects a value that is not a list", () => {
      assert.deepStrictEqual(problems({ name: "web" }), [
        `${KEY} is {"name":"web"}; it must be a list of services, e.g. [{ name: "web", image: "nginx:1.27" }].`,
      ]);
    });

    it("rejects an entry that is not an object", () => {
      assert.deepStrictEqual(problems(["web"]), [
        `${KEY}[0] is "web"; write each service as { name: "web", image: "nginx:1.27" }.`,
      ]);
    });

    it("rejects unknown fields, naming the allowed ones", () => {
      assert.deepStrictEqual(one({ replica: 3 }), [
        `${KEY}[0].replica is not a known setting (value 3); remove it or use one of: name, image, replicas, ` +
          "global, ports, env, secrets, constraints, placementPreferences, update, networks, logging, rebalance.",
      ]);
    });

    for (const name of ["web.api", "-web", "web-", "", "a".repeat(64), 7]) {
      it(`rejects the service name ${JSON.stringify(name)}`, () => {
        assert.deepStrictEqual(problems([{ name, image: "nginx" }]), [
          `${KEY}[0].name is ${JSON.stringify(name)}; use at most 63 letters and digits, with "-" or "_" only between them, e.g. "web-api".`,
        ]);
      });
    }

    it("accepts Swarm's own name rules: letters, digits, inner - and _", () => {
      assert.deepStrictEqual(problems([{ name: "Web_api-2", image: "nginx" }, { name: "a".repeat(63), image: "nginx" }]), []);
    });

    it("rejects a missing or upper-case image", () => {
      assert.deepStrictEqual(problems([{ name: "a" }, { name: "b", image: "Nginx" }]), [
        `${KEY}[0].image is unset, which is not an image reference; use a lower-case name with an optional tag or digest, such as "nginx:1.27" or "127.0.0.1:5000/app:1.0".`,
        `${KEY}[1].image is "Nginx", which is not an image reference; use a lower-case name with an optional tag or digest, such as "nginx:1.27" or "127.0.0.1:5000/app:1.0".`,
      ]);
    });

    for (const replicas of [-1, 1001, 1.5, "3"]) {
      it(`rejects replicas ${JSON.stringify(replicas)}`, () => {
        assert.deepStrictEqual(one({ replicas }), [
          `${KEY}[0].replicas is ${JSON.stringify(replicas)}; use a whole number of tasks from 0 to 1000.`,
        ]);
      });
    }

    it("rejects replicas together with global", () => {
      assert.deepStrictEqual(one({ global: true, replicas: 3 }), [
        `${KEY}[0].replicas is 3, but global is true and a global service runs one task per node; remove replicas or global.`,
      ]);
    });

    it("rejects a global that is not a boolean", () => {
      assert.deepStrictEqual(one({ global: "yes" }), [
        `${KEY}[0].global is "yes"; use true (one task on every node) or leave it out.`,
      ]);
    });

    it("rejects placement preferences on a global service", () => {
      assert.deepStrictEqual(one({ global: true, placementPreferences: ["spread=node.labels.az"] }), [
        `${KEY}[0].placementPreferences is ["spread=node.labels.az"], but a global service runs one task on every node; remove placementPreferences, or use constraints to choose the nodes.`,
      ]);
    });

    for (const [port, field] of [[0, "published"], [65536, "published"], [2.5, "target"], ["80", "target"]] as const) {
      it(`rejects ${field} port ${JSON.stringify(port)}`, () => {
        const ports = [{ published: 80, target: 80, [field]: port }];
        const what = field === "published" ? "the port opened on every node and on the load balancer" : "the port the container listens on";
        assert.deepStrictEqual(one({ ports }), [
          `${KEY}[0].ports[0].${field} is ${JSON.stringify(port)}; set it to ${what}, a whole number from 1 to 65535.`,
        ]);
      });
    }

    it("rejects a protocol other than tcp or udp, and unknown port fields", () => {
      assert.deepStrictEqual(one({ ports: [{ published: 80, target: 80, protocol: "sctp", mode: "host" }] }), [
        `${KEY}[0].ports[0].mode is not a known setting (value "host"); remove it or use one of: published, target, protocol.`,
        `${KEY}[0].ports[0].protocol is "sctp"; use "tcp" or "udp".`,
      ]);
    });

    for (const port of RESERVED_PORTS) {
      it(`rejects publishing the reserved port ${port}`, () => {
        assert.deepStrictEqual(one({ ports: [{ published: port, target: 80, protocol: "udp" }] }), [
          `${KEY}[0].ports[0].published is ${port}, which is reserved for SSH, the Docker API, Swarm or the registry (22, 2375, 2376, 2377, 7946, 4789, 5000); publish the service on another port.`,
        ]);
      });
    }

    it("allows a reserved number as the container's target port", () => {
      assert.deepStrictEqual(one({ ports: [{ published: 2222, target: 22 }] }), []);
    });

    it("rejects a port and protocol published twice, across and within services", () => {
      assert.deepStrictEqual(problems([
        { name: "a", image: "x", ports: [{ published: 80, target: 80 }, { published: 80, target: 81, protocol: "udp" }] },
        { name: "b", image: "x", ports: [{ published: 80, target: 8080, protocol: "tcp" }] },
        { name: "c", image: "x", ports: [{ published: 53, target: 53, protocol: "udp" }, { published: 53, target: 54, protocol: "udp" }] },
      ]), [
        `${KEY}[1].ports[0].published is 80, but 80/tcp is already published by ${KEY}[0].ports[0].published; a swarm publishes each port and protocol once: pick another port.`,
        `${KEY}[2].ports[1].published is 53, but 53/udp is already published by ${KEY}[2].ports[0].published; a swarm publishes each port and protocol once: pick another port.`,
      ]);
    });

    it("rejects duplicate service names", () => {
      assert.deepStrictEqual(problems([{ name: "web", image: "a" }, { name: "api", image: "b" }, { name: "web", image: "c" }]), [
        `${KEY}[2].name is "web", already the name of ${KEY}[0]; give every service its own name.`,
      ]);
    });

    it("rejects env that is not a map of valid names to strings", () => {
      assert.deepStrictEqual(one({ env: { "1BAD": "x", PORT: 8080 } }), [
        `${KEY}[0].env names the variable "1BAD"; use letters, digits and "_", not starting with a digit.`,
        `${KEY}[0].env.PORT is 8080; quote it so it is a string, e.g. "8080".`,
      ]);
      assert.deepStrictEqual(one({ env: ["A=1"] }), [
        `${KEY}[0].env is ["A=1"]; write it as a map of names to strings, e.g. { LOG_LEVEL: "info" }.`,
      ]);
    });

    it("rejects bad secret names, and a secret listed twice", () => {
      assert.deepStrictEqual(one({ secrets: ["db password", "db", "db", 3] }), [
        `${KEY}[0].secrets[0] is "db password"; name a secret with at most 32 letters, digits, "-", "_" or ".", starting and ending with a letter or digit.`,
        `${KEY}[0].secrets[2] is "db", which is listed twice; list each secret once.`,
        `${KEY}[0].secrets[3] is 3; it must be a string.`,
      ]);
    });

    it("rejects a secret map, asking for a list of names", () => {
      assert.deepStrictEqual(one({ secrets: { db: "x" } }), [
        `${KEY}[0].secrets is {"db":"x"}; it must be a list of strings, e.g. ["db-password"].`,
      ]);
    });

    it("reports a secret without a value, with the command that sets it", () => {
      assert.deepStrictEqual(problems([{ name: "api", image: "x", secrets: ["db-password", "api-key"] }], ["api-key"]), [
        `${KEY}[0].secrets[0] is "db-password", but that secret has no value; run pulumi config set --secret aws-swarm-secrets:db-password <value>.`,
      ]);
    });

    it("rejects malformed constraints and preferences", () => {
      assert.deepStrictEqual(one({ constraints: ["node.role=worker"], placementPreferences: ["node.labels.az"] }), [
        `${KEY}[0].constraints[0] is "node.role=worker"; write a constraint as <attribute>==<value> or <attribute>!=<value>, e.g. "node.role==worker".`,
        `${KEY}[0].placementPreferences[0] is "node.labels.az"; write a preference as spread=<node attribute>, e.g. "spread=node.labels.az".`,
      ]);
    });

    it("rejects every bad update setting at once", () => {
      assert.deepStrictEqual(one({ update: { parallelism: -1, order: "random", failureAction: "retry", delay: "10", pause: true } }), [
        `${KEY}[0].update.pause is not a known setting (value true); remove it or use one of: parallelism, order, failureAction, delay.`,
        `${KEY}[0].update.parallelism is -1; use the number of tasks to update at once, from 0 (all at once) to 1000.`,
        `${KEY}[0].update.order is "random"; use "start-first" (no gap in service) or "stop-first".`,
        `${KEY}[0].update.failureAction is "retry"; use "rollback", "pause" or "continue".`,
        `${KEY}[0].update.delay is "10"; use a duration such as "10s", "500ms" or "1m".`,
      ]);
    });

    it("rejects bad network names", () => {
      assert.deepStrictEqual(one({ networks: ["back end"] }), [
        `${KEY}[0].networks[0] is "back end"; name an overlay network with at most 63 letters and digits, "-" or "_" only between them, e.g. "swarm-overlay".`,
      ]);
    });

    it("names the setting it was given as the key", () => {
      assert.deepStrictEqual(servicesProblems([{ name: "web" }], { key: "services" }), [
        `services[0].image is unset, which is not an image reference; use a lower-case name with an optional tag or digest, such as "nginx:1.27" or "127.0.0.1:5000/app:1.0".`,
      ]);
    });

    it("keeps the valid services when others are wrong", () => {
      const { services, problems: found } = parseServices([{ name: "web", image: "nginx:1.27" }, { name: "x" }]);
      assert.deepStrictEqual([services.map((s) => s.name), found.length], [["web"], 1]);
    });
  });

  describe("derived lists", () => {
    const { services } = parseServices([
      { name: "web", image: "a", ports: [{ published: 8080, target: 80 }, { published: 53, target: 53, protocol: "udp" }], networks: ["front"] },
      { name: "dns", image: "b", ports: [{ published: 53, target: 53 }], secrets: ["z-key", "a-key"] },
      { name: "api", image: "c", secrets: ["a-key"], networks: ["front", "back"] },
    ]);

    it("lists each published port and protocol once, by port then protocol", () => {
      assert.deepStrictEqual(publishedEndpoints(services), [
        { port: 53, protocol: "tcp" }, { port: 53, protocol: "udp" }, { port: 8080, protocol: "tcp" },
      ]);
    });

    it("lists each secret and network once, sorted", () => {
      assert.deepStrictEqual(secretNames(services), ["a-key", "z-key"]);
      assert.deepStrictEqual(networkNames(services), ["back", "front", "swarm-overlay"]);
    });
  });

  describe("in the stack config", () => {
    const base = { "aws-swarm:sshAllowedCidrs": '["203.0.113.0/24"]' };

    it("returns typed services with defaults resolved", () => {
      const { config, problems: found } = parseStackConfig({
        ...base,
        [KEY]: JSON.stringify([{ name: "web", image: "nginx:1.27" }]),
      });
      assert.deepStrictEqual(found, []);
      assert.deepStrictEqual(config?.services, [WEB_DEFAULTS]);
    });

    it("requires every listed secret under aws-swarm-secrets, and does not count other namespaces", () => {
      const services = JSON.stringify([{ name: "api", image: "x", secrets: ["db-password", "api-key"] }]);
      const { problems: found } = parseStackConfig({
        ...base,
        [KEY]: services,
        "aws-swarm-secrets:api-key": "k",
        "other:db-password": "p",
      }, () => true);
      assert.deepStrictEqual(found, [
        `${KEY}[0].secrets[0] is "db-password", but that secret has no value; run pulumi config set --secret aws-swarm-secrets:db-password <value>.`,
      ]);
    });

    it("does not report the secrets namespace as unknown aws-swarm keys", () => {
      const services = JSON.stringify([{ name: "api", image: "x", secrets: ["db-password"] }]);
      assert.deepStrictEqual(parseStackConfig({ ...base, [KEY]: services, "aws-swarm-secrets:db-password": "p" }, () => true).problems, []);
    });

    it("reports service problems together with other keys' problems", () => {
      const { problems: found } = parseStackConfig({ ...base, "aws-swarm:managerCount": "2", [KEY]: '[{"name":"web"}]' });
      assert.deepStrictEqual(found.length, 2);
      assert.match(found[1], /^aws-swarm:services\[0\]\.image is unset, which is not an image reference; /);
    });

    it("rejects services that are not JSON", () => {
      assert.deepStrictEqual(parseStackConfig({ ...base, [KEY]: "web" }).problems, [
        `${KEY} is "web", a plain string, but it must be a list; set it entry by entry: pulumi config rm ${KEY} && pulumi config set --path '${KEY}[0].name' web.`,
      ]);
    });
  });
});

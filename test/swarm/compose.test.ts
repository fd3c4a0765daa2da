import * as assert from "node:assert";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ComposeStack } from "../../components/compose";
import { SwarmBootstrap } from "../../components/bootstrap";
import { Lab } from "./lab";
import { CommandFailed, SwarmHarness } from "./harness";
import { eventually, labHost, settled } from "./cluster";

/**
 * A compose stack on a real swarm: ComposeStack's deploy and delete steps run over SSH on lab
 * hosts (1 manager, 2 workers). Host-mode ports and dnsrr, since the lab kernel has no IPVS.
 */
const COMPOSE = `
services:
  web:
    image: localhost/busybox:\${TAG}
    command: ["sh", "-c", "mkdir -p /www && cp /run/secrets/token /www/index.html && exec httpd -f -p 8080 -h /www"]
    networks: [front]
    secrets: [token]
    ports:
      - target: 8080
        published: 18080
        mode: host
    deploy:
      mode: global
      endpoint_mode: dnsrr
      update_config: &fast { parallelism: 3, monitor: 2s }
  backend:
    image: localhost/busybox:\${TAG}
    command: ["sleep", "100000"]
    networks: [front]
    deploy:
      replicas: \${REPLICAS}
      endpoint_mode: dnsrr
      update_config: *fast
networks:
  front:
    driver: overlay
secrets:
  token: {}
`;

describe("ComposeStack on a real swarm", function () {
  const lab = new Lab({ name: "cmp", net: "10.246.0" });
  const harness = new SwarmHarness();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-lab-"));
  fs.writeFileSync(path.join(dir, "compose.yaml"), COMPOSE);
  const hosts = [1, 2, 3];

  const deploy = (stack?: { tag: string; replicas: number; token: string }) =>
    harness.deploy(() => {
      const bootstrap = new SwarmBootstrap("lab", {
        managers: [labHost(lab, 1, "manager-1")],
        workers: [labHost(lab, 2, "worker-1"), labHost(lab, 3, "worker-2")],
        dockerWaitSeconds: 60,
        drainSeconds: 30,
      });
      if (!stack) return bootstrap.ready.apply(() => "");
      const compose = new ComposeStack("shop", {
        composeFile: "compose.yaml",
        baseDir: dir,
        env: { TAG: stack.tag, REPLICAS: String(stack.replicas) },
        secrets: { token: pulumi.secret(stack.token) },
        manager: labHost(lab, 1, "manager-1").connection,
        dependsOn: [bootstrap.ready],
        dockerWaitSeconds: 60,
        waitSeconds: 120,
      });
      return pulumi.all([bootstrap.ready, compose.services]).apply(([, services]) => services);
    });

  const answers = () => Promise.all(hosts.map((i) => get(`http://${lab.addr(i)}:18080/`)));
  const images = async () =>
    (await lab.exec(1, "docker service ls --filter label=com.docker.stack.namespace=shop --format '{{.Name}} {{.Image}} {{.Replicas}}'"))
      .stdout.trim().split("\n").sort();
  const secrets = async () => (await lab.exec(1, "docker secret ls --format '{{.Name}}'")).stdout.trim().split("\n").filter(Boolean);

  before(async () => {
    await lab.up(3);
  });
  after(async () => {
    harness.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    await lab.down();
  });

  it("deploys two services on an overlay network with a secret and a port that answers on every node", async () => {
    const r = await deploy({ tag: "latest", replicas: 1, token: "first-token" });
    await settled(lab, 1, 3);
    assert.deepStrictEqual(r.value.split("\n").sort(), ["shop_backend 1/1", "shop_web 3/3"]);
    assert.deepStrictEqual(await answers(), ["first-token", "first-token", "first-token"]);
    const net = await lab.exec(1, "docker network inspect shop_front -f '{{.Driver}} {{.Scope}}'");
    assert.strictEqual(net.stdout.trim(), "overlay swarm");
    const deployRun = r.ran.find((x) => x.name === "shop-deploy")!;
    assert.ok(!deployRun.commandText.includes("first-token"), "the secret is in the command text");
    assert.ok(deployRun.secretInputs.includes("stdin"), "stdin is not secret");
  });

  it("rolls the services to a new image tag and replica count", async () => {
    const tag = await Promise.all(hosts.map((i) => lab.exec(i, "docker tag localhost/busybox:latest localhost/busybox:v2")));
    assert.deepStrictEqual(tag.map((t) => t.code), [0, 0, 0]);
    const r = await deploy({ tag: "v2", replicas: 2, token: "first-token" });
    assert.deepStrictEqual(r.ran.map((x) => `${x.name} ${x.operation}`), ["shop-deploy update"]);
    const list = await images();
    assert.deepStrictEqual(list.map((l) => l.replace(/@sha256:\S+/, "")), [
      "shop_backend localhost/busybox:v2 2/2", "shop_web localhost/busybox:v2 3/3",
    ]);
    assert.deepStrictEqual(await answers(), ["first-token", "first-token", "first-token"]);
  });

  it("rolls onto a changed secret value without an 'in use' error, and removes the old secret", async () => {
    const before = await secrets();
    assert.strictEqual(before.length, 1);
    const r = await deploy({ tag: "v2", replicas: 2, token: "second-token" });
    assert.doesNotMatch(r.ran[0].stderr, /secret.*in use|in use by/i);
    assert.deepStrictEqual(await eventually("every node serves the new secret", 60000, async () => {
      const a = await answers();
      return a.every((x) => x === "second-token") ? a : undefined;
    }), ["second-token", "second-token", "second-token"]);
    const after = await secrets();
    assert.strictEqual(after.length, 1);
    assert.notStrictEqual(after[0], before[0]);
    assert.match(after[0], /^shop_token_[0-9a-f]{12}$/);
  });

  it("leaves nothing of the stack once it is removed from the program", async () => {
    const r = await deploy();
    // The removal runs on its own step, which holds no stdin; the deploy step has no delete.
    assert.deepStrictEqual(r.ran.filter((x) => x.commandText).map((x) => `${x.name} ${x.operation} stdin:${x.stdinSent}`), ["shop-remove delete stdin:false"]);
    const left = await lab.exec(1, "docker service ls -q --filter label=com.docker.stack.namespace=shop; " +
      "docker network ls -q --filter label=com.docker.stack.namespace=shop; docker secret ls -q; docker config ls -q");
    assert.strictEqual(left.stdout.trim(), "");
    await settled(lab, 1, 3);
  });

  it("warns and lets the up succeed when the manager it was deployed from can no longer act", async () => {
    fs.writeFileSync(path.join(dir, "idle.yaml"), 'services:\n  idle:\n    image: localhost/busybox:latest\n    command: ["sleep", "100000"]\n');
    const program = (withStack: boolean) => () => {
      const bootstrap = new SwarmBootstrap("lab", {
        managers: [labHost(lab, 1, "manager-1")],
        workers: [labHost(lab, 2, "worker-1"), labHost(lab, 3, "worker-2")],
        dockerWaitSeconds: 60,
        drainSeconds: 30,
      });
      if (!withStack) return bootstrap.ready.apply(() => "");
      return new ComposeStack("idle", {
        composeFile: "idle.yaml", baseDir: dir, manager: labHost(lab, 1, "manager-1").connection,
        dependsOn: [bootstrap.ready], dockerWaitSeconds: 5, waitSeconds: 60,
      }).services;
    };
    assert.strictEqual((await harness.deploy(program(true))).value, "idle_idle 1/1");
    // The only manager's daemon is down: nothing can remove the stack, and retrying cannot help.
    await lab.stopDockerd(1);
    const r = await harness.deploy(program(false));
    const remove = r.ran.find((x) => x.name === "idle-remove")!;
    assert.strictEqual(remove.operation, "delete");
    assert.match(remove.stderr, /warning: Docker does not answer on cmp-h1, so stack idle was not removed here; if the swarm still runs it, run 'docker stack rm idle' on a manager/);
    assert.ok(!harness.state.has("idle-remove"), "the removal step is still in state");
    assert.deepStrictEqual(harness.pendingDeletes, []);
  });
});

describe("ComposeStack on an older Docker CLI (no --detach)", function () {
  // Same lab recipe, own lab: the manager's docker hides --detach from `stack deploy --help`,
  // as Debian's 20.10 and Amazon Linux 2023's CLIs do, so the step's own bounded wait decides.
  const lab = new Lab({ name: "cmpold", net: "10.247.0" });
  const harness = new SwarmHarness();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-old-"));
  const program = (image?: string) => () => {
    const bootstrap = new SwarmBootstrap("lab", { managers: [labHost(lab, 1, "manager-1")], dockerWaitSeconds: 60 });
    if (!image) return bootstrap.ready.apply(() => "");
    fs.writeFileSync(path.join(dir, "app.yaml"), `services:\n  app:\n    image: ${image}\n    command: ["sleep", "100000"]\n`);
    return new ComposeStack("old", {
      composeFile: "app.yaml", baseDir: dir, manager: labHost(lab, 1, "manager-1").connection,
      dependsOn: [bootstrap.ready], dockerWaitSeconds: 60, waitSeconds: 20,
    }).services;
  };

  before(async () => {
    await lab.up(1);
    const wrapper = [
      "#!/bin/sh",
      'if [ "$1 $2 $3" = "stack deploy --help" ]; then /usr/bin/docker "$@" | grep -v -e --detach -e --quiet; exit 0; fi',
      'for a in "$@"; do case $a in --detach*|--quiet) echo "unknown flag: $a" >&2; exit 125 ;; esac; done',
      'exec /usr/bin/docker "$@"',
      "",
    ].join("\n");
    const wrap = await lab.exec(1, `echo ${Buffer.from(wrapper).toString("base64")} | base64 -d > /usr/local/bin/docker && ` +
      "chmod +x /usr/local/bin/docker && docker stack deploy --help | grep -c -e --detach -e --quiet || true");
    assert.strictEqual(wrap.stdout.trim(), "0", wrap.stderr);
    assert.strictEqual(wrap.code, 0, wrap.stderr);
  });
  after(async () => {
    harness.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    await lab.down();
  });

  it("deploys and waits for convergence without the flag", async () => {
    const r = await harness.deploy(program("localhost/busybox:latest"));
    assert.strictEqual(r.value, "old_app 1/1");
  });

  it("fails within its bound naming the service and its task error when the image does not exist", async () => {
    await assert.rejects(harness.deploy(program("localhost/nope:1")), (e: unknown) => {
      assert.ok(e instanceof CommandFailed, String(e));
      assert.match(e.stderr, /service old_app (did not update \(paused\)|of stack old did not converge within 20s): .*No such image: localhost\/nope:1/);
      return true;
    });
  });

  it("removes the stack it could not converge", async () => {
    await harness.deploy(program());
    const left = await lab.exec(1, "docker service ls -q; docker network ls -q --filter label=com.docker.stack.namespace=old");
    assert.strictEqual(left.stdout.trim(), "");
  });
});

/** The body of an HTTP GET from the test machine, or the error as text. */
function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body.trim()));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(`error: ${e.message}`));
  });
}

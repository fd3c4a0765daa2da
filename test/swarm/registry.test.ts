import * as assert from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness, CommandRecord } from "./harness";
import { eventually, labHost, runningTasks, settled } from "./cluster";
import { LabImds, LabS3, buildRegistryRootfs, importRegistryImage, scratchDir, temporaryCredentials } from "./registry-lab";
import { registryNodeCommands } from "../../components/registry";
import { SwarmBootstrap } from "../../components/bootstrap";

/**
 * The registry on every node, for real: the Registry's node commands run over SSH on three lab
 * hosts and start Debian's docker-registry (imported as a local image) against an S3-compatible
 * server on the lab bridge. The containers hold no keys: they take a role's temporary
 * credentials from an IMDSv2 emulator at 169.254.169.254 in a namespace of its own, and the S3
 * server accepts only requests signed with those credentials and their session token.
 */
describe("Registry on a real swarm", function () {
  const lab = new Lab({ name: "srg", net: "10.240.0" });
  const harness = new SwarmHarness();
  let scratch = "";
  const credentials = temporaryCredentials();
  const s3 = new LabS3(credentials);
  const imds = new LabImds(lab, { role: "lab-swarm-node", credentials });
  const BUCKET = "lab-registry-bucket";
  const IMAGE = "localhost/docker-registry:lab";
  const REF = "127.0.0.1:5000/lab/busybox:1";
  const hosts = [1, 2, 3];
  let endpoint = "";

  const nodes = () => hosts.map((i) => labHost(lab, i, `node-${i}`));
  const registry = (image: string) =>
    registryNodeCommands("lab-registry", { hosts: nodes(), image, bucket: BUCKET, region: "us-east-1", endpoint, dockerWaitSeconds: 60 });
  /** The registry alone, or with a swarm bootstrapped over the same hosts. */
  const program = (image: string, swarm: boolean) => () => {
    const ids = pulumi.all(registry(image).map((c) => c.stdout));
    if (!swarm) return ids;
    const [first, ...rest] = nodes();
    const bootstrap = new SwarmBootstrap("lab", { managers: [first], workers: rest, dockerWaitSeconds: 60, drainSeconds: 30 });
    return pulumi.all([ids, bootstrap.ready]).apply(([i]) => i);
  };
  const registryRuns = (ran: CommandRecord[]) => ran.filter((r) => r.name.startsWith("lab-registry-"));
  const containerId = async (i: number) =>
    (await lab.exec(i, "docker inspect -f '{{.Id}}' swarm-registry 2>/dev/null")).stdout.trim();
  const sh = async (i: number, cmd: string) => {
    const r = await lab.exec(i, cmd);
    assert.strictEqual(r.code, 0, `h${i}: ${cmd}\n${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };
  let ids: string[] = [];

  before(async () => {
    scratch = scratchDir("srg-registry-");
    const tar = buildRegistryRootfs(scratch);
    tar.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    await lab.up(hosts.length);
    await importRegistryImage(lab, hosts, await tar, IMAGE);
    s3.createBucket(BUCKET);
    endpoint = await s3.start(`${lab.net}.1`);
    await imds.start();
    await Promise.all(hosts.map((i) => imds.route(i)));
  });

  after(async () => {
    harness.dispose();
    await imds.stop();
    await s3.stop();
    await lab.down();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("starts a registry container on every node at 127.0.0.1:5000, with no keys anywhere", async () => {
    const { value, ran } = await harness.deploy(program(IMAGE, false));
    ids = value;
    assert.strictEqual(ids.length, 3);
    for (const [k, i] of hosts.entries()) {
      assert.match(ids[k], /^[0-9a-f]{64}$/);
      assert.strictEqual(await containerId(i), ids[k]);
      const ports = await sh(i, "docker port swarm-registry 5000/tcp");
      assert.strictEqual(ports, "127.0.0.1:5000");
      assert.strictEqual(await sh(i, "docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' swarm-registry"), "always");
      const env = await sh(i, "docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' swarm-registry");
      assert.match(env, /^REGISTRY_STORAGE=s3$/m);
      assert.match(env, new RegExp(`^REGISTRY_STORAGE_S3_REGIONENDPOINT=${endpoint}$`, "m"));
      assert.doesNotMatch(env, /ACCESS_?KEY|SECRET|SESSION_?TOKEN|AWS_/i);
    }
    assert.deepStrictEqual(registryRuns(ran).map((r) => r.name).sort(), ["lab-registry-node-1", "lab-registry-node-2", "lab-registry-node-3"]);
    for (const r of registryRuns(ran)) {
      assert.match(r.stderr, /starting swarm-registry .*answers on 127\.0\.0\.1:5000/s, r.name);
      assert.deepStrictEqual(r.inputs.triggers, [lab.addr(Number(r.name.slice(-1)))]);
      for (const secret of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken]) {
        assert.ok(!r.commandText.includes(secret), `${r.name} command text holds a credential`);
      }
      assert.doesNotMatch(r.commandText, /AWS_ACCESS_KEY|ACCESSKEY|SECRETKEY/i);
    }
  });

  it("stores a pushed image in the bucket and serves it from every node's own registry", async () => {
    for (const i of [2, 3]) {
      assert.strictEqual((await lab.exec(i, `docker image inspect ${REF}`)).code, 1, `h${i} has ${REF} already`);
    }
    const pushed = await sh(1, `docker tag localhost/busybox:latest ${REF} && docker push ${REF}`);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    assert.ok(digest, pushed);
    const hex = digest.slice("sha256:".length);
    const keys = s3.keys(BUCKET);
    assert.ok(keys.includes(`docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`), keys.join("\n"));
    assert.strictEqual(
      s3.object(BUCKET, "docker/registry/v2/repositories/lab/busybox/_manifests/tags/1/current/link")?.toString(),
      digest,
    );
    const layers = keys.filter((k) => /^docker\/registry\/v2\/blobs\/sha256\/..\/[0-9a-f]{64}\/data$/.test(k));
    assert.ok(layers.length >= 3, `manifest, config and layer blobs: ${layers.join(", ")}`);
    assert.strictEqual(keys.filter((k) => k.includes("/_uploads/")).length, 0, "upload leftovers");

    const pulled = await sh(2, `docker pull ${REF}`);
    assert.match(pulled, new RegExp(`Digest: ${digest}`));
    assert.strictEqual(await sh(3, "curl -s http://127.0.0.1:5000/v2/lab/busybox/tags/list"), '{"name":"lab/busybox","tags":["1"]}');
    // Leave no copy on any node, so that each node's pull below has to go to its own registry.
    for (const i of [1, 2]) await sh(i, `docker rmi ${REF}`);
  });

  it("got its S3 credentials only through IMDSv2 session tokens, and S3 accepted nothing else", async () => {
    const tokens = imds.requests.filter((r) => r.method === "PUT" && r.status === 200);
    const creds = imds.requests.filter((r) => r.path === "/latest/meta-data/iam/security-credentials/lab-swarm-node" && r.status === 200);
    assert.ok(tokens.length >= 1, JSON.stringify(imds.requests));
    assert.ok(creds.length >= 1 && creds.every((r) => r.validToken), JSON.stringify(imds.requests));
    assert.deepStrictEqual(imds.requests.filter((r) => r.method === "GET" && !r.validToken), [], "IMDSv1 requests");
    const from = new Set(imds.requests.map((r) => r.from));
    assert.ok([...from].every((a) => hosts.map((i) => lab.addr(i)).includes(a)), [...from].join(","));
    assert.ok(s3.requests.length > 10);
    assert.deepStrictEqual(s3.requests.filter((r) => r.status >= 400 && r.code !== "NoSuchKey" && r.code !== "InvalidRange"), []);
    assert.ok(s3.requests.every((r) => r.accessKeyId === credentials.accessKeyId));
    // The S3 server's checks are real: curl's own SigV4 signer gets in only with the role's key,
    // secret and session token. (curl 7.88 does not encode query values when it signs, so the
    // query holds none that need it.)
    const c = credentials;
    const list = (user: string, token: string) =>
      curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", user,
        ...(token ? ["-H", `x-amz-security-token: ${token}`] : []), `${endpoint}/${BUCKET}/?list-type=2&prefix=docker`]);
    assert.strictEqual(await list(`${c.accessKeyId}:${c.secretAccessKey}`, c.sessionToken), "200");
    assert.strictEqual(await list(`${c.accessKeyId}:${c.secretAccessKey}x`, c.sessionToken), "403");
    assert.strictEqual(await list(`${c.accessKeyId}:${c.secretAccessKey}`, ""), "403");
    assert.strictEqual(await curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", `${endpoint}/${BUCKET}/`]), "403");
  });

  it("needs IMDS hop limit 2: one hop behind its host, a container gets no answer with hop limit 1", async () => {
    const probe = (i: number) =>
      lab.exec(i, "docker run --rm localhost/busybox:latest sh -c " +
        `'printf "GET /latest/meta-data/ HTTP/1.0\\r\\n\\r\\n" | nc -w 2 169.254.169.254 80 | head -n 1'`);
    assert.match((await probe(3)).stdout, /^HTTP\/1\.1 401 Unauthorized/, "hop limit 2: IMDSv2 answers (401 without a token)");
    try {
      await imds.setHopLimit(1);
      assert.strictEqual((await probe(3)).stdout, "", "hop limit 1: the answer dies at the host");
    } finally {
      await imds.setHopLimit(2);
    }
  });

  it("runs a service from 127.0.0.1:5000 on three nodes, each pulling from its own registry", async () => {
    const manifestGets = async (i: number) =>
      (await sh(i, "docker logs swarm-registry 2>&1")).split("\n").filter((l) => /"(GET|HEAD) \/v2\/lab\/busybox\/manifests\/\S+ HTTP\/1\.1" 200 /.test(l)).length;
    const { ran } = await harness.deploy(program(IMAGE, true));
    assert.deepStrictEqual(registryRuns(ran), [], "the registry commands ran again");
    await settled(lab, 1, 3);
    for (const i of hosts) assert.strictEqual((await lab.exec(i, `docker image inspect ${REF}`)).code, 1, `h${i} still has ${REF}`);
    // The lab's dockerd runs with DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1, under which swarm tasks
    // never pull ("No such image"). So each node pulls from its own registry, as its swarm
    // executor does on EC2, and the tasks start from that copy.
    const before = await Promise.all(hosts.map(manifestGets));
    await Promise.all(hosts.map((i) => sh(i, `docker pull -q ${REF}`)));
    const after = await Promise.all(hosts.map(manifestGets));
    for (const [k, i] of hosts.entries()) assert.ok(after[k] > before[k], `h${i}'s own registry did not serve the pull`);
    await sh(1, "docker service create -d --no-resolve-image --with-registry-auth=false --name app --replicas 3 " +
      `--replicas-max-per-node 1 --stop-grace-period 1s --endpoint-mode dnsrr ${REF} sleep 100000`);
    const placed = await eventually("3 running app tasks", 60000, async () => {
      const t = await runningTasks(lab, 1, "app");
      return t.length === 3 ? t : undefined;
    }).catch(async (e: Error) => {
      const ps = await lab.exec(1, "docker service ps app --no-trunc --format '{{.Node}} {{.CurrentState}} {{.Error}}'");
      throw new Error(`${e.message}\n${ps.stdout}${ps.stderr}`);
    });
    assert.deepStrictEqual(placed.sort(), ["srg-h1", "srg-h2", "srg-h3"]);
  });

  it("does nothing when the registry step runs again with the same settings", async () => {
    const { value, ran } = await harness.deploy(program(IMAGE, true), { mode: "always" });
    const runs = registryRuns(ran);
    assert.strictEqual(runs.length, 3);
    for (const r of runs) assert.match(r.stderr, /swarm-registry already runs .*; nothing to do/, r.name);
    assert.deepStrictEqual(value, ids);
  });

  it("replaces every container when the image changes, keeping the images in the bucket", async () => {
    const next = "localhost/docker-registry:lab-2";
    for (const i of hosts) await sh(i, `docker tag ${IMAGE} ${next}`);
    const { value, ran } = await harness.deploy(program(next, true));
    const runs = registryRuns(ran);
    assert.deepStrictEqual(runs.map((r) => r.operation), ["update", "update", "update"]);
    for (const r of runs) assert.match(r.stderr, /replacing swarm-registry \(was: spec=1 image=localhost\/docker-registry:lab /, r.name);
    for (const [k, i] of hosts.entries()) {
      assert.notStrictEqual(value[k], ids[k]);
      assert.strictEqual(await containerId(i), value[k]);
      assert.strictEqual(await sh(i, "docker inspect -f '{{.Config.Image}}' swarm-registry"), next);
      assert.strictEqual(await sh(i, "docker ps -aq -f name=swarm-registry | wc -l"), "1");
    }
    assert.strictEqual(await sh(3, "curl -s http://127.0.0.1:5000/v2/lab/busybox/tags/list"), '{"name":"lab/busybox","tags":["1"]}');
  });

  it("removes every registry container on destroy", async () => {
    const ran = await harness.destroy();
    const removed = registryRuns(ran);
    assert.deepStrictEqual(removed.map((r) => r.operation), ["delete", "delete", "delete"]);
    for (const r of removed) assert.match(r.stderr, /removed swarm-registry from srg-h\d/, r.name);
    for (const i of hosts) {
      assert.strictEqual(await sh(i, "docker ps -aq -f name=swarm-registry"), "");
      assert.notStrictEqual((await lab.exec(i, "curl -s --max-time 2 http://127.0.0.1:5000/v2/")).code, 0);
    }
  });
});

/** Runs curl in this (the root) namespace; resolves with its stdout. */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("curl", ["--max-time", "10", ...args], (err, stdout, stderr) => (err ? reject(new Error(`curl: ${err.message} ${stderr}`)) : resolve(stdout))),
  );
}

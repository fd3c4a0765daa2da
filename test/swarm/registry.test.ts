import * as assert from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./lab";
import { SwarmHarness, CommandRecord } from "./harness";
import { eventually, labHost, runningTasks, settled } from "./cluster";
import { LabImds, RoleCredentials, buildRegistryRootfs, importRegistryImage, scratchDir } from "./registry-lab";
import { Moto, MOTO_ENV } from "./moto";
import { registryNodeCommands, registryPolicyDocument } from "../../components/registry";
import { SwarmBootstrap } from "../../components/bootstrap";

/**
 * The registry on every node, for real: the Registry's node commands run over SSH on three lab
 * hosts and start Debian's docker-registry (imported as a local image) against moto's S3 on the
 * lab bridge, with moto's IAM checks on: every request must be signed (SigV4) with credentials
 * moto issued, session token included, and be allowed by the role's policy, which is the
 * Registry's own policy document. The containers hold no keys: they take the role's temporary
 * credentials (from moto's STS) from ec2-metadata-mock, IMDSv2 only, at 169.254.169.254 in a
 * namespace of its own whose IP TTL plays EC2's hop limit.
 */
describe("Registry on a real swarm", function () {
  const lab = new Lab({ name: "srg", net: "10.240.0" });
  const harness = new SwarmHarness();
  let scratch = "";
  const ROLE = "lab-swarm-node";
  let credentials: RoleCredentials;
  let moto: Moto;
  let imds: LabImds;
  /** The role's credentials as environment variables of the AWS CLI. */
  const role = () => ({ AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken });
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
    // moto answers the first five requests unchecked (the set-up below), every later one only
    // when signed with credentials it issued and allowed by their policies.
    moto = await Moto.start({ host: `${lab.net}.1`, env: { INITIAL_NO_AUTH_ACTION_COUNT: "5" } });
    endpoint = moto.endpoint;
    endpointOf = () => endpoint;
    const admin = { ...MOTO_ENV };
    await awsAs(admin, "iam", "create-role", "--role-name", ROLE, "--assume-role-policy-document",
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }));
    await awsAs(admin, "iam", "put-role-policy", "--role-name", ROLE, "--policy-name", "registry",
      "--policy-document", JSON.stringify(registryPolicyDocument(`arn:aws:s3:::${BUCKET}`)));
    await awsAs(admin, "s3api", "create-bucket", "--bucket", BUCKET);
    // Only for moto 5.2.5: it authorizes a batch DeleteObjects as s3:DeleteObject on the
    // bucket's ARN, and when that fails refuses every key inside a 200 answer (AWS checks
    // s3:DeleteObject per key, which the Registry's policy allows on bucket/*). This grant on
    // the bare bucket ARN means nothing on AWS, where DeleteObject names objects only.
    await awsAs(admin, "iam", "put-role-policy", "--role-name", ROLE, "--policy-name", "moto-batch-delete", "--policy-document",
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:DeleteObject", Resource: `arn:aws:s3:::${BUCKET}` }] }));
    const c = JSON.parse(await awsAs(admin, "sts", "assume-role", "--role-arn", `arn:aws:iam::123456789012:role/${ROLE}`,
      "--role-session-name", "i-lab", "--query", "Credentials")) as Record<string, string>;
    credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    imds = new LabImds(lab, { role: ROLE, credentials });
    await imds.start();
    await Promise.all(hosts.map((i) => imds.route(i)));
  });

  after(async () => {
    harness.dispose();
    await imds?.stop();
    await moto?.stop();
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
    const keys = JSON.parse(await awsAs(role(), "s3api", "list-objects-v2", "--bucket", BUCKET, "--query", "Contents[].Key")) as string[];
    assert.ok(keys.includes(`docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`), keys.join("\n"));
    assert.strictEqual(
      await awsAs(role(), "s3", "cp", `s3://${BUCKET}/docker/registry/v2/repositories/lab/busybox/_manifests/tags/1/current/link`, "-"),
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
    // IMDSv1 is refused; with a session token the role's credentials are the ones moto issued.
    const path = `http://169.254.169.254/latest/meta-data/iam/security-credentials/${ROLE}`;
    assert.strictEqual(await sh(3, `curl -s -o /dev/null -w '%{http_code}' ${path}`), "401");
    const served = JSON.parse(await sh(3, "t=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) && " +
      `curl -s -H "X-aws-ec2-metadata-token: $t" ${path}`)) as Record<string, string>;
    assert.deepStrictEqual([served.AccessKeyId, served.Token], [credentials.accessKeyId, credentials.sessionToken]);
    // moto's request log: the nodes' registries talked to the bucket, and were never refused.
    const fromNodes = [...moto.output().matchAll(/^(\S+) - - \[[^\]]*\] "(\w+) (\/\S*) HTTP\/1\.1" (\d{3})/gm)]
      .map((m) => ({ from: m[1], method: m[2], path: m[3], status: Number(m[4]) }))
      .filter((r) => hosts.map((i) => lab.addr(i)).includes(r.from));
    assert.ok(fromNodes.length > 10, `${fromNodes.length} S3 requests from the nodes`);
    assert.ok(fromNodes.every((r) => r.path.startsWith(`/${BUCKET}`)), JSON.stringify(fromNodes.filter((r) => !r.path.startsWith(`/${BUCKET}`))));
    // 404: a blob or upload not there yet; 416: a read past the end. Both are how the driver probes.
    assert.deepStrictEqual(fromNodes.filter((r) => r.status >= 400 && r.status !== 404 && r.status !== 416), []);
    // moto's checks are real: only the role's key, secret and session token get in, and only
    // where the Registry's policy allows.
    const c = role();
    const list = (env: Record<string, string>) => awsAs(env, "s3api", "list-objects-v2", "--bucket", BUCKET, "--max-items", "1").then(() => "allowed", (e: Error) => e.message);
    assert.strictEqual(await list(c), "allowed");
    assert.match(await list({ ...c, AWS_SECRET_ACCESS_KEY: `${c.AWS_SECRET_ACCESS_KEY}x` }), /SignatureDoesNotMatch/);
    assert.notStrictEqual(await list({ ...c, AWS_SESSION_TOKEN: "" }), "allowed", "the role's key got in without its session token");
    assert.match(await awsAs(c, "s3api", "create-bucket", "--bucket", "lab-other").then(() => "allowed", (e: Error) => e.message), /AccessDenied/);
    assert.notStrictEqual(await curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", `${endpoint}/${BUCKET}/`]), "200");
  });

  it("needs IMDS hop limit 2: one hop behind its host, a container gets no answer with hop limit 1", async () => {
    const probe = (i: number) =>
      lab.exec(i, "docker run --rm localhost/busybox:latest sh -c " +
        `'printf "GET /latest/meta-data/ HTTP/1.0\\r\\n\\r\\n" | nc -w 2 169.254.169.254 80 | head -n 1'`);
    // Go's server answers an HTTP/1.0 request as HTTP/1.0.
    assert.match((await probe(3)).stdout, /^HTTP\/1\.[01] 401 Unauthorized/, "hop limit 2: IMDSv2 answers (401 without a token)");
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

/** Runs Debian's AWS CLI against moto with the given credentials; resolves with its stdout, trimmed. */
function awsAs(env: Record<string, string>, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("/usr/bin/aws", ["--endpoint-url", endpointOf(), "--output", "json", ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AWS_DEFAULT_REGION: "us-east-1", ...env } },
      (err, stdout, stderr) => (err ? reject(new Error(`aws ${args.slice(0, 2).join(" ")}: ${stderr}`)) : resolve(stdout.trim()))),
  );
}
let endpointOf = () => "";

/** Runs curl in this (the root) namespace; resolves with its stdout. */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("curl", ["--max-time", "10", ...args], (err, stdout, stderr) => (err ? reject(new Error(`curl: ${err.message} ${stderr}`)) : resolve(stdout))),
  );
}

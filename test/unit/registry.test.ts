import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { SwarmHost } from "../../components/bootstrap";
import {
  bucketPrefixFor,
  Registry,
  RegistryArgs,
  registryNodeCommands,
  registryPolicyDocument,
} from "../../components/registry";
import {
  created,
  recordedUnder,
  registeredOutputs,
  settle,
  unwrapSecret,
  valueOf,
} from "../helpers/mocks";

type Recorded = pulumi.runtime.MockResourceArgs;
const roles = { managers: "mgr-role", workers: "wkr-role" };

async function build(name: string, args: Partial<RegistryArgs> = {}) {
  const registry = new Registry(name, { roles, ...args });
  const recorded = await recordedUnder(name);
  const one = (type: string): Recorded => {
    const found = recorded.filter((r) => r.type === `aws:${type}`);
    assert.strictEqual(found.length, 1, type);
    return found[0];
  };
  return { registry, recorded, one };
}

describe("Registry", () => {
  beforeEach(() => {
    created.length = 0;
  });

  it("grants exactly the S3 actions of the DESIGN's IAM table", async () => {
    const { one } = await build("reg-iam");
    const arn = "arn:aws:s3:::reg-iam-bucket";
    assert.deepStrictEqual(JSON.parse(one("iam/policy:Policy").inputs.policy), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "RegistryBucket",
          Effect: "Allow",
          Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
          Resource: arn,
        },
        {
          Sid: "RegistryObjects",
          Effect: "Allow",
          Action: [
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
          ],
          Resource: `${arn}/*`,
        },
      ],
    });
  });

  it("uses no wildcard action or resource", () => {
    const text = JSON.stringify(registryPolicyDocument("arn:aws:s3:::b"));
    assert.doesNotMatch(text, /"\*"|s3:\*|"Resource":"arn:aws:s3:::\*/);
  });

  it("attaches the policy to each role, named by its key", async () => {
    const { recorded } = await build("reg-attach");
    const attachments = recorded.filter(
      (r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    );
    assert.deepStrictEqual(
      attachments.map((a) => [a.name, a.inputs.role, a.inputs.policyArn]).sort(),
      [
        ["reg-attach-managers-access", "mgr-role", "arn:aws:mock:::reg-attach-access"],
        ["reg-attach-workers-access", "wkr-role", "arn:aws:mock:::reg-attach-access"],
      ],
    );
    assert.deepStrictEqual(recorded.filter((r) => /accessKey|userPolicy/.test(r.type)), []);
  });

  it("keeps the bucket private: all four public-access blocks", async () => {
    const { one } = await build("reg-pab");
    const { bucket, ...flags } = one("s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    assert.strictEqual(bucket, "reg-pab-bucket-id");
    assert.deepStrictEqual(flags, {
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it("encrypts, versions, enforces bucket ownership and aborts stale uploads", async () => {
    const { one } = await build("reg-data");
    const sse = "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
    assert.deepStrictEqual(one(sse).inputs, {
      bucket: "reg-data-bucket-id",
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    assert.deepStrictEqual(one("s3/bucketVersioning:BucketVersioning").inputs, {
      bucket: "reg-data-bucket-id",
      versioningConfiguration: { status: "Enabled" },
    });
    const lifecycle = "s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
    assert.deepStrictEqual(one(lifecycle).inputs, {
      bucket: "reg-data-bucket-id",
      rules: [
        {
          id: "abort-incomplete-multipart-uploads",
          status: "Enabled",
          filter: { prefix: "" },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    });
    assert.deepStrictEqual(one("s3/bucketOwnershipControls:BucketOwnershipControls").inputs, {
      bucket: "reg-data-bucket-id",
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
  });

  it("names the bucket by prefix and keeps it unless forceDestroy is set", async () => {
    const kept = (await build("reg-Keep_Me")).one("s3/bucket:Bucket").inputs;
    assert.deepStrictEqual(
      [kept.bucketPrefix, kept.forceDestroy, kept.tags],
      ["reg-keep-me-", false, { Name: "reg-Keep_Me-bucket" }],
    );
    const dev = (await build("reg-dev", { forceDestroy: true })).one("s3/bucket:Bucket").inputs;
    assert.strictEqual(dev.forceDestroy, true);
    assert.strictEqual(bucketPrefixFor("x".repeat(80)).length, 37);
  });

  it("exposes bucket, region, image, address and policy", async () => {
    const { registry } = await build("reg-out", { image: "registry:2.8.3" });
    const { bucketName, bucketArn, region, image, policyArn } = registry;
    const values = await valueOf(pulumi.all([bucketName, bucketArn, region, image, policyArn]));
    assert.deepStrictEqual(values, [
      "reg-out-bucket-bucket",
      "arn:aws:s3:::reg-out-bucket",
      "us-east-1",
      "registry:2.8.3",
      "arn:aws:mock:::reg-out-access",
    ]);
    assert.strictEqual(registry.address, "127.0.0.1:5000");
    assert.strictEqual(await valueOf(new Registry("reg-default", {}).image), "registry:2");
  });

  it("rejects role keys that cannot name a resource, before creating anything", async () => {
    assert.throws(
      () => new Registry("reg-bad", { roles: { "Manager Nodes": "r" } }),
      /roles key "Manager Nodes" names a resource; use kebab-case such as "workers"\./,
    );
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith("reg-bad")), []);
  });

  it("parents its children and registers its outputs", async () => {
    const parents = new Map<string, pulumi.Resource | undefined>();
    const registry = new Registry("reg-parent", { roles }, {
      transformations: [(a) => (parents.set(a.name, a.opts.parent), undefined)],
    });
    const recorded = (await recordedUnder("reg-parent")).filter((r) => r.custom);
    assert.strictEqual(recorded.length, 9);
    for (const r of recorded) assert.strictEqual(parents.get(r.name), registry, r.name);
    const outputs = registeredOutputs.get("reg-parent");
    assert.ok(outputs);
    assert.strictEqual(outputs.bucketName, registry.bucketName);
    assert.strictEqual(outputs.address, "127.0.0.1:5000");
  });
});

describe("Registry on the nodes", () => {
  const node = (name: string, ip: string): SwarmHost => ({
    name,
    privateIp: ip,
    connection: { host: ip, user: "ec2-user", privateKey: pulumi.secret("KEY") },
  });
  const hosts = [node("manager-1", "10.0.1.10"), node("worker-1", "10.0.2.20"), node("worker-2", "10.0.3.30")];
  const commandsOf = async (name: string) =>
    (await recordedUnder(name)).filter((r) => r.type === "command:remote:Command");
  const only = async (name: string, host: string) => {
    const found = (await commandsOf(name)).filter((c) => c.name === `${name}-${host}`);
    assert.strictEqual(found.length, 1, `${name}-${host}`);
    return found[0];
  };

  beforeEach(() => {
    created.length = 0;
  });

  it("runs one registry command per host, named by the host", async () => {
    await build("reg-nodes", { hosts });
    assert.deepStrictEqual((await commandsOf("reg-nodes")).map((c) => c.name).sort(), [
      "reg-nodes-manager-1",
      "reg-nodes-worker-1",
      "reg-nodes-worker-2",
    ]);
  });

  it("creates no command without hosts, and its ready output is then empty", async () => {
    const { registry, recorded } = await build("reg-none");
    assert.deepStrictEqual(recorded.filter((r) => r.type === "command:remote:Command"), []);
    assert.deepStrictEqual(await valueOf(registry.ready), []);
  });

  it("starts the registry with image, bucket and region in the command text, and removes it on delete", async () => {
    await build("reg-text", { hosts });
    const cmd = await only("reg-text", "worker-1");
    assert.match(
      String(cmd.inputs.create),
      / swarm-registry '300' 'registry:2' 'reg-text-bucket-bucket' 'us-east-1'$/,
    );
    assert.match(String(cmd.inputs.create), /^exec \$\(\[ "\$\(id -u\)" -eq 0 \] \|\| echo sudo -n\) sh -c /);
    assert.match(String(cmd.inputs.delete), / swarm-registry-remove '300'$/);
    assert.strictEqual(cmd.inputs.addPreviousOutputInEnv, false);
    assert.strictEqual((unwrapSecret(cmd.inputs.connection) as { host: string }).host, "10.0.2.20");
  });

  it("passes an S3-compatible endpoint, a custom image and the Docker wait on to the step", async () => {
    await build("reg-custom", {
      hosts,
      image: "registry:2.8.3",
      endpoint: "http://minio.internal:9000",
      dockerWaitSeconds: 45,
    });
    assert.match(
      String((await only("reg-custom", "manager-1")).inputs.create),
      / swarm-registry '45' 'registry:2\.8\.3' 'reg-custom-bucket-bucket' 'us-east-1' 'http:\/\/minio\.internal:9000'$/,
    );
  });

  it("puts no access key, secret key or session token in any command text or input", async () => {
    await build("reg-nokeys", { hosts, endpoint: "https://s3.example.com" });
    for (const cmd of await commandsOf("reg-nokeys")) {
      for (const text of [cmd.inputs.create, cmd.inputs.delete]) {
        assert.doesNotMatch(String(text), /AWS_ACCESS_KEY|AWS_SECRET|ACCESSKEY|SECRETKEY|SESSIONTOKEN/i, cmd.name);
      }
      assert.strictEqual(cmd.inputs.environment, undefined, cmd.name);
      assert.strictEqual(cmd.inputs.stdin, undefined, cmd.name);
    }
  });

  it("replaces a node's command when its address changes", async () => {
    await build("reg-trig", { hosts });
    assert.deepStrictEqual((await only("reg-trig", "worker-2")).inputs.triggers, ["10.0.3.30"]);
  });

  it("exposes the container IDs as ready, in host order, and registers them", async () => {
    const { registry } = await build("reg-ready", { hosts });
    assert.deepStrictEqual(await valueOf(registry.ready), [
      "node-id-reg-ready-manager-1",
      "node-id-reg-ready-worker-1",
      "node-id-reg-ready-worker-2",
    ]);
    assert.strictEqual(registeredOutputs.get("reg-ready")?.ready, registry.ready);
  });

  it("parents the commands to the registry and starts them after the role attachments", async () => {
    const seen = new Map<string, pulumi.ResourceTransformationArgs["opts"]>();
    const registry = new Registry("reg-order", { roles, hosts: hosts.slice(0, 1) }, {
      transformations: [(a) => (seen.set(a.name, a.opts), undefined)],
    });
    await recordedUnder("reg-order");
    const opts = seen.get("reg-order-manager-1");
    assert.ok(opts);
    assert.strictEqual(opts.parent, registry);
    const deps = (opts.dependsOn ?? []) as pulumi.Resource[];
    const names = await Promise.all(deps.map((d) => valueOf(d.urn)));
    assert.deepStrictEqual(names.map((u) => u.split("::").pop()).sort(), ["reg-order-managers-access", "reg-order-workers-access"]);
  });

  it("builds the same commands without the bucket through registryNodeCommands", async () => {
    const cmds = registryNodeCommands("reg-fn", {
      hosts: hosts.slice(1),
      image: "localhost/registry:lab",
      bucket: "lab-bucket",
      region: "eu-west-1",
    });
    assert.strictEqual(cmds.length, 2);
    const recorded = await commandsOf("reg-fn");
    assert.deepStrictEqual(recorded.map((c) => c.name).sort(), ["reg-fn-worker-1", "reg-fn-worker-2"]);
    assert.match(String(recorded[0].inputs.create), / swarm-registry '300' 'localhost\/registry:lab' 'lab-bucket' 'eu-west-1'$/);
    assert.deepStrictEqual(created.filter((r) => r.name.startsWith("reg-fn") && r.type.startsWith("aws:")), []);
  });

  it("rejects duplicate host names, an empty image, a bad endpoint and wait, before creating anything", async () => {
    assert.throws(
      () =>
        new Registry("reg-invalid", {
          hosts: [hosts[0], node("manager-1", "10.0.9.9"), node("Worker 3", "10.0.9.10")],
          image: " ",
          endpoint: "minio:9000",
          dockerWaitSeconds: 0,
        }),
      (e: Error) => {
        assert.deepStrictEqual(e.message.split("\n"), [
          '- image is " ", which is not an image reference; use a lower-case name with an optional tag or digest, such as "registry:2" or "127.0.0.1:5000/app:1.0".',
          '- hosts has the host name "Worker 3", which is not kebab-case; use e.g. "worker-3".',
          '- hosts has the host names ["manager-1"] more than once; give every host its own name.',
          '- endpoint is "minio:9000"; use an http:// or https:// URL such as "https://s3.example.com", or leave it unset for AWS S3.',
          "- dockerWaitSeconds is 0; use a whole number of seconds from 1 to 3600.",
        ]);
        return true;
      },
    );
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith("reg-invalid")), []);
  });

  it("rejects an empty image in registryNodeCommands too", () => {
    assert.throws(
      () => registryNodeCommands("reg-fn-bad", { hosts, image: "", bucket: "b", region: "us-east-1" }),
      /image is "", which is not an image reference; use .*"registry:2"/,
    );
  });
});

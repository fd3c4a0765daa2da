import * as assert from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
  AnalyzeRequest,
  AnalyzerInfo,
  AnalyzerResource,
  AnalyzerResourceOptions,
  AnalyzeResponse,
  AnalyzeStackRequest,
  ConfigureAnalyzerRequest,
  EnforcementLevel,
  PolicyConfig,
} from "@pulumi/pulumi/proto/analyzer_pb";

/**
 * Starts policy/index.ts the way `pulumi preview --policy-pack policy` does (the analyzer host
 * runs @pulumi/pulumi's run-policy-pack in the pack directory) and talks to it over gRPC as the
 * engine would. This proves the pack loads, and that per-rule enforcement levels and rule config
 * are applied natively by @pulumi/policy, not by code of ours.
 */
const POLICY_DIR = path.join(__dirname, "..", "..", "policy");

/** The pack's own @pulumi/pulumi when `npm ci` ran in policy/, else the root project's. */
function runPolicyPackScript(): string {
  const pkg = require.resolve("@pulumi/pulumi/package.json", { paths: [POLICY_DIR] });
  return path.join(path.dirname(pkg), "cmd", "run-policy-pack");
}

function startPack(): Promise<{ child: ChildProcess; port: number }> {
  // The engine address is only used for logging, which these calls do not trigger.
  const child = spawn(process.execPath, [runPolicyPackScript(), "127.0.0.1:1", "."], {
    cwd: POLICY_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const port = /^(\d+)\s*$/m.exec(stdout);
      if (port) resolve({ child, port: Number(port[1]) });
    });
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
  });
}

function unary<TRequest, TResponse>(
  call: (
    request: TRequest,
    done: (error: grpc.ServiceError | null, response: TResponse) => void,
  ) => unknown,
  request: TRequest,
): Promise<TResponse> {
  return new Promise((resolve, reject) =>
    call(request, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function levelName(level: number): string {
  const entry = Object.entries(EnforcementLevel).find(([, value]) => value === level);
  return entry ? entry[0].toLowerCase() : String(level);
}

/**
 * `policy [level]: message`, the message without the description line the server prepends to a
 * plain-string violation (a rule's own advisory comes as an object and has no such line).
 */
function diagnostics(response: AnalyzeResponse): string[] {
  return response
    .getDiagnosticsList()
    .map(
      (d) =>
        `${d.getPolicyname()} [${levelName(d.getEnforcementlevel())}]: ${withoutDescription(d.getMessage())}`,
    );
}

function withoutDescription(message: string): string {
  return message.includes("\n") ? message.split("\n").slice(1).join("\n") : message;
}

function instanceRequest(httpTokens: string | null = "optional"): AnalyzeRequest {
  const request = new AnalyzeRequest();
  request.setType("aws:ec2/instance:Instance");
  request.setName("web");
  request.setUrn("urn:pulumi:dev::demo::aws:ec2/instance:Instance::web");
  request.setProperties(
    Struct.fromJavaScript({
      ami: "ami-1",
      rootBlockDevice: { encrypted: true },
      ...(httpTokens === null ? {} : { metadataOptions: { httpTokens } }),
    }),
  );
  request.setOptions(new AnalyzerResourceOptions());
  return request;
}

function sshRuleRequest(): AnalyzeRequest {
  const request = new AnalyzeRequest();
  request.setType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
  request.setName("ssh");
  request.setUrn(
    "urn:pulumi:dev::demo::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::ssh",
  );
  request.setProperties(
    Struct.fromJavaScript({
      securityGroupId: "sg-1",
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrIpv4: "198.51.100.0/24",
    }),
  );
  request.setOptions(new AnalyzerResourceOptions());
  return request;
}

function policyConfig(level: number, properties: Record<string, unknown> = {}): PolicyConfig {
  const config = new PolicyConfig();
  config.setEnforcementlevel(level);
  config.setProperties(Struct.fromJavaScript(properties as Record<string, never>));
  return config;
}

const IMDS_MESSAGE =
  'instance "web" metadataOptions.httpTokens is "optional", which allows IMDSv1, so a request forgery on the host can read the instance role\'s credentials; set metadataOptions.httpTokens to "required".';

describe("the policy pack served by @pulumi/policy", function () {
  // Type-checking the pack with ts-node on start-up takes a few seconds.
  this.timeout(120000);
  let child: ChildProcess;
  let client: AnalyzerClient;

  before(async () => {
    const started = await startPack();
    child = started.child;
    client = new AnalyzerClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    child?.kill();
  });

  async function configure(entries: Record<string, PolicyConfig>): Promise<void> {
    const request = new ConfigureAnalyzerRequest();
    for (const [name, config] of Object.entries(entries))
      request.getPolicyconfigMap().set(name, config);
    await unary(client.configure.bind(client), request);
  }

  it("starts from policy/index.ts and serves every rule as mandatory", async () => {
    const info = await unary<Empty, AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
    assert.deepStrictEqual(
      info.getPoliciesList().map((p) => `${p.getName()} [${levelName(p.getEnforcementlevel())}]`),
      [
        "swarm-no-ssh-from-world-or-unlisted-cidrs [mandatory]",
        "swarm-no-world-open-docker-or-swarm-ports [mandatory]",
        "swarm-no-docker-api-ingress [mandatory]",
        "swarm-no-cidr-ingress-to-swarm-ports [mandatory]",
        "swarm-no-world-open-ports-across-rules [mandatory]",
        "swarm-no-wildcard-iam-actions [mandatory]",
        "swarm-no-write-actions-on-all-resources [mandatory]",
        "swarm-no-passrole-on-all-resources [mandatory]",
        "swarm-no-lifecycle-completion-on-all-groups [mandatory]",
        "swarm-no-admin-managed-policies [mandatory]",
        "swarm-no-full-access-managed-policies [mandatory]",
        "swarm-no-public-resource-policies [mandatory]",
        "swarm-no-iam-access-keys [mandatory]",
        "swarm-no-public-s3-buckets [mandatory]",
        "swarm-no-unencrypted-s3-buckets [mandatory]",
        "swarm-no-partial-s3-public-access-block [mandatory]",
        "swarm-no-imdsv1 [mandatory]",
        "swarm-no-unencrypted-ebs [mandatory]",
        "swarm-no-secrets-in-user-data-or-tags [mandatory]",
        "swarm-no-even-or-oversized-manager-quorum [mandatory]",
        "swarm-no-host-root-services [mandatory]",
      ],
    );
  });

  it("reports a violation as mandatory when no config is given", async () => {
    await configure({});
    assert.deepStrictEqual(
      diagnostics(await unary(client.analyze.bind(client), instanceRequest())),
      [`swarm-no-imdsv1 [mandatory]: ${IMDS_MESSAGE}`],
    );
  });

  it("reports a setting AWS defaults safely as advisory inside a mandatory rule", async () => {
    await configure({});
    assert.deepStrictEqual(
      diagnostics(await unary(client.analyze.bind(client), instanceRequest(null))),
      [
        `swarm-no-imdsv1 [advisory]: instance "web" metadataOptions.httpTokens is unset, so the AMI's default applies: IMDSv2-only for AMIs marked ImdsSupport v2.0 (every Amazon Linux 2023 AMI), IMDSv1 allowed for most others; set metadataOptions.httpTokens to "required" to be sure.`,
      ],
    );
  });

  it("downgrades one rule to advisory through its config entry", async () => {
    await configure({ "swarm-no-imdsv1": policyConfig(EnforcementLevel.ADVISORY) });
    assert.deepStrictEqual(
      diagnostics(await unary(client.analyze.bind(client), instanceRequest())),
      [`swarm-no-imdsv1 [advisory]: ${IMDS_MESSAGE}`],
    );
  });

  it("turns one rule off through its config entry", async () => {
    await configure({ "swarm-no-imdsv1": policyConfig(EnforcementLevel.DISABLED) });
    assert.deepStrictEqual(
      diagnostics(await unary(client.analyze.bind(client), instanceRequest())),
      [],
    );
  });

  it("hands allowedSshCidrs from the config to the SSH rule", async () => {
    await configure({
      "swarm-no-ssh-from-world-or-unlisted-cidrs": policyConfig(EnforcementLevel.MANDATORY, {
        allowedSshCidrs: ["203.0.113.0/24"],
      }),
    });
    assert.deepStrictEqual(
      diagnostics(await unary(client.analyze.bind(client), sshRuleRequest())),
      [
        'swarm-no-ssh-from-world-or-unlisted-cidrs [mandatory]: ingress rule "ssh" allows 22/tcp from 198.51.100.0/24, which is outside allowedSshCidrs (203.0.113.0/24), exposing SSH (port 22); add the CIDR to allowedSshCidrs in the policy config or narrow the rule to a listed CIDR.',
      ],
    );
  });

  it("runs the stack rules over a stack with an unprotected bucket", async () => {
    await configure({});
    const bucket = new AnalyzerResource();
    bucket.setType("aws:s3/bucket:Bucket");
    bucket.setName("logs");
    bucket.setUrn("urn:pulumi:dev::demo::aws:s3/bucket:Bucket::logs");
    bucket.setProperties(Struct.fromJavaScript({ bucket: "logs-1", id: "logs-1" }));
    bucket.setOptions(new AnalyzerResourceOptions());
    const request = new AnalyzeStackRequest();
    request.setResourcesList([bucket]);
    assert.deepStrictEqual(diagnostics(await unary(client.analyzeStack.bind(client), request)), [
      'swarm-no-public-s3-buckets [advisory]: S3 bucket "logs" has no aws.s3.BucketPublicAccessBlock; AWS blocks public access on new buckets by default since April 2023, but an account or later change can undo that; add one for this bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true to keep it in code.',
      'swarm-no-unencrypted-s3-buckets [advisory]: S3 bucket "logs" has no server-side encryption configuration; AWS encrypts new buckets with SSE-S3 by default since January 2023, so this is advisory; add an aws.s3.BucketServerSideEncryptionConfiguration to choose "aws:kms" or "AES256" in code.',
    ]);
  });
});

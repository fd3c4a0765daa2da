import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/**
 * Unit-test monitor: records every registered resource and fills in the outputs AWS would
 * compute. Loaded once per mocha process from .mocharc.json, before any resource module.
 */
export const created: pulumi.runtime.MockResourceArgs[] = [];
// The bootstrap's control probe dials the managers over SSH; the mocked hosts do not exist.
process.env.AWS_SWARM_PROBE = "off";
export const invoked: pulumi.runtime.MockCallArgs[] = [];

/** Availability zones the mocked region reports. */
export const MOCK_AZS = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"];

const invokeResults: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    names: MOCK_AZS,
    zoneIds: MOCK_AZS.map((_, i) => `use1-az${i + 1}`),
    id: "us-east-1",
  }),
  "aws:ec2/getAmi:getAmi": () => ({ id: "ami-0123456789abcdef0", imageId: "ami-0123456789abcdef0", name: "al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64", rootDeviceName: "/dev/xvda" }),
  // No instance of the stack runs yet (the day-1 case); SwarmCluster looks up its managers.
  "aws:ec2/getInstances:getInstances": () => ({ id: "us-east-1", ids: [], privateIps: [], publicIps: [], ipv6Addresses: [] }),
  "aws:index/getRegion:getRegion": () => ({ name: "us-east-1", id: "us-east-1", region: "us-east-1" }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/test", userId: "AIDTEST" }),
};

let ipCounter = 0;
const ipByName = new Map<string, number>();
/** A stable private address per resource name: 10.0.<n/250>.<n%250+4>. */
function privateIpFor(name: string): string {
  if (!ipByName.has(name)) ipByName.set(name, ipCounter++);
  const n = ipByName.get(name)!;
  return `10.0.${Math.floor(n / 250)}.${(n % 250) + 4}`;
}

/**
 * The addresses the mock gives the instance named `name`, reserved now so that a test knows them
 * before the instance registers (the public one applies when it asks for a public address).
 */
export function mockInstanceAddresses(name: string): { privateIp: string; publicIp: string } {
  const privateIp = privateIpFor(name);
  return { privateIp, publicIp: `203.0.113.${(ipByName.get(name)! % 250) + 1}` };
}

function fakeOutputs(r: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const arn = `arn:aws:mock:::${r.name}`;
  switch (r.type) {
    case "aws:ec2/instance:Instance": {
      const ip = privateIpFor(r.name);
      const pub = r.inputs.associatePublicIpAddress ? `203.0.113.${(ipByName.get(r.name)! % 250) + 1}` : "";
      return { arn, privateIp: ip, publicIp: pub, privateDns: `ip-${ip.replace(/\./g, "-")}.ec2.internal` };
    }
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      return { arn: `arn:aws:s3:::${r.inputs.bucket ?? r.name}`, bucket: r.inputs.bucket ?? `${r.name}-bucket`, region: "us-east-1" };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::123456789012:role/${r.name}`, name: r.inputs.name ?? r.name };
    case "aws:iam/instanceProfile:InstanceProfile":
      return { arn: `arn:aws:iam::123456789012:instance-profile/${r.name}`, name: r.inputs.name ?? r.name };
    case "aws:ec2/keyPair:KeyPair":
      return { arn, keyName: r.inputs.keyName ?? r.name };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { arn, dnsName: `${r.name}.elb.us-east-1.amazonaws.com` };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { arn, latestVersion: 1 };
    case "aws:autoscaling/group:Group":
      return { arn: `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0000:autoScalingGroupName/${r.inputs.name ?? r.name}` };
    case "aws:kms/key:Key":
      return { arn: `arn:aws:kms:us-east-1:123456789012:key/${r.name}`, keyId: r.name };
    case "aws:ssm/parameter:Parameter":
      return { arn: `arn:aws:ssm:us-east-1:123456789012:parameter${r.inputs.name}` };
    case "tls:index/privateKey:PrivateKey":
      return {
        privateKeyOpenssh: `mock-openssh-private-key-for-${r.name}`,
        privateKeyPem: `mock-pem-private-key-for-${r.name}`,
        publicKeyOpenssh: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAImock${r.name} mock`,
      };
    case "command:remote:Command":
      return { stdout: mockCommandStdout(r), stderr: "" };
    case "docker:index/secret:Secret":
    case "docker:index/network:Network":
    case "docker:index/service:Service":
      // Pulumi names these when `name` is unset: the logical name plus a random suffix.
      return { name: r.inputs.name ?? `${r.name}-a1b2c3d` };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: `arn:aws:logs:us-east-1:123456789012:log-group:${r.inputs.name ?? r.name}`, name: r.inputs.name ?? r.name };
    case "aws:sns/topic:Topic":
      return { arn: `arn:aws:sns:us-east-1:123456789012:${r.name}` };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return { arn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${r.inputs.name ?? r.name}`, name: r.inputs.name ?? r.name };
    case "aws:lb/targetGroup:TargetGroup":
    case "aws:lb/listener:Listener":
      return { arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:${r.name}` };
    default:
      return { arn };
  }
}

/** Stand-in stdout of remote commands: a token for `join-token`, a node ID for joins. */
function mockCommandStdout(r: pulumi.runtime.MockResourceArgs): string {
  const create = String(r.inputs.create ?? "");
  if (/swarm-token '\d+' 'manager'$/.test(create)) return "SWMTKN-1-mockmanagertoken000000000000000000000000000000-mgr";
  if (/swarm-token '\d+' 'worker'$/.test(create)) return "SWMTKN-1-mockworkertoken0000000000000000000000000000000-wkr";
  return `node-id-${r.name}`;
}

pulumi.runtime.setMocks(
  {
    newResource: (r) => {
      created.push(r);
      return { id: `${r.name}-id`, state: { ...r.inputs, ...fakeOutputs(r) } };
    },
    call: (c) => {
      invoked.push(c);
      const result = invokeResults[c.token];
      if (result) return result(c.inputs);
      throw new Error(`unmocked invoke ${c.token}`);
    },
  },
  "aws-swarm",
  "test",
  false,
);

/**
 * Direct dependencies (`dependsOn` and data) of each registered resource, by name, as the SDK
 * sends them to the engine: the mocks never see them, the engine orders updates and deletes by them.
 */
export const dependenciesOf = new Map<string, string[]>();
/** The `replaceOnChanges` option of each registered resource, by name, as the SDK sends it. */
export const replaceOnChangesOf = new Map<string, string[]>();
{
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: { getName(): string; getDependenciesList(): string[]; getReplaceonchangesList(): string[] }, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    dependenciesOf.set(req.getName(), req.getDependenciesList().map((urn) => urn.split("::").pop()!));
    replaceOnChangesOf.set(req.getName(), req.getReplaceonchangesList());
    return register(req, callback);
  };
}

/** Resolves an Output's value; rejects after `ms` so a broken graph fails the test instead of hanging. */
export function valueOf<T>(o: pulumi.Output<T> | pulumi.Input<T>, ms = 10000): Promise<T> {
  const out = pulumi.output(o) as pulumi.Output<T>;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`output did not resolve within ${ms} ms`)), ms);
    out.apply((v) => {
      clearTimeout(timer);
      resolve(v);
      return v;
    });
  });
}

/** Lets queued registrations reach the monitor. */
export const settle = () => new Promise((done) => setTimeout(done, 50));

/** Recorded resources of one type, in registration order. */
export function ofType(type: string): pulumi.runtime.MockResourceArgs[] {
  return created.filter((r) => r.type === type);
}

/** Secret wrapper as the engine serializes it to mocks. */
export function unwrapSecret(v: unknown): unknown {
  if (v && typeof v === "object" && pulumi.runtime.specialSigKey in (v as object)) {
    return (v as Record<string, unknown>).value;
  }
  return v;
}

export function isWrappedSecret(v: unknown): boolean {
  return !!v && typeof v === "object" && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

/**
 * The recorded resources named `prefix` or `prefix-*`, once registrations under that prefix
 * have stopped arriving for `quietMs` (children register as their inputs resolve, so a fixed
 * delay is not enough). Rejects after `ms`, so a graph that never settles fails the test.
 */
export async function recordedUnder(
  prefix: string,
  quietMs = 150,
  ms = 10000,
): Promise<pulumi.runtime.MockResourceArgs[]> {
  const mine = () => created.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
  const deadline = Date.now() + ms;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const count = mine().length;
    if (count !== last) {
      last = count;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) {
      return mine();
    }
    if (Date.now() > deadline) {
      throw new Error(`registrations under ${prefix} did not settle within ${ms} ms`);
    }
    await new Promise((done) => setTimeout(done, 10));
  }
}

/** The outputs each component passed to registerOutputs, by component name. */
export const registeredOutputs = new Map<string, Record<string, unknown>>();

/**
 * Records every ComponentResource.registerOutputs call (by component name) so tests can check
 * that a component registered its public fields. Installed once, when this module loads.
 */
function recordRegisterOutputs(): void {
  const proto = pulumi.ComponentResource.prototype as unknown as {
    registerOutputs(this: pulumi.ComponentResource, outputs?: unknown): void;
  };
  const original = proto.registerOutputs;
  proto.registerOutputs = function (this: pulumi.ComponentResource, outputs?: unknown): void {
    const name = (this as unknown as { __name?: string }).__name;
    if (name && outputs && typeof outputs === "object") {
      registeredOutputs.set(name, outputs as Record<string, unknown>);
    }
    original.call(this, outputs);
  };
}
recordRegisterOutputs();

/**
 * Where the Services component writes SSH private keys under test: a fresh directory removed
 * when mocha exits, never the user's ~/.aws-swarm/keys.
 */
export const KEY_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-keys-"));
process.env.AWS_SWARM_KEY_DIR = KEY_DIR;
process.on("exit", () => fs.rmSync(KEY_DIR, { recursive: true, force: true }));

import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { created, isWrappedSecret, ofType, settle, unwrapSecret, valueOf } from "../helpers/mocks";
import { runProgram, stackConfig } from "../helpers/stack";
import { parseStackConfig } from "../../config";
import { workerGroupsProblems, workerGroupProblems } from "../../components/worker-groups-config";
import { WorkerGroup } from "../../components/worker-group";
import { decodeWorkerUserData } from "../../components/worker-user-data";
import { keeperUnits } from "../../components/keeper";

type Exports = Record<string, pulumi.Output<unknown> | string | undefined>;
const WORKER_TOKEN = "SWMTKN-1-mockworkertoken0000000000000000000000000000000-wkr";

async function evaluate(groups: unknown[]): Promise<Exports> {
  created.length = 0;
  const out = runProgram({ ...stackConfig("dev"), "aws-swarm:workerGroups": JSON.stringify(groups) }) as Exports;
  await valueOf(pulumi.all([out.managerPrivateIps, out.workerJoinToken, out.workerGroupNames]) as pulumi.Output<unknown>, 20000);
  // The keeper's install waits for the bootstrap to be ready: wait until it registered.
  for (let i = 0; i < 200 && !ofType("command:remote:Command").some((c) => /-keeper-/.test(c.name)); i++) await settle();
  await settle();
  return out;
}
const one = (type: string) => {
  const all = ofType(type);
  assert.strictEqual(all.length, 1, `${type}: ${all.map((r) => r.name).join(", ")}`);
  return all[0];
};
const policy = (name: string) => JSON.parse(String(ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === name)!.inputs.policy));

describe("workerGroups validation (one rule for stack config and WorkerGroupArgs)", () => {
  it("accepts a minimal group and a full one", () => {
    assert.deepStrictEqual(workerGroupsProblems([{ name: "general", min: 1, max: 3 },
      { name: "batch", instanceType: "c6i.large", min: 0, max: 1000, desired: 10, spot: true, labels: { tier: "batch" } }], "workerGroups"), []);
  });

  it("names the key, the value and the fix for each problem, all at once", () => {
    assert.deepStrictEqual(workerGroupsProblems([{ name: "Big_One", min: 5, max: 2, desired: 9, spot: "yes", size: 3 }], "aws-swarm:workerGroups"), [
      "aws-swarm:workerGroups[0].size is not a known setting; use only name, instanceType, min, max, desired, spot, labels.",
      'aws-swarm:workerGroups[0].name is "Big_One"; use a kebab-case name of at most 32 characters, e.g. "general".',
      "aws-swarm:workerGroups[0].min is 5 but aws-swarm:workerGroups[0].max is 2; min must not exceed max: use a max of at least 5, or lower min.",
      "aws-swarm:workerGroups[0].desired is 9; use a desired between min (5) and max (2), or leave it unset.",
      'aws-swarm:workerGroups[0].spot is "yes"; use true or false.',
    ]);
  });

  it("caps a group at 1000 instances and rejects names used twice", () => {
    assert.deepStrictEqual(workerGroupsProblems([{ name: "a", min: 0, max: 1001 }, { name: "a", min: 0, max: 1 }], "workerGroups"), [
      "workerGroups[0].max is 1001; use a whole number of instances from 0 to 1000.",
      'workerGroups has two groups named "a"; give every group its own name.',
    ]);
  });

  it("refuses labels the group sets itself", () => {
    assert.deepStrictEqual(workerGroupProblems({ name: "a", min: 0, max: 1, labels: { az: "x" } }), [
      "labels.az is set by the group itself from each instance; remove it.",
    ]);
  });

  it("is what the stack config reports under aws-swarm:workerGroups", () => {
    const base = stackConfig("dev");
    const r = parseStackConfig({ ...base, "aws-swarm:workerGroups": JSON.stringify([{ name: "g", min: 2, max: 1 }]) }, () => true);
    assert.deepStrictEqual(r.problems, ["aws-swarm:workerGroups[0].min is 2 but aws-swarm:workerGroups[0].max is 1; min must not exceed max: use a max of at least 2, or lower min."]);
    const plain = parseStackConfig({ ...base, "aws-swarm:workerGroups": "general" }, () => true);
    assert.match(plain.problems[0], /^aws-swarm:workerGroups is "general", a plain string, but it must be a list; .*'aws-swarm:workerGroups\[0\]\.name' general/);
    assert.deepStrictEqual(parseStackConfig(base, () => true).config!.workerGroups, []);
  });

  it("stops WorkerGroup before it creates any child", async () => {
    created.length = 0;
    const join = { tokenParameterName: "t", managersParameterName: "m", instanceProfileName: "p", roleName: "r", region: "us-east-1" };
    assert.throws(() => new WorkerGroup("wg", { name: "g", min: 3, max: 2, subnetIds: ["s"], securityGroupIds: ["sg"], join }),
      /min is 3 but max is 2; min must not exceed max/);
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.custom).map((r) => r.name), []);
  });
});

describe("program with a worker group", () => {
  let out: Exports;
  before(async () => {
    out = await evaluate([{ name: "general", min: 1, max: 10, desired: 2, labels: { tier: "web" } }]);
  });

  it("builds a launch template with IMDSv2 only, hop limit 2, an encrypted volume and the join role", () => {
    const t = one("aws:ec2/launchTemplate:LaunchTemplate");
    assert.deepStrictEqual(t.inputs.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 });
    assert.deepStrictEqual(t.inputs.blockDeviceMappings, [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3", volumeSize: 20, deleteOnTermination: "true" } }]);
    assert.deepStrictEqual(t.inputs.iamInstanceProfile, { name: "swarm-join-profile" });
    assert.strictEqual(t.inputs.instanceType, "t3.small");
    assert.deepStrictEqual((t.inputs.networkInterfaces as { securityGroups: string[] }[])[0].securityGroups, ["swarm-network-nodes-id"]);
  });

  it("puts no secret in the user data, only where to read the token", () => {
    const text = decodeWorkerUserData(String(one("aws:ec2/launchTemplate:LaunchTemplate").inputs.userData));
    assert.doesNotMatch(text, /SWMTKN-1-[A-Za-z0-9]{20,}/);
    assert.match(text, /^AWS_SWARM_TOKEN_PARAMETER='\/swarm\/aws-swarm\/test\/swarm-join\/worker-join-token'$/m);
    assert.match(text, /^AWS_SWARM_MANAGERS_PARAMETER='\/swarm\/aws-swarm\/test\/swarm-join\/manager-addresses'$/m);
    assert.match(text, /^AWS_SWARM_GROUP='general'$/m);
    assert.match(text, /^AWS_SWARM_LABELS='tier=web'$/m);
    assert.match(text, /^AWS_SWARM_REGISTRY_BUCKET='swarm-registry-bucket-bucket'$/m);
    assert.match(text, /^exec \/usr\/local\/sbin\/aws-swarm-worker-boot$/m);
  });

  it("spreads the Auto Scaling group over the node subnet of every AZ with the group's sizes", () => {
    const g = one("aws:autoscaling/group:Group");
    assert.deepStrictEqual([g.inputs.name, g.inputs.minSize, g.inputs.maxSize, g.inputs.desiredCapacity], ["aws-swarm-test-swarm-general", 1, 10, 2]);
    assert.deepStrictEqual(g.inputs.vpcZoneIdentifiers, ["swarm-network-public-1-id", "swarm-network-public-2-id"]);
    assert.deepStrictEqual(g.inputs.launchTemplate, { id: "swarm-group-general-template-id", version: "1" });
    assert.strictEqual(g.inputs.mixedInstancesPolicy, undefined);
    const tags = Object.fromEntries((g.inputs.tags as { key: string; value: string; propagateAtLaunch: boolean }[]).map((t) => [t.key, [t.value, t.propagateAtLaunch]]));
    assert.deepStrictEqual(tags["swarm:role"], ["worker", true]);
    assert.deepStrictEqual(tags["swarm:group"], ["general", true]);
  });

  it("holds terminating instances with a hook long enough to drain", () => {
    const h = one("aws:autoscaling/lifecycleHook:LifecycleHook");
    assert.deepStrictEqual([h.inputs.name, h.inputs.autoscalingGroupName, h.inputs.lifecycleTransition, h.inputs.heartbeatTimeout, h.inputs.defaultResult],
      ["aws-swarm-drain", "aws-swarm-test-swarm-general", "autoscaling:EC2_INSTANCE_TERMINATING", 300, "CONTINUE"]);
  });

  it("keeps the worker token in a SecureString under the stack key, and secret", () => {
    // The stack has a second key, for autolock and backups (SwarmOperations); this is the join's.
    const key = ofType("aws:kms/key:Key").find((k) => k.name === "swarm-join-key")!;
    assert.ok(key, "no swarm-join-key");
    assert.strictEqual(key.inputs.enableKeyRotation, true);
    const params = ofType("aws:ssm/parameter:Parameter").sort((a, b) => a.name.localeCompare(b.name));
    assert.deepStrictEqual(params.map((p) => [p.name, p.inputs.type, p.inputs.keyId]), [
      ["swarm-join-managers", "String", undefined],
      ["swarm-join-token", "SecureString", "arn:aws:kms:us-east-1:123456789012:key/swarm-join-key"],
    ]);
    assert.ok(isWrappedSecret(params[1].inputs.value));
    assert.strictEqual(unwrapSecret(params[1].inputs.value), WORKER_TOKEN);
    assert.match(String(unwrapSecret(params[0].inputs.value)), /^10\.0\.\d+\.\d+$/);
  });

  it("has the token nowhere but inside that secret", () => {
    const hits: string[] = [];
    const walk = (v: unknown, where: string) => {
      if (isWrappedSecret(v)) return;
      if (typeof v === "string") { if (/SWMTKN-1-[A-Za-z0-9]{20,}/.test(v)) hits.push(where); return; }
      if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
    };
    for (const r of created) walk(r.inputs, r.name);
    assert.deepStrictEqual(hits, []);
  });

  it("lets only the worker groups' role read the token: GetParameter on the two ARNs, Decrypt through SSM", () => {
    assert.deepStrictEqual(policy("swarm-join-read"), {
      Version: "2012-10-17",
      Statement: [
        { Sid: "ReadJoinParameters", Effect: "Allow", Action: "ssm:GetParameter", Resource: [
          "arn:aws:ssm:us-east-1:123456789012:parameter/swarm/aws-swarm/test/swarm-join/worker-join-token",
          "arn:aws:ssm:us-east-1:123456789012:parameter/swarm/aws-swarm/test/swarm-join/manager-addresses"] },
        { Sid: "DecryptJoinTokenThroughSsm", Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:123456789012:key/swarm-join-key",
          Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } } },
      ],
    });
    const roles = ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => /kms:Decrypt|ssm:GetParameter/.test(String(p.inputs.policy)));
    assert.deepStrictEqual(roles.map((p) => p.inputs.role), ["swarm-join-role"]);
  });

  it("lets instances mark only their own group unhealthy", () => {
    assert.deepStrictEqual(policy("swarm-group-general-health").Statement, [{ Sid: "MarkOwnInstancesUnhealthy", Effect: "Allow",
      Action: "autoscaling:SetInstanceHealth", Resource: "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0000:autoScalingGroupName/aws-swarm-test-swarm-general" }]);
  });

  it("gives the managers read-only describes and CompleteLifecycleAction on the groups only", () => {
    const p = ofType("aws:iam/rolePolicy:RolePolicy").find((x) => x.name === "swarm-keeper-policy")!;
    assert.strictEqual(p.inputs.role, "swarm-managers-role");
    assert.deepStrictEqual(JSON.parse(String(p.inputs.policy)).Statement, [
      { Sid: "DescribeInstancesAndGroups", Effect: "Allow", Resource: "*",
        Action: ["ec2:DescribeInstances", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups"] },
      { Sid: "CompleteWorkerLifecycleActions", Effect: "Allow", Action: "autoscaling:CompleteLifecycleAction",
        Resource: ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0000:autoScalingGroupName/aws-swarm-test-swarm-general"] },
    ]);
  });

  it("installs the keeper on every manager once the swarm is ready, with the groups and a timer", () => {
    const installs = ofType("command:remote:Command").filter((c) => c.name.startsWith("swarm-keeper-"));
    assert.deepStrictEqual(installs.map((c) => c.name), ["swarm-keeper-manager-1"]);
    const create = String(installs[0].inputs.create);
    assert.match(create, /AWS_SWARM_GROUPS='\\''aws-swarm-test-swarm-general'\\''/);
    assert.ok(create.includes(keeperUnits(20).timer.replace(/'/g, `'\\''`)));
    assert.ok(create.includes("ExecStart=/usr/local/sbin/aws-swarm-keeper"));
    // Registered only after every bootstrap member step returned.
    const order = created.map((r) => r.name);
    const lastMember = Math.max(...order.map((n, i) => (/-member$/.test(n) ? i : -1)));
    assert.ok(order.indexOf("swarm-keeper-manager-1") > lastMember);
  });

  it("gives the group's role the registry's bucket policy", () => {
    const a = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").find((x) => x.name === "swarm-registry-groups-access")!;
    assert.strictEqual(a.inputs.role, "swarm-join-role");
  });

  it("lets the group's role write the services' and the journal's logs, like the fixed workers", () => {
    const a = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").find((x) => x.name === "swarm-logs-worker-groups-write");
    assert.ok(a, "no log write attachment for the worker groups' role");
    assert.strictEqual(a.inputs.role, "swarm-join-role");
  });

  it("exports the groups' names", async () => {
    assert.deepStrictEqual(await valueOf(out.workerGroupNames as pulumi.Output<unknown>), { general: "aws-swarm-test-swarm-general" });
  });
});

describe("program with worker groups: cost that does not grow with size", () => {
  it("uses mixed instances on Spot only when asked", async () => {
    await evaluate([{ name: "cheap", min: 0, max: 4, spot: true }]);
    const g = one("aws:autoscaling/group:Group");
    assert.strictEqual(g.inputs.launchTemplate, undefined);
    assert.deepStrictEqual(g.inputs.mixedInstancesPolicy, {
      instancesDistribution: { onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0, spotAllocationStrategy: "price-capacity-optimized" },
      launchTemplate: { launchTemplateSpecification: { launchTemplateId: "swarm-group-cheap-template-id", version: "1" } },
    });
    assert.strictEqual(g.inputs.desiredCapacity, 0);
  });

  it("registers the same resources for 1000 desired workers as for 1", async () => {
    await evaluate([{ name: "g", min: 1, max: 1000, desired: 1 }]);
    const small = created.map((r) => `${r.type} ${r.name}`).sort();
    await evaluate([{ name: "g", min: 1, max: 1000, desired: 1000 }]);
    const big = created.map((r) => `${r.type} ${r.name}`).sort();
    assert.deepStrictEqual(big, small);
    const group = created.filter((r) => r.name.startsWith("swarm-group-g")).map((r) => r.type).sort();
    assert.deepStrictEqual(group, ["aws-swarm:index:WorkerGroup", "aws:autoscaling/group:Group", "aws:autoscaling/lifecycleHook:LifecycleHook",
      "aws:ec2/launchTemplate:LaunchTemplate", "aws:iam/rolePolicy:RolePolicy"]);
  });

  it("adds no group, join parameters or keeper without worker groups", async () => {
    await evaluate([]);
    // Backups (on by default with the registry) bring their own key: not the groups'.
    const groupish = created.filter((r) => /autoscaling|ssm\/|kms\/|SwarmKeeper|WorkerJoin/.test(r.type) && !r.name.startsWith("swarm-ops"));
    assert.deepStrictEqual(groupish.map((r) => r.type), []);
  });
});

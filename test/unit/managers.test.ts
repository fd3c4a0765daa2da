import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ManagerQuorum, ManagerQuorumArgs, managerQuorumProblems } from "../../components/managers";
import { WorkerPool } from "../../components/workers";
import { created, dependenciesOf, replaceOnChangesOf, recordedUnder, registeredOutputs, settle, valueOf } from "../helpers/mocks";

const subnetIds = ["subnet-a", "subnet-b", "subnet-c"];
const availabilityZones = ["us-east-1a", "us-east-1b", "us-east-1c"];
const securityGroupIds = ["sg-nodes", "sg-managers"];
const base: ManagerQuorumArgs = { subnetIds, availabilityZones, securityGroupIds };
const INSTANCE = "aws:ec2/instance:Instance";
const ordinal = (r: pulumi.runtime.MockResourceArgs) => Number(r.name.split("-").pop());

async function instancesOf(name: string, args: Partial<ManagerQuorumArgs> = {}) {
  const quorum = new ManagerQuorum(name, { ...base, ...args });
  const recorded = await recordedUnder(name);
  const instances = recorded.filter((r) => r.type === INSTANCE);
  instances.sort((a, b) => ordinal(a) - ordinal(b));
  return { quorum, recorded, instances };
}

describe("ManagerQuorum", () => {
  beforeEach(() => {
    created.length = 0;
  });

  describe("count validation", () => {
    for (const count of [4, 2, 0, -1, 2.5, 9, 6]) {
      it(`rejects ${count} managers synchronously, before creating anything`, async () => {
        const name = `mq-bad-${String(count).replace(/\W/g, "_")}`;
        const expected =
          `count is ${count}; a Swarm manager quorum must be odd and at most 7: ` +
          `use 1, 3, 5 or 7.`;
        assert.throws(
          () => new ManagerQuorum(name, { ...base, count }),
          (e: Error) => e.message === expected,
        );
        await settle();
        assert.deepStrictEqual(
          created.filter((r) => r.custom && r.name.startsWith(name)),
          [],
        );
      });
    }

    it("accepts 1, 3, 5 and 7", () => {
      for (const count of [1, 3, 5, 7]) {
        assert.deepStrictEqual(managerQuorumProblems({ ...base, count }), []);
      }
    });

    it("reports every problem at once", () => {
      const args = { count: 2, subnetIds: [], securityGroupIds: [] };
      assert.deepStrictEqual(managerQuorumProblems(args), [
        "count is 2; a Swarm manager quorum must be odd and at most 7: use 1, 3, 5 or 7.",
        "subnetIds is []; give at least one subnet ID (one per AZ).",
        "securityGroupIds is []; give the Network's node security group(s).",
      ]);
    });

    it("rejects tags that would overwrite the swarm tags", () => {
      const args = { ...base, tags: { "swarm:role": "worker" } };
      assert.deepStrictEqual(managerQuorumProblems(args), [
        'tags sets "swarm:role"; the component sets that tag itself: remove it.',
      ]);
    });
  });

  it("creates three named managers by default", async () => {
    const { instances } = await instancesOf("mq-default");
    assert.deepStrictEqual(
      instances.map((i) => i.name),
      ["mq-default-manager-1", "mq-default-manager-2", "mq-default-manager-3"],
    );
  });

  it("orders the managers, so a change (update or replacement) reaches one at a time", async () => {
    await instancesOf("mq-chain", { count: 5 });
    const deps = (i: number) => (dependenciesOf.get(`mq-chain-manager-${i}`) ?? []).filter((d) => d.includes("-manager-"));
    assert.deepStrictEqual(deps(1), []);
    for (let i = 2; i <= 5; i++) assert.deepStrictEqual(deps(i), [`mq-chain-manager-${i - 1}`], `manager-${i}`);
  });

  it("orders workers in batches of 25 % by default, and as rollingBatch says", async () => {
    new WorkerPool("wp-chain", { ...base, count: 8 });
    new WorkerPool("wp-two", { ...base, count: 5, rollingBatch: { workers: "2" } });
    await recordedUnder("wp-chain");
    await recordedUnder("wp-two");
    const deps = (p: string, i: number) => (dependenciesOf.get(`${p}-worker-${i}`) ?? []).filter((d) => d.includes("-worker-")).sort();
    assert.deepStrictEqual([1, 2, 3, 4, 8].map((i) => deps("wp-chain", i)), [
      [], [], ["wp-chain-worker-1", "wp-chain-worker-2"], ["wp-chain-worker-1", "wp-chain-worker-2"], ["wp-chain-worker-5", "wp-chain-worker-6"],
    ]);
    assert.deepStrictEqual(deps("wp-two", 5), ["wp-two-worker-3", "wp-two-worker-4"]);
  });

  it("replaces a manager, never restarts it in place, when its instance type changes", async () => {
    // Replacement lets the bootstrap gate it; the mocks cannot see options, the SDK sends them.
    new ManagerQuorum("mq-replace", { ...base, count: 1 });
    await recordedUnder("mq-replace");
    assert.deepStrictEqual(replaceOnChangesOf.get("mq-replace-manager-1"), ["instanceType"]);
  });

  it("spreads 7 managers over 3 AZs round-robin: 3, 2, 2", async () => {
    const { quorum, instances } = await instancesOf("mq-seven", { count: 7 });
    const bySubnet = instances.map((i) => i.inputs.subnetId);
    assert.deepStrictEqual(bySubnet, [
      "subnet-a",
      "subnet-b",
      "subnet-c",
      "subnet-a",
      "subnet-b",
      "subnet-c",
      "subnet-a",
    ]);
    const perSubnet = subnetIds.map((s) => bySubnet.filter((x) => x === s).length);
    assert.deepStrictEqual(perSubnet, [3, 2, 2]);
    const zones = await valueOf(pulumi.all(quorum.availabilityZones));
    assert.deepStrictEqual(zones, bySubnet.map((s) => s.replace("subnet-", "us-east-1")));
    assert.deepStrictEqual(quorum.nodeNames, [1, 2, 3, 4, 5, 6, 7].map((i) => `manager-${i}`));
  });

  it("hardens every manager: IMDSv2, hop limit 2, encrypted root, fixed user data", async () => {
    const { instances } = await instancesOf("mq-hard", { count: 3 });
    assert.strictEqual(instances.length, 3);
    for (const i of instances) {
      assert.deepStrictEqual(i.inputs.metadataOptions, {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 2,
      });
      assert.deepStrictEqual(i.inputs.rootBlockDevice, {
        encrypted: true,
        volumeType: "gp3",
        volumeSize: 20,
      });
      // A user data change replaces the manager, so the bootstrap can roll it (rolling.ts).
      assert.strictEqual(i.inputs.userDataReplaceOnChange, true);
      assert.match(i.inputs.userData, /systemctl enable --now docker/);
      assert.doesNotMatch(i.inputs.userData, /SWMTKN|PRIVATE KEY|AKIA|token/i);
    }
  });

  it("wires type, AMI, profile, key, security groups and tags into each instance", async () => {
    const args = { count: 1, keyName: "ops", tags: { team: "infra" } };
    const { instances } = await instancesOf("mq-wire", args);
    const i = instances[0].inputs;
    assert.deepStrictEqual(
      [i.instanceType, i.ami, i.iamInstanceProfile, i.keyName],
      ["t3.small", "ami-0123456789abcdef0", "mq-wire-profile", "ops"],
    );
    assert.deepStrictEqual(
      [i.vpcSecurityGroupIds, i.associatePublicIpAddress],
      [securityGroupIds, false],
    );
    const tags = {
      team: "infra",
      Name: "mq-wire-manager-1",
      "swarm:role": "manager",
      "swarm:cluster": "mq-wire",
    };
    assert.deepStrictEqual(i.tags, tags);
    assert.deepStrictEqual(i.volumeTags, tags);
  });

  it("uses the given cluster name, instance type, volume size and AMI", async () => {
    const { quorum, instances } = await instancesOf("mq-custom", {
      count: 1,
      clusterName: "prod",
      instanceType: "m6i.large",
      rootVolumeSize: 50,
      amiId: "ami-custom",
    });
    const i = instances[0].inputs;
    assert.deepStrictEqual(
      [i.instanceType, i.ami, i.rootBlockDevice.volumeSize, i.tags["swarm:cluster"]],
      ["m6i.large", "ami-custom", 50, "prod"],
    );
    assert.deepStrictEqual(await valueOf(pulumi.all(quorum.instanceTypes)), ["m6i.large"]);
  });

  it("ignores new AMI releases only when the AMI is looked up", async () => {
    const ignored = new Map<string, string[] | undefined>();
    const record: pulumi.ComponentResourceOptions = {
      transformations: [(a) => (ignored.set(a.name, a.opts.ignoreChanges), undefined)],
    };
    new ManagerQuorum("mq-ami-latest", { ...base, count: 1 }, record);
    new ManagerQuorum("mq-ami-pinned", { ...base, count: 1, amiId: "ami-pinned" }, record);
    await recordedUnder("mq-ami");
    assert.deepStrictEqual(ignored.get("mq-ami-latest-manager-1"), ["ami"]);
    assert.deepStrictEqual(ignored.get("mq-ami-pinned-manager-1"), []);
  });

  it("exposes private IPs, and empty public IPs without public addresses", async () => {
    const { quorum } = await instancesOf("mq-ips", { count: 3 });
    const ips = await valueOf(pulumi.all(quorum.privateIps));
    assert.strictEqual(ips.length, 3);
    for (const ip of ips) assert.match(ip, /^10\.0\.\d+\.\d+$/);
    assert.strictEqual(new Set(ips).size, 3);
    assert.deepStrictEqual(await valueOf(pulumi.all(quorum.publicIps)), ["", "", ""]);
  });

  it("gives managers public IPs when asked", async () => {
    const { quorum } = await instancesOf("mq-pub", { count: 1, associatePublicIpAddress: true });
    assert.match(await valueOf(quorum.publicIps[0]), /^203\.0\.113\.\d+$/);
  });

  it("creates an EC2-only role without policies, and its instance profile", async () => {
    const { quorum, recorded } = await instancesOf("mq-iam", { count: 1 });
    const role = recorded.find((r) => r.type === "aws:iam/role:Role");
    assert.ok(role);
    assert.deepStrictEqual(JSON.parse(role.inputs.assumeRolePolicy), {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    });
    assert.deepStrictEqual(role.inputs.managedPolicyArns, undefined);
    const profile = recorded.find((r) => r.type === "aws:iam/instanceProfile:InstanceProfile");
    assert.strictEqual(profile?.inputs.role, "mq-iam-role");
    const policies = /iam\/(rolePolicyAttachment|policy|accessKey|rolePolicy)/;
    assert.deepStrictEqual(recorded.filter((r) => policies.test(r.type)), []);
    assert.strictEqual(await valueOf(quorum.role.name), "mq-iam-role");
  });

  it("parents instances and IAM to the quorum", async () => {
    const quorum = new ManagerQuorum("mq-parent", { ...base, count: 1 });
    assert.match(
      await valueOf(quorum.instances[0].urn),
      /aws-swarm:index:ManagerQuorum\$aws:ec2\/instance:Instance::mq-parent-manager-1$/,
    );
    assert.match(
      await valueOf(quorum.role.urn),
      /ManagerQuorum\$aws:iam\/role:Role::mq-parent-role$/,
    );
    assert.match(
      await valueOf(quorum.instanceProfile.urn),
      /ManagerQuorum\$aws:iam\/instanceProfile:InstanceProfile::mq-parent-profile$/,
    );
  });

  it("registers its public fields as outputs", async () => {
    const quorum = new ManagerQuorum("mq-outputs", { ...base, count: 1 });
    await settle();
    const outputs = registeredOutputs.get("mq-outputs");
    assert.ok(outputs);
    assert.strictEqual(outputs.privateIps, quorum.privateIps);
    assert.strictEqual(outputs.instances, quorum.instances);
    assert.strictEqual(outputs.role, quorum.role);
    assert.strictEqual(outputs.availabilityZones, quorum.availabilityZones);
  });
});

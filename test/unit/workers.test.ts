import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { WorkerPool, WorkerPoolArgs, workerPoolProblems } from "../../components/workers";
import { created, recordedUnder, registeredOutputs, settle, valueOf } from "../helpers/mocks";

const subnetIds = ["subnet-a", "subnet-b", "subnet-c"];
const availabilityZones = ["us-east-1a", "us-east-1b", "us-east-1c"];
const base: WorkerPoolArgs = { subnetIds, availabilityZones, securityGroupIds: ["sg-nodes"] };
const INSTANCE = "aws:ec2/instance:Instance";
const ordinal = (r: pulumi.runtime.MockResourceArgs) => Number(r.name.split("-").pop());

async function instancesOf(name: string, args: Partial<WorkerPoolArgs> = {}) {
  const pool = new WorkerPool(name, { ...base, ...args });
  const recorded = await recordedUnder(name);
  const instances = recorded.filter((r) => r.type === INSTANCE);
  instances.sort((a, b) => ordinal(a) - ordinal(b));
  return { pool, recorded, instances };
}

describe("WorkerPool", () => {
  beforeEach(() => {
    created.length = 0;
  });

  describe("count validation", () => {
    for (const count of [-1, 1001, 2.5, Number.NaN]) {
      it(`rejects ${count} workers synchronously, naming the value`, async () => {
        const name = `wp-bad-${String(count).replace(/\W/g, "_")}`;
        const expected = `count is ${count}; use a whole number of workers from 0 to 1000.`;
        assert.throws(
          () => new WorkerPool(name, { ...base, count }),
          (e: Error) => e.message === expected,
        );
        await settle();
        assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith(name)), []);
      });
    }

    it("accepts 0, 1 and 1000", () => {
      for (const count of [0, 1, 1000]) {
        assert.deepStrictEqual(workerPoolProblems({ ...base, count }), []);
      }
    });

    it("reports a bad count together with bad node settings", () => {
      assert.deepStrictEqual(workerPoolProblems({ ...base, count: -1, rootVolumeSize: 4 }), [
        "count is -1; use a whole number of workers from 0 to 1000.",
        "rootVolumeSize is 4; use a whole number of GiB from 8 to 16384.",
      ]);
    });

    it("rejects AZ names that do not match the subnets", () => {
      assert.deepStrictEqual(workerPoolProblems({ ...base, availabilityZones: ["us-east-1a"] }), [
        "availabilityZones has 1 entries but subnetIds has 3; " +
          "give one AZ name per subnet, in the same order.",
      ]);
    });
  });

  it("creates two named workers by default, round-robin over the subnets", async () => {
    const { pool, instances } = await instancesOf("wp-default");
    assert.deepStrictEqual(
      instances.map((i) => [i.name, i.inputs.subnetId]),
      [
        ["wp-default-worker-1", "subnet-a"],
        ["wp-default-worker-2", "subnet-b"],
      ],
    );
    assert.deepStrictEqual(pool.nodeNames, ["worker-1", "worker-2"]);
    const zones = await valueOf(pulumi.all(pool.availabilityZones));
    assert.deepStrictEqual(zones, ["us-east-1a", "us-east-1b"]);
  });

  it("spreads 5 workers over 2 subnets as 3 and 2", async () => {
    const { instances } = await instancesOf("wp-five", {
      count: 5,
      subnetIds: ["subnet-x", "subnet-y"],
      availabilityZones: ["us-east-1a", "us-east-1b"],
    });
    assert.deepStrictEqual(
      instances.map((i) => i.inputs.subnetId),
      ["subnet-x", "subnet-y", "subnet-x", "subnet-y", "subnet-x"],
    );
  });

  it("creates no instances for a count of 0, but still the role", async () => {
    const { pool, recorded } = await instancesOf("wp-zero", { count: 0 });
    assert.deepStrictEqual(pool.instances, []);
    assert.deepStrictEqual(recorded.filter((r) => r.type === INSTANCE), []);
    assert.deepStrictEqual(recorded.filter((r) => r.custom).map((r) => r.type).sort(), [
      "aws:iam/instanceProfile:InstanceProfile",
      "aws:iam/role:Role",
    ]);
  });

  it("hardens every worker and tags it as a worker", async () => {
    const { instances } = await instancesOf("wp-hard", { count: 3, clusterName: "prod" });
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
      const tags = i.inputs.tags;
      assert.deepStrictEqual([tags["swarm:role"], tags["swarm:cluster"]], ["worker", "prod"]);
      assert.deepStrictEqual(i.inputs.vpcSecurityGroupIds, ["sg-nodes"]);
      assert.strictEqual(i.inputs.iamInstanceProfile, "wp-hard-profile");
      assert.doesNotMatch(i.inputs.userData, /SWMTKN|PRIVATE KEY|AKIA|token/i);
    }
  });

  it("exposes private IPs, instance types and the role", async () => {
    const { pool } = await instancesOf("wp-out", { count: 2, instanceType: "t3.medium" });
    const ips = await valueOf(pulumi.all(pool.privateIps));
    assert.strictEqual(new Set(ips).size, 2);
    for (const ip of ips) assert.match(ip, /^10\.0\.\d+\.\d+$/);
    const types = await valueOf(pulumi.all(pool.instanceTypes));
    assert.deepStrictEqual(types, ["t3.medium", "t3.medium"]);
    assert.strictEqual(await valueOf(pool.role.name), "wp-out-role");
  });

  it("parents workers to the pool", async () => {
    const pool = new WorkerPool("wp-parent", { ...base, count: 1 });
    assert.match(
      await valueOf(pool.instances[0].urn),
      /aws-swarm:index:WorkerPool\$aws:ec2\/instance:Instance::wp-parent-worker-1$/,
    );
  });

  it("registers its public fields as outputs", async () => {
    const pool = new WorkerPool("wp-outputs", { ...base, count: 1 });
    await settle();
    const outputs = registeredOutputs.get("wp-outputs");
    assert.ok(outputs);
    assert.strictEqual(outputs.privateIps, pool.privateIps);
    assert.strictEqual(outputs.instanceProfile, pool.instanceProfile);
  });
});

import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { SwarmCluster } from "../../components/cluster";
import { swarmPolicies } from "../../policy/rules/all";
import { created, valueOf } from "../helpers/mocks";
import { PackViolation, runPack, whenSettled } from "../helpers/policy";
import { runProgram, stackConfig } from "../helpers/stack";

const SSH_RULE = "swarm-no-ssh-from-world-or-unlisted-cidrs";

/** The stack's own sshAllowedCidrs, handed to the SSH rule as its allow-list. */
function sshConfig(cidrs: string[]): Record<string, object> {
  return { [SSH_RULE]: { allowedSshCidrs: cidrs } };
}

function typesOf(recorded: readonly pulumi.runtime.MockResourceArgs[]): Set<string> {
  return new Set(recorded.map((r) => r.type));
}

/** Types every mocked stack must contain, so "no violations" means the rules saw real work. */
const CHECKED_TYPES = [
  "aws:ec2/instance:Instance",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:iam/role:Role",
  "aws:iam/policy:Policy",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
];

async function evaluateStack(stack: string): Promise<pulumi.runtime.MockResourceArgs[]> {
  created.length = 0;
  const token = runProgram(stackConfig(stack)).workerJoinToken;
  if (!pulumi.Output.isInstance<string>(token)) throw new Error(`${stack}: no workerJoinToken`);
  // The bootstrap's last step resolves only after every resource before it registered.
  await valueOf(token, 20000);
  await whenSettled(created);
  return [...created];
}

function sshCidrsOf(stack: string): string[] {
  const cidrs: unknown = JSON.parse(stackConfig(stack)["aws-swarm:sshAllowedCidrs"]);
  assert.ok(Array.isArray(cidrs), `${stack}: aws-swarm:sshAllowedCidrs is not a list`);
  return cidrs.map(String);
}

describe("policy pack round trip", () => {
  for (const stack of ["dev", "prod"]) {
    describe(`the mocked ${stack} stack`, () => {
      let recorded: pulumi.runtime.MockResourceArgs[];
      before(async () => {
        recorded = await evaluateStack(stack);
      });

      it("contains every resource type the pack checks", () => {
        const types = typesOf(recorded);
        assert.deepStrictEqual(
          CHECKED_TYPES.filter((t) => !types.has(t)),
          [],
        );
      });

      it("passes every rule with the default policy config", async () => {
        assert.deepStrictEqual(await runPack(swarmPolicies, recorded), []);
      });

      it("passes every rule with the stack's own sshAllowedCidrs as the SSH allow-list", async () => {
        const config = sshConfig(sshCidrsOf(stack));
        assert.deepStrictEqual(await runPack(swarmPolicies, recorded, { config }), []);
      });

      it("reports the stack's SSH rule once its CIDR is left off the allow-list", async () => {
        const [cidr] = sshCidrsOf(stack);
        const config = sshConfig(["192.0.2.0/24"]);
        const violations = await runPack(swarmPolicies, recorded, { config });
        assert.deepStrictEqual(
          violations.map((v) => [v.policy, v.message.replace(/^ingress rule "[^"]+" /, "")]),
          [
            [
              SSH_RULE,
              `allows 22/tcp from ${cidr}, which is outside allowedSshCidrs (192.0.2.0/24), exposing SSH (port 22); add the CIDR to allowedSshCidrs in the policy config or narrow the rule to a listed CIDR.`,
            ],
          ],
        );
      });
    });
  }

  describe("a cluster with worker groups (on-demand and Spot) and the keeper", () => {
    let recorded: pulumi.runtime.MockResourceArgs[];
    before(async () => {
      created.length = 0;
      const cluster = new SwarmCluster("swarm", {
        managerCount: 3,
        workerCount: 0,
        sshAllowedCidrs: ["203.0.113.0/24"],
        nodePlacement: "private",
        workerGroups: [{ name: "general", min: 1, max: 10 }, { name: "batch", min: 0, max: 100, desired: 5, spot: true, labels: { tier: "batch" } }],
      });
      await valueOf(cluster.workerJoinToken, 20000);
      await whenSettled(created);
      recorded = [...created];
    });

    it("contains the groups' templates, groups, hooks, parameters, key and policies", () => {
      const types = typesOf(recorded);
      assert.deepStrictEqual([
        "aws:ec2/launchTemplate:LaunchTemplate", "aws:autoscaling/group:Group", "aws:autoscaling/lifecycleHook:LifecycleHook",
        "aws:ssm/parameter:Parameter", "aws:kms/key:Key", "aws:iam/rolePolicy:RolePolicy",
      ].filter((t) => !types.has(t)), []);
    });

    it("passes every rule of the pack with no violation", async () => {
      assert.deepStrictEqual(await runPack(swarmPolicies, recorded, { config: sshConfig(["203.0.113.0/24"]) }), []);
    });
  });

  describe("a private three-manager cluster built directly", () => {
    let violations: PackViolation[];
    before(async () => {
      created.length = 0;
      const cluster = new SwarmCluster("swarm", {
        managerCount: 3,
        workerCount: 2,
        sshAllowedCidrs: ["203.0.113.0/24"],
        nodePlacement: "private",
        azCount: 3,
      });
      await valueOf(cluster.workerJoinToken, 20000);
      await whenSettled(created);
      violations = await runPack(swarmPolicies, [...created], {
        config: sshConfig(["203.0.113.0/24"]),
      });
    });

    it("passes every rule of the pack with no violation", () => {
      assert.deepStrictEqual(violations, []);
    });
  });
});

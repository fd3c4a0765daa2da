import * as assert from "node:assert";
import * as aws from "@pulumi/aws";
import { swarmNoEvenOrOversizedManagerQuorum } from "../../policy/rules/stack";
import { runWithUrns, runPolicy, stackArgs, stackResource } from "../helpers/policy";
import type { PolicyResource } from "../../policy/rules/all";

/** Instances tagged with `role` in `cluster` (no cluster tag when cluster is undefined). */
function nodes(
  role: string,
  count: number,
  cluster?: string,
  prefix = `${cluster ?? "x"}-${role}`,
): PolicyResource[] {
  return Array.from({ length: count }, (_, i) =>
    stackResource(
      aws.ec2.Instance,
      {
        tags: {
          "swarm:role": role,
          ...(cluster === undefined ? {} : { "swarm:cluster": cluster }),
        },
      },
      { name: `${prefix}-${i + 1}` },
    ),
  );
}

describe("swarm-no-even-or-oversized-manager-quorum", () => {
  const policy = swarmNoEvenOrOversizedManagerQuorum;
  const FIX = "Raft needs a majority of managers, so run an odd number of at most 7: 1, 3, 5, 7.";

  it("passes three managers and any number of workers", async () => {
    const args = stackArgs([...nodes("manager", 3, "prod"), ...nodes("worker", 4, "prod")]);
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports four managers for the whole stack, naming them", async () => {
    const args = stackArgs(nodes("manager", 4, "prod"));
    assert.deepStrictEqual(await runWithUrns(policy, args), [
      {
        message: `Swarm cluster "prod" has 4 managers (aws.ec2.Instance tagged swarm:role=manager: prod-manager-1, prod-manager-2, prod-manager-3, prod-manager-4); ${FIX}`,
      },
    ]);
  });

  it("reports nine managers", async () => {
    const args = stackArgs(nodes("manager", 9, "big", "m"));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `Swarm cluster "big" has 9 managers (aws.ec2.Instance tagged swarm:role=manager: m-1, m-2, m-3, m-4, m-5, m-6, m-7, m-8, m-9); ${FIX}`,
    ]);
  });

  it("counts each cluster tag separately", async () => {
    const args = stackArgs([...nodes("manager", 3, "a"), ...nodes("manager", 2, "b")]);
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `Swarm cluster "b" has 2 managers (aws.ec2.Instance tagged swarm:role=manager: b-manager-1, b-manager-2); ${FIX}`,
    ]);
  });

  it("groups managers without a cluster tag together", async () => {
    const args = stackArgs(nodes("manager", 2, undefined, "m"));
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `Swarm cluster without a swarm:cluster tag has 2 managers (aws.ec2.Instance tagged swarm:role=manager: m-1, m-2); ${FIX}`,
    ]);
  });

  it("ignores instances with no tags set", async () => {
    const untagged = [1, 2].map((i) =>
      stackResource(aws.ec2.Instance, { ami: "ami-1" }, { name: `plain-${i}` }),
    );
    assert.deepStrictEqual(await runPolicy(policy, stackArgs(untagged)), []);
  });

  it("ignores manager tags on resources that are not instances", async () => {
    const templates = [1, 2].map((i) =>
      stackResource(
        aws.ec2.LaunchTemplate,
        { tags: { "swarm:role": "manager" } },
        { name: `lt-${i}` },
      ),
    );
    assert.deepStrictEqual(await runPolicy(policy, stackArgs(templates)), []);
  });
});

import * as aws from "@pulumi/aws";
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { ALLOWED_MANAGER_COUNTS, SWARM_CLUSTER_TAG, SWARM_ROLE_TAG } from "../../components/ports";

const MANAGER = "manager";

function tagsOf(resource: PolicyResource): Record<string, unknown> {
  const tags: unknown = resource.props.tags;
  return typeof tags === "object" && tags !== null ? { ...tags } : {};
}

/** Manager instances grouped by their cluster tag ("" when untagged), in stack order. */
export function managersByCluster(resources: PolicyResource[]): Map<string, PolicyResource[]> {
  const clusters = new Map<string, PolicyResource[]>();
  for (const r of resources.filter((r) => r.isType(aws.ec2.Instance))) {
    const tags = tagsOf(r);
    if (tags[SWARM_ROLE_TAG] !== MANAGER) continue;
    const cluster =
      typeof tags[SWARM_CLUSTER_TAG] === "string" ? String(tags[SWARM_CLUSTER_TAG]) : "";
    clusters.set(cluster, [...(clusters.get(cluster) ?? []), r]);
  }
  return clusters;
}

const allowed = ALLOWED_MANAGER_COUNTS.join(", ");
const most = Math.max(...ALLOWED_MANAGER_COUNTS);

export const swarmNoEvenOrOversizedManagerQuorum: StackValidationPolicy = {
  name: "swarm-no-even-or-oversized-manager-quorum",
  description:
    `Forbids a Swarm whose manager count is even or above ${most}: aws.ec2.Instance resources ` +
    `tagged ${SWARM_ROLE_TAG}=${MANAGER} are counted per ${SWARM_CLUSTER_TAG} tag and must ` +
    `number ${allowed}.`,
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    `Run ${allowed} managers: an even count tolerates no more failures than the odd count ` +
    `below it, and more than ${most} slows every Raft write.`,
  validateStack: (args, report) => {
    for (const [cluster, managers] of managersByCluster(args.resources)) {
      if (ALLOWED_MANAGER_COUNTS.includes(managers.length)) continue;
      const which = cluster === "" ? `without a ${SWARM_CLUSTER_TAG} tag` : `"${cluster}"`;
      report(
        `Swarm cluster ${which} has ${managers.length} managers (aws.ec2.Instance tagged ` +
          `${SWARM_ROLE_TAG}=${MANAGER}: ${managers.map((m) => m.name).join(", ")}); Raft needs ` +
          `a majority of managers, so run an odd number of at most ${most}: ${allowed}.`,
      );
    }
  },
};

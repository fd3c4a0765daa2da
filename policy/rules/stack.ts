import * as aws from "@pulumi/aws";
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { field, isRecord } from "./read";
import { snapshot } from "./unknown";
import { ALLOWED_MANAGER_COUNTS, SWARM_CLUSTER_TAG, SWARM_ROLE_TAG } from "../../components/ports";
import { managerCountProblems } from "../../components/quorum";

const MANAGER = "manager";

function tagsOf(resource: PolicyResource): Record<string, unknown> {
  const tags = field(snapshot(resource.props), "tags");
  return isRecord(tags) ? tags : {};
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
    `For clusters built by aws-swarm's components only: forbids a Swarm whose manager count is ` +
    `even or above ${most}. It counts aws.ec2.Instance resources tagged ` +
    `${SWARM_ROLE_TAG}=${MANAGER} per ${SWARM_CLUSTER_TAG} tag, as those components tag them, ` +
    `and must find ${allowed}; other programs' managers carry no such tag and are not counted.`,
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    `Run ${allowed} managers: an even count tolerates no more failures than the odd count ` +
    `below it, and more than ${most} slows every Raft write.`,
  validateStack: (args, report) => {
    for (const [cluster, managers] of managersByCluster(args.resources)) {
      // The components' own rule, so the pack and the program never disagree on a count.
      if (managerCountProblems(managers.length).length === 0) continue;
      const which = cluster === "" ? `without a ${SWARM_CLUSTER_TAG} tag` : `"${cluster}"`;
      report(
        `Swarm cluster ${which} has ${managers.length} managers (aws.ec2.Instance tagged ` +
          `${SWARM_ROLE_TAG}=${MANAGER}: ${managers.map((m) => m.name).join(", ")}); Raft needs ` +
          `a majority of managers, so run an odd number of at most ${most}: ${allowed}.`,
      );
    }
  },
};

import { PolicyPack } from "@pulumi/policy";
import { swarmPolicies } from "./rules/all";

// Every rule is mandatory unless the policy config says otherwise, e.g.
// { "swarm-no-imdsv1": "advisory" } passed with --policy-pack-config (see README.md).
new PolicyPack("aws-swarm", {
  description:
    "Blocks what makes a Docker or Swarm host on AWS unsafe: world-open SSH, Docker API and " +
    "Swarm ports, wildcard or admin IAM, static keys, public or unencrypted buckets, IMDSv1, " +
    "unencrypted EBS, secrets in user data or tags, an even or oversized manager quorum, and " +
    "Docker services that are root on their nodes.",
  enforcementLevel: "mandatory",
  policies: swarmPolicies,
});

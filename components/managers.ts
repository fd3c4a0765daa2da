import * as pulumi from "@pulumi/pulumi";
import { NodeGroupArgs, nodeGroupProblems } from "./node";
import { NodeGroupComponent } from "./node-group";
import { DEFAULT_MANAGER_COUNT, managerCountProblems } from "./quorum";

export { managerCountProblems };

/** Arguments of a ManagerQuorum; see NodeGroupArgs for the fields shared with WorkerPool. */
export interface ManagerQuorumArgs extends NodeGroupArgs {
  /**
   * Raft managers: 1, 3, 5 or 7. An odd count tolerates (count - 1) / 2 failures; an even one
   * tolerates no more than the odd count below it, and more than 7 slows every Raft write.
   * @default 3
   */
  count?: number;
}

/** Every problem with `args`; empty when the quorum can be built. */
export function managerQuorumProblems(args: ManagerQuorumArgs): string[] {
  return [...managerCountProblems(args.count ?? DEFAULT_MANAGER_COUNT), ...nodeGroupProblems(args)];
}

/**
 * A fixed set of named Swarm manager instances `${name}-manager-<i>`, spread round-robin over
 * the given subnets (7 over 3 AZs land 3, 2, 2). Managers are plain instances, never an ASG, so
 * nothing replaces several of them at once and loses the quorum. Manager i keeps its name and
 * AZ when the count changes.
 */
export class ManagerQuorum extends NodeGroupComponent {
  constructor(name: string, args: ManagerQuorumArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:ManagerQuorum", name, "manager", args.count ?? DEFAULT_MANAGER_COUNT, args, managerQuorumProblems(args), opts);
  }
}

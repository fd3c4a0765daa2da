import * as pulumi from "@pulumi/pulumi";
import { NodeGroupArgs, nodeGroupProblems } from "./node";
import { NodeGroupComponent } from "./node-group";
import { DEFAULT_WORKER_COUNT, MAX_WORKER_COUNT, workerCountProblems } from "./quorum";

export { MAX_WORKER_COUNT, workerCountProblems };

/** Arguments of a WorkerPool; see NodeGroupArgs for the fields shared with ManagerQuorum. */
export interface WorkerPoolArgs extends NodeGroupArgs {
  /** Workers: a whole number from 0 to 1000. @default 2 */
  count?: number;
}

/** Every problem with `args`; empty when the pool can be built. */
export function workerPoolProblems(args: WorkerPoolArgs): string[] {
  return [...workerCountProblems(args.count ?? DEFAULT_WORKER_COUNT), ...nodeGroupProblems(args)];
}

/**
 * Swarm worker instances `${name}-worker-<i>`, spread round-robin over the given subnets.
 * Worker i keeps its name and AZ when the count changes; scaling down removes the highest ones.
 */
export class WorkerPool extends NodeGroupComponent {
  constructor(name: string, args: WorkerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:index:WorkerPool", name, "worker", args.count ?? DEFAULT_WORKER_COUNT, args, workerPoolProblems(args), opts);
  }
}

import { dockerHost } from "./docker-host";
import { ecsHosts } from "./ecs-hosts";
import { eksNodeGroup } from "./eks";
import { messaging } from "./messaging";
import { missingOutputs } from "./missing-outputs";
import { CorpusProgram } from "./program";
import { staticSite } from "./static-site";
import { swarmAsg } from "./swarm-asg";

/** Every program of the corpus, one per shape the pack met in real programs. */
export const corpus: readonly CorpusProgram[] = [
  dockerHost,
  swarmAsg,
  eksNodeGroup,
  staticSite,
  messaging,
  missingOutputs,
  ecsHosts,
];

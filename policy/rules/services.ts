import { ResourceValidationPolicy } from "@pulumi/policy";
import { DOCKER_SOCKET_PATHS } from "../../components/ports";
import { describeResource, quotedList } from "./where";

/** The @pulumi/docker type token; matched by name so the pack needs no Docker SDK. */
export const DOCKER_SERVICE_TYPE = "docker:index/service:Service";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What makes a service's tasks root on their nodes: added capabilities, and bind mounts of the
 * host's `/` or of the Docker socket. One predicate, shared with compose stacks' rule
 * (components/compose-keys.ts), which also refuses `privileged` (a key Swarm services lack).
 */
export function hostRootFindings(containerSpec: unknown): string[] {
  if (!isRecord(containerSpec)) return [];
  const found: string[] = [];
  const caps = containerSpec.capAdds;
  if (Array.isArray(caps) && caps.length > 0) found.push(`adds capabilities ${quotedList(caps.map(String))}`);
  const mounts = Array.isArray(containerSpec.mounts) ? containerSpec.mounts : [];
  mounts.forEach((m, i) => {
    if (!isRecord(m) || m.type !== "bind" || typeof m.source !== "string") return;
    const source = m.source.replace(/\/+$/, "") || "/";
    if (source === "/" || DOCKER_SOCKET_PATHS.includes(source)) found.push(`bind-mounts "${m.source}" (mounts[${i}])`);
  });
  return found;
}

export const swarmNoHostRootServices: ResourceValidationPolicy = {
  name: "swarm-no-host-root-services",
  description:
    "Forbids docker.Service tasks that are root on their node: added capabilities (capAdds) " +
    `and bind mounts of / or the Docker socket (${DOCKER_SOCKET_PATHS.join(", ")}).`,
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Drop capAdds and the mount; if a service truly needs them (a node agent), make this rule " +
    "advisory for that stack with --policy-pack-config.",
  validateResource: (args, report) => {
    if (args.type !== DOCKER_SERVICE_TYPE) return;
    const task = isRecord(args.props.taskSpec) ? args.props.taskSpec : {};
    for (const f of hostRootFindings(task.containerSpec)) {
      report(`${describeResource(args.type, args.name)} ${f}, which makes its tasks root on their nodes; remove it.`);
    }
  },
};

import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
  DOCKER_API_PORTS,
  NEVER_WORLD_OPEN_PORTS,
  SSH_PORT,
  SWARM_PORTS,
  SwarmPort,
} from "../../components/ports";
import {
  cidrContains,
  describeSource,
  describeTraffic,
  Ingress,
  ingressAdapters,
  IngressSource,
  isWorldCidr,
  MIN_SOURCE_PREFIX,
  mightReach,
  normalizeProtocol,
  parseCidr,
  reachesPort,
  reportUnknownIngress,
} from "./ingress";
import { portList } from "./where";

/** Policy config of {@link swarmNoSshFromWorldOrUnlistedCidrs}. */
export interface SshPolicyConfig {
  /** CIDRs SSH may come from; a rule's CIDR must lie inside one of them. Unset: any but /0. */
  allowedSshCidrs?: string[];
}

function cidrSources(rule: Ingress): string[] {
  return rule.sources.flatMap((s) => (s.kind === "cidr" ? [s.cidr] : []));
}

function reportSsh(rule: Ingress, report: ReportViolation, args: ResourceValidationArgs): void {
  if (!reachesPort(rule, SSH_PORT)) return;
  const allowed = args.getConfig<SshPolicyConfig>().allowedSshCidrs;
  for (const cidr of cidrSources(rule)) {
    if (isWorldCidr(cidr)) {
      report(
        `${rule.where} allows ${describeTraffic(rule)} from ${cidr}, the whole internet, exposing ` +
          `SSH (port ${SSH_PORT}); allow SSH only from specific admin CIDRs or a bastion security group.`,
      );
      continue;
    }
    const parsed = parseCidr(cidr);
    if (parsed && parsed.prefix < MIN_SOURCE_PREFIX[parsed.family]) {
      // Checked with or without allowedSshCidrs: an allow-list of 0.0.0.0/1 + 128.0.0.0/1 is the world.
      report(
        `${rule.where} allows ${describeTraffic(rule)} from ${cidr}, wider than ` +
          `/${MIN_SOURCE_PREFIX[parsed.family]}, exposing SSH (port ${SSH_PORT}) to a large part of ` +
          `the internet; allow SSH only from admin CIDRs of IPv4 /${MIN_SOURCE_PREFIX[4]} or IPv6 ` +
          `/${MIN_SOURCE_PREFIX[6]} or longer, or from a bastion security group.`,
      );
    } else if (allowed !== undefined && !allowed.some((ok) => cidrContains(ok, cidr))) {
      report(
        `${rule.where} allows ${describeTraffic(rule)} from ${cidr}, which is outside ` +
          `allowedSshCidrs (${allowed.join(", ") || "empty"}), exposing SSH (port ${SSH_PORT}); ` +
          `add the CIDR to allowedSshCidrs in the policy config or narrow the rule to a listed CIDR.`,
      );
    }
  }
}

/** SSH is how nodes are bootstrapped and administered; the internet must not reach it. */
export const swarmNoSshFromWorldOrUnlistedCidrs: ResourceValidationPolicy = {
  name: "swarm-no-ssh-from-world-or-unlisted-cidrs",
  description:
    "Forbids ingress to SSH (port 22) from 0.0.0.0/0 or ::/0, from any prefix wider than IPv4 " +
    "/8 or IPv6 /32 (so halves such as 0.0.0.0/1 + 128.0.0.0/1 never add up to the world) and, " +
    "when allowedSshCidrs is configured, from any CIDR outside that list.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Allow SSH only from your admin CIDRs or from a bastion's security group; list the admin " +
    "CIDRs in this policy's allowedSshCidrs config to enforce them.",
  configSchema: {
    properties: {
      allowedSshCidrs: {
        type: "array",
        items: { type: "string" },
        description: 'CIDRs SSH may come from, e.g. ["203.0.113.0/24"]; /0 is never allowed.',
      },
    },
  },
  validateResource: ingressAdapters.map((adapt) =>
    adapt((rule, report, args) => {
      reportSsh(withoutWorldOpenOwnedSources(rule), report, args);
      if (mightReach(rule, [SSH_PORT])) reportUnknownIngress(rule, report, "SSH exposure");
    }),
  ),
};

/** Docker API and Swarm ports; SSH has its own rule so its allow-list can be configured. */
const WORLD_CLOSED_PORTS = NEVER_WORLD_OPEN_PORTS.filter((p) => p !== SSH_PORT);

/**
 * One rule, one finding: a /0 source on a permission that reaches a Docker API or Swarm port is
 * reported once, by swarm-no-world-open-docker-or-swarm-ports, with everything it opens (SSH and
 * ESP included). The SSH, Docker API and CIDR-to-Swarm rules leave such sources to it.
 */
function ownsWorldSources(rule: Ingress): boolean {
  return WORLD_CLOSED_PORTS.some((p) => reachesPort(rule, p));
}

function isOwnedWorldSource(rule: Ingress, source: IngressSource): boolean {
  return source.kind === "cidr" && isWorldCidr(source.cidr) && ownsWorldSources(rule);
}

/** The permission as the other port rules see it: without the sources reported as world-open. */
function withoutWorldOpenOwnedSources(rule: Ingress): Ingress {
  return { ...rule, sources: rule.sources.filter((s) => !isOwnedWorldSource(rule, s)) };
}

/** `SSH 22, Docker API 2375, 2376, Swarm 2377/tcp, ..., ESP (protocol 50)`: all it opens. */
function describeExposure(rule: Ingress): string {
  const parts: string[] = [];
  if (reachesPort(rule, SSH_PORT)) parts.push(`SSH ${SSH_PORT}`);
  const docker = DOCKER_API_PORTS.filter((p) => reachesPort(rule, p));
  if (docker.length > 0) parts.push(`the Docker API ${docker.join(", ")}`);
  const swarm = SWARM_PORTS.filter((p) => reachesSwarmPort(rule, p)).map(describeSwarmPort);
  if (swarm.length > 0) parts.push(`Swarm ${swarm.join(", ")}`);
  const what = parts.join("; ");
  return rule.protocol === "all" ? `every port and protocol, including ${what}` : what;
}

function reportWorldOpen(rule: Ingress, report: ReportViolation): void {
  if (mightReach(rule, WORLD_CLOSED_PORTS)) {
    reportUnknownIngress(rule, report, "Docker API and Swarm port exposure");
  }
  if (!ownsWorldSources(rule)) return;
  for (const cidr of cidrSources(rule).filter(isWorldCidr)) {
    report(
      `${rule.where} allows ${describeTraffic(rule)} from ${cidr}, the whole internet, exposing ` +
        `${describeExposure(rule)}; remove ${cidr} and allow only the CIDRs or security groups ` +
        `that need access.`,
    );
  }
}

export const swarmNoWorldOpenDockerOrSwarmPorts: ResourceValidationPolicy = {
  name: "swarm-no-world-open-docker-or-swarm-ports",
  description:
    "Forbids ingress from 0.0.0.0/0 or ::/0 to the Docker API (2375, 2376), Swarm ports (2377, " +
    "7946, 4789) or all traffic (protocol -1, or a port range that includes any of them).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Remove the /0 source; open Swarm ports only to the cluster's own security group and never " +
    "open the Docker API.",
  validateResource: ingressAdapters.map((adapt) => adapt(reportWorldOpen)),
};

function reportDockerApi(rule: Ingress, report: ReportViolation): void {
  const exposed = DOCKER_API_PORTS.filter((p) => reachesPort(rule, p));
  if (exposed.length === 0) return;
  for (const source of withoutWorldOpenOwnedSources(rule).sources) {
    report(
      `${rule.where} allows ${describeTraffic(rule)} from ${describeSource(source)}, exposing the ` +
        `Docker API (${portList(exposed)}), which is root on the host; remove this access and ` +
        `reach Docker over SSH (docker -H ssh://host) instead.`,
    );
  }
}

export const swarmNoDockerApiIngress: ResourceValidationPolicy = {
  name: "swarm-no-docker-api-ingress",
  description:
    "Forbids any ingress, from any source including security groups, that reaches the Docker " +
    "API ports 2375 or 2376 (directly, by a port range, or by protocol -1).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Remove the rule; use `docker -H ssh://host` or `docker context` over SSH to reach a daemon.",
  validateResource: ingressAdapters.map((adapt) => adapt(reportDockerApi)),
};

function describeSwarmPort(port: SwarmPort): string {
  const protocol = normalizeProtocol(port.protocol);
  return protocol === "esp" ? `ESP (protocol ${port.protocol})` : `${port.fromPort}/${protocol}`;
}

function reachesSwarmPort(rule: Ingress, port: SwarmPort): boolean {
  const protocol = normalizeProtocol(port.protocol);
  if (protocol === "esp") return rule.protocol === "all" || rule.protocol === "esp";
  return reachesPort(rule, port.fromPort, [protocol]);
}

function isAddressSource(source: IngressSource): boolean {
  return source.kind === "cidr" || source.kind === "prefix-list";
}

function reportCidrToSwarmPorts(rule: Ingress, report: ReportViolation): void {
  const exposed = SWARM_PORTS.filter((p) => reachesSwarmPort(rule, p)).map(describeSwarmPort);
  if (exposed.length === 0) return;
  for (const source of withoutWorldOpenOwnedSources(rule).sources.filter(isAddressSource)) {
    report(
      `${rule.where} allows ${describeTraffic(rule)} from ${describeSource(source)}, exposing ` +
        `Swarm ${exposed.join(", ")}; allow Swarm traffic only from the cluster's security group ` +
        `(self or a referenced security group), never from CIDR blocks or prefix lists.`,
    );
  }
}

export const swarmNoCidrIngressToSwarmPorts: ResourceValidationPolicy = {
  name: "swarm-no-cidr-ingress-to-swarm-ports",
  description:
    "Forbids ingress from CIDR blocks or prefix lists to Swarm's 2377/tcp, 7946/tcp, 7946/udp, " +
    "4789/udp and ESP (protocol 50); they may only come from security groups (self or referenced).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Replace the CIDR source with the cluster nodes' security group (`self: true` or " +
    "`sourceSecurityGroupId` / `referencedSecurityGroupId`).",
  validateResource: ingressAdapters.map((adapt) => adapt(reportCidrToSwarmPorts)),
};

import * as aws from "@pulumi/aws";
import { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { NEVER_WORLD_OPEN_PORTS, SSH_PORT } from "../../components/ports";
import { Ingress, INGRESS_SOURCES, isWorldCidr, parseCidr, reachesPort, worldCoveringFamilies } from "./ingress";
import { field, isRecord, isUnknown, text } from "./read";
import { snapshot } from "./unknown";
import { describeResource } from "./where";

/** The ingress permissions of one security group, from every resource that writes them. */
interface GroupIngress {
  /** The group in words, e.g. `security group "nodes"` or `security group sg-0abc`. */
  label: string;
  rules: Ingress[];
}

const ignoreAdvisories: ReportViolation = () => undefined;

const isGroup = (r: PolicyResource) => r.isType(aws.ec2.SecurityGroup) || r.isType(aws.ec2.DefaultSecurityGroup);

/**
 * Puts every ingress permission of the stack under the security group it belongs to: a group's
 * inline rules under the group, a SecurityGroupRule or vpc.SecurityGroupIngressRule under the
 * group its `securityGroupId` came from (by resource when the program wired it, else by the ID
 * as written). A rule whose group is not known during a preview stays on its own.
 */
export function ingressByGroup(resources: readonly PolicyResource[]): Map<string, GroupIngress> {
  const groups = new Map<string, GroupIngress>();
  const byId = new Map<string, string>();
  for (const r of resources.filter(isGroup)) {
    const id = text(field(snapshot(r.props), "id"));
    if (typeof id === "string" && id !== "") byId.set(id, r.urn);
  }
  const add = (key: string, label: string, rules: Ingress[]) => {
    const group = groups.get(key) ?? { label, rules: [] };
    group.rules.push(...rules);
    groups.set(key, group);
  };
  for (const r of resources) {
    for (const source of INGRESS_SOURCES) {
      if (!r.isType(source.resourceClass)) continue;
      const props = snapshot(r.props);
      const rules = source.extract(isRecord(props) ? props : {}, r, ignoreAdvisories);
      if (source.groupProperty === undefined) {
        add(r.urn, describeResource(r.type, r.name), rules);
        continue;
      }
      const owner = (r.propertyDependencies[source.groupProperty] ?? []).find(isGroup);
      const id = text(field(props, source.groupProperty));
      if (owner) add(owner.urn, describeResource(owner.type, owner.name), rules);
      else if (typeof id === "string" && byId.has(id)) {
        const group = resources.find((g) => g.urn === byId.get(id))!;
        add(group.urn, describeResource(group.type, group.name), rules);
      } else if (typeof id === "string" && id !== "" && !isUnknown(id)) add(`id:${id}`, `security group ${id}`, rules);
      else add(r.urn, describeResource(r.type, r.name), rules);
    }
  }
  return groups;
}

/** Per address family, the never-world-open ports a group's rules open to all of it, and how. */
function worldCovered(group: GroupIngress): { family: 4 | 6; ports: number[]; parts: string[] }[] {
  const found = new Map<4 | 6, { family: 4 | 6; ports: number[]; parts: Set<string> }>();
  for (const port of NEVER_WORLD_OPEN_PORTS) {
    const sources = group.rules
      .filter((rule) => reachesPort(rule, port))
      .flatMap((rule) =>
        rule.sources.flatMap((s) => (s.kind === "cidr" && !isWorldCidr(s.cidr) ? [{ rule, cidr: s.cidr }] : [])),
      );
    for (const family of worldCoveringFamilies(sources.map((s) => s.cidr))) {
      const entry = found.get(family) ?? { family, ports: [], parts: new Set<string>() };
      entry.ports.push(port);
      for (const s of sources) {
        if (parseCidr(s.cidr)?.family === family) entry.parts.add(`${s.rule.where} ${s.cidr}`);
      }
      found.set(family, entry);
    }
  }
  return [...found.values()].map((e) => ({ ...e, parts: [...e.parts] }));
}

const describePorts = (ports: number[]) =>
  ports.map((p) => (p === SSH_PORT ? `SSH (port ${p})` : `port ${p}`)).join(", ");

/**
 * Narrow-looking rules can add up to the internet: `0.0.0.0/1` in one rule and `128.0.0.0/1` in
 * another (or 256 `/8`s, one per rule) admit every IPv4 address, and each rule alone passes a
 * per-resource check. This rule looks at the union of every permission of one security group.
 * A single /0 is left to the per-resource rules, which already report it.
 */
export const swarmNoWorldOpenPortsAcrossRules: StackValidationPolicy = {
  name: "swarm-no-world-open-ports-across-rules",
  description:
    "Forbids a security group whose ingress permissions, each narrower than the internet, " +
    "together admit every IPv4 or every IPv6 address to SSH (22), the Docker API (2375, 2376) " +
    "or a Swarm port (2377, 7946, 4789), across inline ingress blocks, SecurityGroupRule and " +
    "vpc.SecurityGroupIngressRule resources.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Allow these ports only from specific admin CIDRs or from a security group (the bastion's or " +
    "the cluster's); remove the rules whose CIDRs add up to the whole address space.",
  validateStack: (args, report) => {
    for (const group of ingressByGroup(args.resources).values()) {
      for (const { family, ports, parts } of worldCovered(group)) {
        const what = describePorts(ports);
        report(
          `${group.label} admits ${what} from every IPv${family} address: together its ` +
            `permissions ${parts.join(", ")} cover the whole IPv${family} internet; allow these ` +
            `ports only from specific admin CIDRs or a security group, and remove the rules that ` +
            `add up to the world.`,
        );
      }
    }
  },
};

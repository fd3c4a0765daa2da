import * as aws from "@pulumi/aws";
import { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { NEVER_WORLD_OPEN_PORTS, SSH_PORT } from "../../components/ports";
import { Ingress, INGRESS_SOURCES, isWorldCidr, parseCidr, reachesPort, worldCoveringFamilies } from "./ingress";
import { field, isRecord, isUnknown, strings, text } from "./read";
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

/** Where a security group ID leads: the key of the group's entry in `ingressByGroup`. */
type GroupKeys = (id: unknown) => { key: string; label: string } | undefined;

function groupKeys(resources: readonly PolicyResource[]): GroupKeys {
  const byId = new Map<string, PolicyResource>();
  for (const r of resources.filter(isGroup)) {
    const id = text(field(snapshot(r.props), "id"));
    if (typeof id === "string" && id !== "") byId.set(id, r);
  }
  return (id) => {
    if (typeof id !== "string" || id === "" || isUnknown(id)) return undefined;
    const group = byId.get(id);
    return group ? { key: group.urn, label: describeResource(group.type, group.name) } : { key: `id:${id}`, label: `security group ${id}` };
  };
}

const ownKey = (r: PolicyResource) => ({ key: r.urn, label: describeResource(r.type, r.name) });

/**
 * Puts every ingress permission of the stack under the security group it belongs to: a group's
 * inline rules under the group, a SecurityGroupRule or vpc.SecurityGroupIngressRule under the
 * group its `securityGroupId` came from (by resource when the program wired it, else by the ID
 * as written). A rule whose group is not known during a preview stays on its own.
 */
export function ingressByGroup(resources: readonly PolicyResource[]): Map<string, GroupIngress> {
  const groups = new Map<string, GroupIngress>();
  const keys = groupKeys(resources);
  const add = ({ key, label }: { key: string; label: string }, rules: Ingress[]) => {
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
        add(ownKey(r), rules);
        continue;
      }
      const owner = (r.propertyDependencies[source.groupProperty] ?? []).find(isGroup);
      add(owner ? ownKey(owner) : (keys(field(props, source.groupProperty)) ?? ownKey(r)), rules);
    }
  }
  return groups;
}

/**
 * The security groups (keys of `ingressByGroup`) each instance or launch template is in: the
 * groups wired into `vpcSecurityGroupIds`, and the IDs written there.
 */
export function attachedGroups(resources: readonly PolicyResource[]): { label: string; groups: string[] }[] {
  const keys = groupKeys(resources);
  return resources
    .filter((r) => r.isType(aws.ec2.Instance) || r.isType(aws.ec2.LaunchTemplate))
    .map((r) => {
      const wired = (r.propertyDependencies.vpcSecurityGroupIds ?? []).filter(isGroup).map((g) => g.urn);
      const written = strings(field(snapshot(r.props), "vpcSecurityGroupIds")).flatMap((id) => {
        const k = keys(id);
        return k ? [k.key] : [];
      });
      return { label: describeResource(r.type, r.name), groups: [...new Set([...wired, ...written])] };
    });
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
    "vpc.SecurityGroupIngressRule resources; and an instance or launch template whose security " +
    "groups do so together.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Allow these ports only from specific admin CIDRs or from a security group (the bastion's or " +
    "the cluster's); remove the rules whose CIDRs add up to the whole address space.",
  validateStack: (args, report) => {
    const groups = ingressByGroup(args.resources);
    const fix =
      "allow these ports only from specific admin CIDRs or a security group, and remove the " +
      "rules that add up to the world.";
    for (const group of groups.values()) {
      for (const { family, ports, parts } of worldCovered(group)) {
        report(
          `${group.label} admits ${describePorts(ports)} from every IPv${family} address: together ` +
            `its permissions ${parts.join(", ")} cover the whole IPv${family} internet; ${fix}`,
        );
      }
    }
    // Groups are unioned where they meet: an instance in two groups, each open to half the
    // internet, is open to all of it. What one group already opens is reported above.
    for (const { label, groups: keys } of attachedGroups(args.resources)) {
      const mine = keys.flatMap((k) => (groups.has(k) ? [groups.get(k)!] : []));
      if (mine.length < 2) continue;
      const union = { label, rules: mine.flatMap((g) => g.rules) };
      for (const { family, ports, parts } of worldCovered(union)) {
        const alone = mine.some((g) => worldCovered(g).some((c) => c.family === family && ports.every((p) => c.ports.includes(p))));
        if (alone) continue;
        report(
          `${label} admits ${describePorts(ports)} from every IPv${family} address: together the ` +
            `permissions of its security groups (${mine.map((g) => g.label).join(", ")}), ` +
            `${parts.join(", ")}, cover the whole IPv${family} internet; ${fix}`,
        );
      }
    }
  },
};

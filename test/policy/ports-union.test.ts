import * as assert from "node:assert";
import * as aws from "@pulumi/aws";
import { swarmNoWorldOpenPortsAcrossRules } from "../../policy/rules/ports-union";
import { runPolicy, runWithUrns, stackArgs, stackResource, UNKNOWN_STRING, urnOf } from "../helpers/policy";
import type { PolicyResource } from "../../policy/rules/all";

const policy = swarmNoWorldOpenPortsAcrossRules;
const FIX =
  "allow these ports only from specific admin CIDRs or a security group, and remove the rules that add up to the world.";

const group = (name = "nodes", id = `${name}-id`) =>
  stackResource(aws.ec2.SecurityGroup, { vpcId: "vpc-1" }, { name, outputs: { id } });

/** An ingress SecurityGroupRule on `owner` (wired as a property dependency, as a program does). */
function sgRule(name: string, owner: PolicyResource | string, cidrs: string[], port = 22, protocol = "tcp") {
  const id = typeof owner === "string" ? owner : String(owner.props.id);
  return stackResource(
    aws.ec2.SecurityGroupRule,
    {
      type: "ingress", protocol, fromPort: port, toPort: port, securityGroupId: id,
      cidrBlocks: cidrs.filter((c) => !c.includes(":")), ipv6CidrBlocks: cidrs.filter((c) => c.includes(":")),
    },
    { name, propertyDependencies: typeof owner === "string" ? {} : { securityGroupId: [owner] } },
  );
}

function vpcRule(name: string, owner: PolicyResource, cidr: string, port = 22) {
  return stackResource(
    aws.vpc.SecurityGroupIngressRule,
    { securityGroupId: String(owner.props.id), ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: cidr },
    { name, propertyDependencies: { securityGroupId: [owner] } },
  );
}

describe("swarm-no-world-open-ports-across-rules", () => {
  it("reports two SecurityGroupRules whose halves open SSH to every IPv4 address", async () => {
    const nodes = group();
    const args = stackArgs([nodes, sgRule("a", nodes, ["0.0.0.0/1"]), sgRule("b", nodes, ["128.0.0.0/1"])]);
    assert.deepStrictEqual(await runWithUrns(policy, args), [
      {
        message:
          'security group "nodes" admits SSH (port 22) from every IPv4 address: together its permissions ' +
          'security group rule "a" 0.0.0.0/1, security group rule "b" 128.0.0.0/1 cover the whole IPv4 ' +
          `internet; ${FIX}`,
      },
    ]);
  });

  it("passes the same two halves on two different groups", async () => {
    const a = group("a");
    const b = group("b");
    const args = stackArgs([a, b, sgRule("ra", a, ["0.0.0.0/1"]), sgRule("rb", b, ["128.0.0.0/1"])]);
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes halves on a port that is no Swarm, Docker or SSH port", async () => {
    const nodes = group();
    const args = stackArgs([nodes, sgRule("a", nodes, ["0.0.0.0/1"], 443), sgRule("b", nodes, ["128.0.0.0/1"], 443)]);
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("adds up inline ingress, SecurityGroupRules and vpc ingress rules of one group, 256 /8s", async () => {
    const cidrs = Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`);
    const nodes = stackResource(
      aws.ec2.SecurityGroup,
      { vpcId: "vpc-1", ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: cidrs.slice(0, 100) }] },
      { name: "nodes", outputs: { id: "nodes-id" } },
    );
    const rules = [
      sgRule("r", nodes, cidrs.slice(100, 200)),
      ...cidrs.slice(200).map((c, i) => vpcRule(`v${i}`, nodes, c)),
    ];
    const found = await runPolicy(policy, stackArgs([nodes, ...rules]));
    assert.strictEqual(found.length, 1);
    assert.match(found[0], /^security group "nodes" admits SSH \(port 22\) from every IPv4 address: together its permissions security group "nodes" ingress\[0\] 0\.0\.0\.0\/8, .*ingress rule "v55" 255\.0\.0\.0\/8 cover the whole IPv4 internet; /);
  });

  it("reports IPv6 halves, and one finding per family with every port they open", async () => {
    const nodes = group();
    const args = stackArgs([
      nodes,
      sgRule("a", nodes, ["::/1"], 0, "-1"),
      sgRule("b", nodes, ["8000::/1"], 0, "-1"),
    ]);
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'security group "nodes" admits SSH (port 22), port 2375, port 2376, port 2377, port 7946, port 4789 ' +
        'from every IPv6 address: together its permissions security group rule "a" ::/1, security group rule "b" ' +
        `8000::/1 cover the whole IPv6 internet; ${FIX}`,
    ]);
  });

  it("groups rules by the group ID as written when no resource of the stack owns it", async () => {
    const args = stackArgs([sgRule("a", "sg-0abc", ["0.0.0.0/1"]), sgRule("b", "sg-0abc", ["128.0.0.0/1"])]);
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'security group sg-0abc admits SSH (port 22) from every IPv4 address: together its permissions ' +
        `security group rule "a" 0.0.0.0/1, security group rule "b" 128.0.0.0/1 cover the whole IPv4 internet; ${FIX}`,
    ]);
  });

  it("finds the group by its ID when the program wrote the ID instead of wiring the resource", async () => {
    const nodes = group("nodes", "sg-0nodes");
    const args = stackArgs([nodes, sgRule("a", "sg-0nodes", ["0.0.0.0/1"]), sgRule("b", nodes, ["128.0.0.0/1"])]);
    assert.match((await runPolicy(policy, args)).join("\n"), /^security group "nodes" admits SSH/);
  });

  it("reports an instance whose two security groups each open half of the internet to SSH", async () => {
    const a = group("a");
    const b = group("b");
    const instance = stackResource(
      aws.ec2.Instance,
      { vpcSecurityGroupIds: ["a-id", "b-id"] },
      { name: "node", propertyDependencies: { vpcSecurityGroupIds: [a, b] } },
    );
    const args = stackArgs([a, b, sgRule("ra", a, ["0.0.0.0/1"]), sgRule("rb", b, ["128.0.0.0/1"]), instance]);
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'instance "node" admits SSH (port 22) from every IPv4 address: together the permissions of its security ' +
        'groups (security group "a", security group "b"), security group rule "ra" 0.0.0.0/1, security group rule "rb" ' +
        `128.0.0.0/1, cover the whole IPv4 internet; ${FIX}`,
    ]);
  });

  it("finds an instance's groups by the IDs it names, and reports what one group opens only once", async () => {
    const a = group("a", "sg-0a");
    const b = group("b", "sg-0b");
    const instance = stackResource(aws.ec2.LaunchTemplate, { vpcSecurityGroupIds: ["sg-0a", "sg-0b"] }, { name: "lt" });
    const halves = stackArgs([a, b, sgRule("ra", a, ["0.0.0.0/1"]), sgRule("rb", b, ["128.0.0.0/1"]), instance]);
    assert.match((await runPolicy(policy, halves)).join("\n"), /^launch template "lt" admits SSH \(port 22\) from every IPv4 address/);
    const whole = stackArgs([a, b, sgRule("ra", a, ["0.0.0.0/1"]), sgRule("rb", a, ["128.0.0.0/1"]), instance]);
    assert.deepStrictEqual((await runPolicy(policy, whole)).map((m) => m.split(" admits")[0]), ['security group "a"']);
  });

  it("leaves a single /0 to the per-resource rules", async () => {
    const nodes = group();
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([nodes, sgRule("a", nodes, ["0.0.0.0/0"])])), []);
  });

  it("keeps rules whose group a preview does not know yet apart", async () => {
    const args = stackArgs([sgRule("a", UNKNOWN_STRING, ["0.0.0.0/1"]), sgRule("b", UNKNOWN_STRING, ["128.0.0.0/1"])]);
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("ignores egress rules and unset properties", async () => {
    const nodes = group();
    const egress = stackResource(
      aws.ec2.SecurityGroupRule,
      { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, securityGroupId: "nodes-id", cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"] },
      { name: "out", propertyDependencies: { securityGroupId: [nodes] } },
    );
    const bare = stackResource(aws.ec2.SecurityGroup, {}, { name: "bare" });
    assert.deepStrictEqual(await runPolicy(policy, stackArgs([nodes, egress, bare])), []);
    assert.strictEqual(urnOf(nodes.type, nodes.name), nodes.urn);
  });
});

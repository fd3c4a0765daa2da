import * as assert from "node:assert";
import * as aws from "@pulumi/aws";
import {
  swarmNoCidrIngressToSwarmPorts,
  swarmNoDockerApiIngress,
  swarmNoSshFromWorldOrUnlistedCidrs,
  swarmNoWorldOpenDockerOrSwarmPorts,
} from "../../policy/rules/ports";
import {
  ADVISORY,
  resourceArgs,
  runPolicy,
  UNKNOWN_ARRAY,
  UNKNOWN_STRING,
  untypedResourceArgs,
} from "../helpers/policy";

const SG = "sg-0123456789abcdef0";

type InlineRule = {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrBlocks?: string[];
  ipv6CidrBlocks?: string[];
  prefixListIds?: string[];
  securityGroups?: string[];
  self?: boolean;
};

/** A security group named "web" with these inline ingress blocks. */
function inline(...ingress: InlineRule[]) {
  return resourceArgs(aws.ec2.SecurityGroup, { vpcId: "vpc-1", ingress }, { name: "web" });
}

type SgRuleProps = {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrBlocks?: string[];
  ipv6CidrBlocks?: string[];
  prefixListIds?: string[];
  sourceSecurityGroupId?: string;
  self?: boolean;
  type?: string;
};

/** An aws.ec2.SecurityGroupRule named "rule". */
function sgRule(props: SgRuleProps) {
  return resourceArgs(
    aws.ec2.SecurityGroupRule,
    { type: "ingress", securityGroupId: SG, ...props },
    { name: "rule" },
  );
}

type VpcRuleProps = {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  referencedSecurityGroupId?: string;
};

/** An aws.vpc.SecurityGroupIngressRule named "in". */
function vpcRule(props: VpcRuleProps, config?: object) {
  return resourceArgs(
    aws.vpc.SecurityGroupIngressRule,
    { securityGroupId: SG, ...props },
    { name: "in", config },
  );
}

describe("swarm-no-ssh-from-world-or-unlisted-cidrs", () => {
  const policy = swarmNoSshFromWorldOrUnlistedCidrs;
  const FIX = "allow SSH only from specific admin CIDRs or a bastion security group.";
  const LISTED_FIX =
    "add the CIDR to allowedSshCidrs in the policy config or narrow the rule to a listed CIDR.";

  it("reports inline ingress of 22/tcp from 0.0.0.0/0", async () => {
    const args = inline({ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group "web" ingress[0] allows 22/tcp from 0.0.0.0/0, the whole internet, exposing SSH (port 22); ${FIX}`,
    ]);
  });

  it("passes inline ingress of 22/tcp from an admin CIDR", async () => {
    const args = inline({
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrBlocks: ["203.0.113.0/24"],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports only the world CIDR of an inline block that also lists an admin CIDR", async () => {
    const args = inline(
      { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
      { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.0/24", "0.0.0.0/0"] },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group "web" ingress[1] allows 22/tcp from 0.0.0.0/0, the whole internet, exposing SSH (port 22); ${FIX}`,
    ]);
  });

  it("leaves protocol 6 over 0-65535 from ::/0 to the world-open rule, which reports it once", async () => {
    const args = sgRule({ protocol: "6", fromPort: 0, toPort: 65535, ipv6CidrBlocks: ["::/0"] });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
    assert.deepStrictEqual(await runPolicy(swarmNoWorldOpenDockerOrSwarmPorts, args), [
      `security group rule "rule" allows 0-65535/tcp from ::/0, the whole internet, exposing SSH 22; the Docker API 2375, 2376; Swarm 2377/tcp, 7946/tcp; remove ::/0 and allow only the CIDRs or security groups that need access.`,
    ]);
  });

  it("reports 20-30/tcp from ::/0, which reaches SSH but no Docker or Swarm port", async () => {
    const args = sgRule({ protocol: "6", fromPort: 20, toPort: 30, ipv6CidrBlocks: ["::/0"] });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group rule "rule" allows 20-30/tcp from ::/0, the whole internet, exposing SSH (port 22); ${FIX}`,
    ]);
  });

  it("passes a security group rule of 22/tcp from a bastion security group", async () => {
    const args = sgRule({
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      sourceSecurityGroupId: "sg-bastion",
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes an egress security group rule to 0.0.0.0/0", async () => {
    const args = sgRule({
      type: "egress",
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrBlocks: ["0.0.0.0/0"],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("leaves a security group rule with protocol all from 0.0.0.0/0 to the world-open rule", async () => {
    const args = sgRule({ protocol: "all", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("still reports an unlisted CIDR next to 0.0.0.0/0 on all traffic", async () => {
    const args = sgRule({
      protocol: "-1",
      fromPort: 0,
      toPort: 0,
      cidrBlocks: ["0.0.0.0/0", "198.51.100.0/24"],
    });
    const config = { allowedSshCidrs: ["203.0.113.0/24"] };
    assert.deepStrictEqual(
      await runPolicy(policy, { ...args, getConfig: <T extends object>() => config as T }),
      [
        `security group rule "rule" allows all traffic (protocol -1) from 198.51.100.0/24, which is outside allowedSshCidrs (203.0.113.0/24), exposing SSH (port 22); ${LISTED_FIX}`,
      ],
    );
  });

  it("leaves a VPC ingress rule with protocol -1 from 0.0.0.0/0 to the world-open rule", async () => {
    const args = vpcRule({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a VPC ingress rule of 22/tcp from ::/0", async () => {
    const args = vpcRule({ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv6: "::/0" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows 22/tcp from ::/0, the whole internet, exposing SSH (port 22); ${FIX}`,
    ]);
  });

  it("passes a VPC ingress rule of 22/tcp from an IPv6 admin CIDR", async () => {
    const args = vpcRule({
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrIpv6: "2001:db8::/32",
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes 443/tcp from 0.0.0.0/0, which is not SSH", async () => {
    const args = vpcRule({ ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("treats unset ports of a VPC ingress rule as the whole range", async () => {
    const args = vpcRule({ ipProtocol: "tcp", cidrIpv4: "10.0.0.0/8" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
    const listed = vpcRule(
      { ipProtocol: "tcp", cidrIpv4: "10.0.0.0/8" },
      { allowedSshCidrs: ["192.0.2.0/24"] },
    );
    assert.deepStrictEqual(await runPolicy(policy, listed), [
      `ingress rule "in" allows 0-65535/tcp from 10.0.0.0/8, which is outside allowedSshCidrs (192.0.2.0/24), exposing SSH (port 22); ${LISTED_FIX}`,
    ]);
  });

  it("passes a security group with no ingress set", async () => {
    const args = resourceArgs(aws.ec2.SecurityGroup, { vpcId: "vpc-1" }, { name: "web" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a VPC ingress rule with no source set", async () => {
    const args = vpcRule({ ipProtocol: "tcp", fromPort: 22, toPort: 22 });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  for (const config of [{}, { allowedSshCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }]) {
    it(`reports an SSH half of the internet ${"allowedSshCidrs" in config ? "even when allowedSshCidrs lists it" : "without allowedSshCidrs"}`, async () => {
      const args = vpcRule({ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "128.0.0.0/1" }, config);
      assert.deepStrictEqual(await runPolicy(policy, args), [
        'ingress rule "in" allows 22/tcp from 128.0.0.0/1, wider than /8, exposing SSH (port 22) to a large part of the internet; allow SSH only from admin CIDRs of IPv4 /8 or IPv6 /32 or longer, or from a bastion security group.',
      ]);
    });
  }

  it("reports an IPv6 SSH source wider than /32", async () => {
    const args = vpcRule({ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv6: "8000::/1" });
    assert.strictEqual((await runPolicy(policy, args)).length, 1);
  });

  it("passes a CIDR inside a configured allowedSshCidrs entry", async () => {
    const args = vpcRule(
      { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "203.0.113.7/32" },
      { allowedSshCidrs: ["203.0.113.0/24"] },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a CIDR outside the configured allowedSshCidrs", async () => {
    const args = vpcRule(
      { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "198.51.100.0/24" },
      { allowedSshCidrs: ["203.0.113.0/24", "2001:db8::/32"] },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows 22/tcp from 198.51.100.0/24, which is outside allowedSshCidrs (203.0.113.0/24, 2001:db8::/32), exposing SSH (port 22); ${LISTED_FIX}`,
    ]);
  });

  it("reports a CIDR wider than the configured entry it overlaps", async () => {
    const args = vpcRule(
      { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "203.0.0.0/16" },
      { allowedSshCidrs: ["203.0.113.0/24"] },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows 22/tcp from 203.0.0.0/16, which is outside allowedSshCidrs (203.0.113.0/24), exposing SSH (port 22); ${LISTED_FIX}`,
    ]);
  });

  it("reports 0.0.0.0/0 even when allowedSshCidrs lists it", async () => {
    const args = vpcRule(
      { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
      { allowedSshCidrs: ["0.0.0.0/0"] },
    );
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows 22/tcp from 0.0.0.0/0, the whole internet, exposing SSH (port 22); ${FIX}`,
    ]);
  });

  it("declares allowedSshCidrs as a list of strings in its config schema", () => {
    assert.deepStrictEqual(policy.configSchema?.properties.allowedSshCidrs, {
      type: "array",
      items: { type: "string" },
      description: 'CIDRs SSH may come from, e.g. ["203.0.113.0/24"]; /0 is never allowed.',
    });
  });

  it("ignores resources that cannot express ingress", async () => {
    const args = resourceArgs(aws.s3.Bucket, {}, { name: "logs" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("swarm-no-world-open-docker-or-swarm-ports", () => {
  const policy = swarmNoWorldOpenDockerOrSwarmPorts;
  const fix = (cidr: string) =>
    `remove ${cidr} and allow only the CIDRs or security groups that need access.`;

  it("reports inline ingress of 2000-3000/tcp from 0.0.0.0/0", async () => {
    const args = inline({
      protocol: "tcp",
      fromPort: 2000,
      toPort: 3000,
      cidrBlocks: ["0.0.0.0/0"],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group "web" ingress[0] allows 2000-3000/tcp from 0.0.0.0/0, the whole internet, exposing the Docker API 2375, 2376; Swarm 2377/tcp; ${fix("0.0.0.0/0")}`,
    ]);
  });

  it("passes inline ingress of 443/tcp from 0.0.0.0/0", async () => {
    const args = inline({ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a security group rule with protocol 17 to 4789 from ::/0", async () => {
    const args = sgRule({ protocol: "17", fromPort: 4789, toPort: 4789, ipv6CidrBlocks: ["::/0"] });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group rule "rule" allows 4789/udp from ::/0, the whole internet, exposing Swarm 4789/udp; ${fix("::/0")}`,
    ]);
  });

  it("passes a security group rule to 2377/tcp from the group itself", async () => {
    const args = sgRule({ protocol: "tcp", fromPort: 2377, toPort: 2377, self: true });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a VPC ingress rule with protocol -1 from 0.0.0.0/0", async () => {
    const args = vpcRule({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows all traffic (protocol -1) from 0.0.0.0/0, the whole internet, exposing every port and protocol, including SSH 22; the Docker API 2375, 2376; Swarm 2377/tcp, 7946/tcp, 7946/udp, 4789/udp, ESP (protocol 50); ${fix("0.0.0.0/0")}`,
    ]);
  });

  it("reports a VPC ingress rule of 7946/udp from ::/0", async () => {
    const args = vpcRule({ ipProtocol: "udp", fromPort: 7946, toPort: 7946, cidrIpv6: "::/0" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows 7946/udp from ::/0, the whole internet, exposing Swarm 7946/udp; ${fix("::/0")}`,
    ]);
  });

  it("passes a VPC ingress rule of 7946/udp from a private CIDR", async () => {
    const args = vpcRule({
      ipProtocol: "udp",
      fromPort: 7946,
      toPort: 7946,
      cidrIpv4: "10.0.0.0/16",
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("leaves world-open SSH to the SSH rule", async () => {
    const args = vpcRule({ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a security group rule with no CIDR set", async () => {
    const args = sgRule({ protocol: "tcp", fromPort: 2377, toPort: 2377 });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("swarm-no-docker-api-ingress", () => {
  const policy = swarmNoDockerApiIngress;
  const FIX =
    "which is root on the host; remove this access and reach Docker over SSH (docker -H ssh://host) instead.";

  it("reports inline ingress of 2376/tcp from the group itself", async () => {
    const args = inline({ protocol: "tcp", fromPort: 2376, toPort: 2376, self: true });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group "web" ingress[0] allows 2376/tcp from the security group itself, exposing the Docker API (port 2376), ${FIX}`,
    ]);
  });

  it("reports inline ingress of 0-65535/tcp from a private CIDR and a prefix list", async () => {
    const args = inline({
      protocol: "tcp",
      fromPort: 0,
      toPort: 65535,
      cidrBlocks: ["10.0.0.0/16"],
      prefixListIds: ["pl-123"],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group "web" ingress[0] allows 0-65535/tcp from 10.0.0.0/16, exposing the Docker API (ports 2375, 2376), ${FIX}`,
      `security group "web" ingress[0] allows 0-65535/tcp from prefix list pl-123, exposing the Docker API (ports 2375, 2376), ${FIX}`,
    ]);
  });

  it("reports a security group rule of 2375/tcp from another security group", async () => {
    const args = sgRule({
      protocol: "tcp",
      fromPort: 2375,
      toPort: 2375,
      sourceSecurityGroupId: "sg-ops",
    });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group rule "rule" allows 2375/tcp from security group sg-ops, exposing the Docker API (port 2375), ${FIX}`,
    ]);
  });

  it("reports a VPC ingress rule with protocol -1 from a referenced security group", async () => {
    const args = vpcRule({ ipProtocol: "-1", referencedSecurityGroupId: "sg-nodes" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows all traffic (protocol -1) from security group sg-nodes, exposing the Docker API (ports 2375, 2376), ${FIX}`,
    ]);
  });

  it("reports a VPC ingress rule of 2375/tcp from a private CIDR", async () => {
    const args = vpcRule({ ipProtocol: "6", fromPort: 2375, toPort: 2375, cidrIpv4: "10.0.0.0/8" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows 2375/tcp from 10.0.0.0/8, exposing the Docker API (port 2375), ${FIX}`,
    ]);
  });

  it("leaves 2375/tcp from ::/0 to the world-open rule, so the pack reports it once", async () => {
    const args = vpcRule({ ipProtocol: "6", fromPort: 2375, toPort: 2375, cidrIpv6: "::/0" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes 2377/tcp from a referenced security group", async () => {
    const args = vpcRule({
      ipProtocol: "tcp",
      fromPort: 2377,
      toPort: 2377,
      referencedSecurityGroupId: "sg-nodes",
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes ICMP from anywhere, which has no ports", async () => {
    const args = sgRule({ protocol: "icmp", fromPort: -1, toPort: -1, cidrBlocks: ["0.0.0.0/0"] });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes a rule to 2375/tcp with no source set", async () => {
    const args = sgRule({ protocol: "tcp", fromPort: 2375, toPort: 2375 });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("swarm-no-cidr-ingress-to-swarm-ports", () => {
  const policy = swarmNoCidrIngressToSwarmPorts;
  const FIX =
    "allow Swarm traffic only from the cluster's security group (self or a referenced security group), never from CIDR blocks or prefix lists.";

  it("reports inline ingress of 7946/udp (protocol 17) from an IPv6 CIDR", async () => {
    const args = inline({
      protocol: "17",
      fromPort: 7946,
      toPort: 7946,
      ipv6CidrBlocks: ["fd00::/8"],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group "web" ingress[0] allows 7946/udp from fd00::/8, exposing Swarm 7946/udp; ${FIX}`,
    ]);
  });

  it("passes inline ingress of 7946/tcp from the group itself", async () => {
    const args = inline({ protocol: "tcp", fromPort: 7946, toPort: 7946, self: true });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a security group rule of 2377/tcp from the VPC CIDR", async () => {
    const args = sgRule({
      protocol: "tcp",
      fromPort: 2377,
      toPort: 2377,
      cidrBlocks: ["10.0.0.0/16"],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group rule "rule" allows 2377/tcp from 10.0.0.0/16, exposing Swarm 2377/tcp; ${FIX}`,
    ]);
  });

  it("reports a security group rule of 4000-8000/udp from a prefix list", async () => {
    const args = sgRule({
      protocol: "udp",
      fromPort: 4000,
      toPort: 8000,
      prefixListIds: ["pl-123"],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `security group rule "rule" allows 4000-8000/udp from prefix list pl-123, exposing Swarm 7946/udp, 4789/udp; ${FIX}`,
    ]);
  });

  it("passes a security group rule of 2377/tcp from the nodes security group", async () => {
    const args = sgRule({
      protocol: "tcp",
      fromPort: 2377,
      toPort: 2377,
      sourceSecurityGroupId: "sg-nodes",
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports a VPC ingress rule of ESP (protocol 50) from a CIDR", async () => {
    const args = vpcRule({ ipProtocol: "50", cidrIpv4: "10.0.0.0/16" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows ESP (protocol 50) from 10.0.0.0/16, exposing Swarm ESP (protocol 50); ${FIX}`,
    ]);
  });

  it("reports a VPC ingress rule of ESP written as esp from a CIDR", async () => {
    const args = vpcRule({ ipProtocol: "esp", cidrIpv4: "10.0.0.0/16" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows ESP (protocol esp) from 10.0.0.0/16, exposing Swarm ESP (protocol 50); ${FIX}`,
    ]);
  });

  it("reports a VPC ingress rule with protocol -1 from a CIDR", async () => {
    const args = vpcRule({ ipProtocol: "-1", cidrIpv4: "10.0.0.0/8" });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      `ingress rule "in" allows all traffic (protocol -1) from 10.0.0.0/8, exposing Swarm 2377/tcp, 7946/tcp, 7946/udp, 4789/udp, ESP (protocol 50); ${FIX}`,
    ]);
  });

  it("passes a VPC ingress rule of ESP from a referenced security group", async () => {
    const args = vpcRule({ ipProtocol: "50", referencedSecurityGroupId: "sg-nodes" });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes 4789/tcp from a CIDR, since VXLAN is udp", async () => {
    const args = vpcRule({
      ipProtocol: "tcp",
      fromPort: 4789,
      toPort: 4789,
      cidrIpv4: "10.0.0.0/16",
    });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("passes an inline rule to 2377/tcp with no source set", async () => {
    const args = inline({ protocol: "tcp", fromPort: 2377, toPort: 2377 });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});

describe("port rules during a preview", () => {
  const DOCKER_FIX =
    "which is root on the host; remove this access and reach Docker over SSH (docker -H ssh://host) instead.";

  it("report Docker API ingress from a security group whose ID is known only after apply", async () => {
    const args = resourceArgs(
      aws.vpc.SecurityGroupIngressRule,
      {
        securityGroupId: SG,
        ipProtocol: "tcp",
        fromPort: 2375,
        toPort: 2375,
        referencedSecurityGroupId: UNKNOWN_STRING,
      },
      { name: "in", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoDockerApiIngress, args), [
      `ingress rule "in" allows 2375/tcp from security group (ID known after apply), exposing the Docker API (port 2375), ${DOCKER_FIX}`,
    ]);
  });

  it("report inline ingress from a security group list known only after apply", async () => {
    const args = untypedResourceArgs(
      "aws:ec2/securityGroup:SecurityGroup",
      {
        ingress: [{ protocol: "tcp", fromPort: 2376, toPort: 2376, securityGroups: UNKNOWN_ARRAY }],
      },
      { name: "web", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoDockerApiIngress, args), [
      `security group "web" ingress[0] allows 2376/tcp from security group (ID known after apply), exposing the Docker API (port 2376), ${DOCKER_FIX}`,
    ]);
  });

  it("pass Swarm ports from a security group whose ID is known only after apply", async () => {
    const args = resourceArgs(
      aws.vpc.SecurityGroupIngressRule,
      {
        securityGroupId: SG,
        ipProtocol: "tcp",
        fromPort: 2377,
        toPort: 2377,
        referencedSecurityGroupId: UNKNOWN_STRING,
      },
      { name: "in", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoCidrIngressToSwarmPorts, args), []);
  });

  it("report a CIDR known only after apply as advisory, cannot check until known", async () => {
    const args = resourceArgs(
      aws.vpc.SecurityGroupIngressRule,
      {
        securityGroupId: SG,
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: UNKNOWN_STRING,
      },
      { name: "in", preview: true },
    );
    assert.deepStrictEqual(await runPolicy(swarmNoSshFromWorldOrUnlistedCidrs, args), [
      `${ADVISORY}ingress rule "in" cidrIpv4 is not known until apply, so SSH exposure cannot be checked until it is known; the check runs again on pulumi up.`,
    ]);
  });
});

describe("one rule, one finding", () => {
  const portRules = [
    swarmNoSshFromWorldOrUnlistedCidrs,
    swarmNoWorldOpenDockerOrSwarmPorts,
    swarmNoDockerApiIngress,
    swarmNoCidrIngressToSwarmPorts,
  ];

  async function findings(args: ReturnType<typeof vpcRule>) {
    const all: string[] = [];
    for (const rule of portRules) {
      for (const message of await runPolicy(rule, args)) all.push(`${rule.name}: ${message}`);
    }
    return all;
  }

  it("reports all traffic from 0.0.0.0/0 once, with everything it opens", async () => {
    assert.deepStrictEqual(await findings(vpcRule({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" })), [
      `swarm-no-world-open-docker-or-swarm-ports: ingress rule "in" allows all traffic (protocol -1) from 0.0.0.0/0, the whole internet, exposing every port and protocol, including SSH 22; the Docker API 2375, 2376; Swarm 2377/tcp, 7946/tcp, 7946/udp, 4789/udp, ESP (protocol 50); remove 0.0.0.0/0 and allow only the CIDRs or security groups that need access.`,
    ]);
  });

  it("reports all traffic from a private CIDR under the rules that forbid it", async () => {
    const reported = await findings(vpcRule({ ipProtocol: "-1", cidrIpv4: "10.0.0.0/8" }));
    assert.deepStrictEqual(
      reported.map((m) => m.split(":")[0]),
      ["swarm-no-docker-api-ingress", "swarm-no-cidr-ingress-to-swarm-ports"],
    );
  });
});

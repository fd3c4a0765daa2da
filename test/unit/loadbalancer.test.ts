import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import {
  PublishedPorts,
  PublishedPortsArgs,
  publishedPortRules,
  publishedPortsProblems,
} from "../../components/loadbalancer";
import { SwarmCluster } from "../../components/cluster";
import { parseServices } from "../../components/services-config";
import { created, recordedUnder, registeredOutputs, settle, valueOf } from "../helpers/mocks";
import { whenSettled } from "../helpers/policy";

type Recorded = pulumi.runtime.MockResourceArgs;

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const LB = "aws:lb/loadBalancer:LoadBalancer";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const LISTENER = "aws:lb/listener:Listener";
const ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment";

function args(extra: Partial<PublishedPortsArgs> = {}): PublishedPortsArgs {
  return {
    endpoints: [{ port: 80, protocol: "tcp" }, { port: 5353, protocol: "udp" }],
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    nodesSecurityGroupId: "sg-nodes",
    targets: [
      { name: "manager-1", instanceId: "i-m1" },
      { name: "worker-1", instanceId: "i-w1" },
      { name: "worker-2", instanceId: "i-w2" },
    ],
    ...extra,
  };
}

/** A rule as `<group> <direction> <peer> <protocol> <ports>`, group IDs shown by role. */
function describeRule(prefix: string, r: Recorded): string {
  const group = (id: unknown) => (id === "sg-nodes" ? "nodes" : id === `${prefix}-sg-id` ? "lb" : String(id));
  const peer =
    r.inputs.referencedSecurityGroupId !== undefined
      ? `sg:${group(r.inputs.referencedSecurityGroupId)}`
      : String(r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6);
  const direction = r.type === INGRESS ? "<-" : "->";
  return `${group(r.inputs.securityGroupId)} ${direction} ${peer} ${r.inputs.ipProtocol} ${r.inputs.fromPort}-${r.inputs.toPort}`;
}

async function build(prefix: string, extra: Partial<PublishedPortsArgs> = {}) {
  const lb = new PublishedPorts(prefix, args(extra));
  await valueOf(pulumi.all([lb.dnsName, ...Object.values(lb.targetGroupArns)]));
  const recorded = await recordedUnder(prefix);
  const rules = recorded.filter((r) => r.type === INGRESS || r.type === EGRESS);
  return { lb, recorded, rules, described: rules.map((r) => describeRule(prefix, r)).sort() };
}

const ofType = (rs: Recorded[], type: string) => rs.filter((r) => r.type === type);

describe("PublishedPorts", () => {
  let built: Awaited<ReturnType<typeof build>>;
  before(async () => {
    created.length = 0;
    built = await build("pp", { publishedCidrs: ["198.51.100.0/24", "2001:db8::/48"] });
  });

  it("creates one internet-facing network load balancer in the public subnets, behind its own group", () => {
    const [lb, ...others] = ofType(built.recorded, LB);
    assert.deepStrictEqual(others, []);
    assert.strictEqual(lb.name, "pp-nlb");
    assert.deepStrictEqual(
      [lb.inputs.loadBalancerType, lb.inputs.internal, lb.inputs.subnets, lb.inputs.securityGroups, lb.inputs.enableCrossZoneLoadBalancing],
      ["network", false, ["subnet-a", "subnet-b"], ["pp-sg-id"], true],
    );
    const sg = ofType(built.recorded, "aws:ec2/securityGroup:SecurityGroup");
    assert.deepStrictEqual(sg.map((g) => [g.name, g.inputs.vpcId]), [["pp-sg", "vpc-1"]]);
  });

  it("opens exactly the published ports: world to the balancer, balancer and listed networks to the nodes", () => {
    assert.deepStrictEqual(built.described, [
      "lb -> sg:nodes tcp 5353-5353",
      "lb -> sg:nodes tcp 80-80",
      "lb -> sg:nodes udp 5353-5353",
      "lb <- 0.0.0.0/0 tcp 80-80",
      "lb <- 0.0.0.0/0 udp 5353-5353",
      "nodes <- 198.51.100.0/24 tcp 80-80",
      "nodes <- 198.51.100.0/24 udp 5353-5353",
      "nodes <- 2001:db8::/48 tcp 80-80",
      "nodes <- 2001:db8::/48 udp 5353-5353",
      "nodes <- sg:lb tcp 5353-5353",
      "nodes <- sg:lb tcp 80-80",
      "nodes <- sg:lb udp 5353-5353",
    ]);
  });

  it("names every rule by port, protocol and source, never by position", () => {
    assert.deepStrictEqual(built.rules.map((r) => r.name).sort(), [
      "pp-in-5353-udp",
      "pp-in-80-tcp",
      "pp-nodes-5353-tcp-health-from-lb",
      "pp-nodes-5353-udp-from-198-51-100-0-24",
      "pp-nodes-5353-udp-from-2001-db8-48",
      "pp-nodes-5353-udp-from-lb",
      "pp-nodes-80-tcp-from-198-51-100-0-24",
      "pp-nodes-80-tcp-from-2001-db8-48",
      "pp-nodes-80-tcp-from-lb",
      "pp-out-5353-tcp-health",
      "pp-out-5353-udp",
      "pp-out-80-tcp",
    ]);
  });

  it("creates a TCP-checked target group and a forwarding listener per port and protocol", () => {
    assert.deepStrictEqual(
      ofType(built.recorded, TARGET_GROUP).map((t) => [t.name, t.inputs.port, t.inputs.protocol, t.inputs.targetType, t.inputs.vpcId, t.inputs.healthCheck]).sort(),
      [
        ["pp-5353-udp", 5353, "UDP", "instance", "vpc-1", { protocol: "TCP", port: "traffic-port", interval: 10, healthyThreshold: 3, unhealthyThreshold: 3 }],
        ["pp-80-tcp", 80, "TCP", "instance", "vpc-1", { protocol: "TCP", port: "traffic-port", interval: 10, healthyThreshold: 3, unhealthyThreshold: 3 }],
      ],
    );
    const arn = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:${name}`;
    assert.deepStrictEqual(
      ofType(built.recorded, LISTENER).map((l) => [l.name, l.inputs.loadBalancerArn, l.inputs.port, l.inputs.protocol, l.inputs.defaultActions]).sort(),
      [
        ["pp-5353-udp-listener", "arn:aws:mock:::pp-nlb", 5353, "UDP", [{ type: "forward", targetGroupArn: arn("pp-5353-udp") }]],
        ["pp-80-tcp-listener", "arn:aws:mock:::pp-nlb", 80, "TCP", [{ type: "forward", targetGroupArn: arn("pp-80-tcp") }]],
      ],
    );
  });

  it("registers every node in every target group on the published port", () => {
    const arn = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:${name}`;
    assert.deepStrictEqual(
      ofType(built.recorded, ATTACHMENT).map((a) => [a.name, a.inputs.targetGroupArn, a.inputs.targetId, a.inputs.port]).sort(),
      [
        ["pp-5353-udp-manager-1", arn("pp-5353-udp"), "i-m1", 5353],
        ["pp-5353-udp-worker-1", arn("pp-5353-udp"), "i-w1", 5353],
        ["pp-5353-udp-worker-2", arn("pp-5353-udp"), "i-w2", 5353],
        ["pp-80-tcp-manager-1", arn("pp-80-tcp"), "i-m1", 80],
        ["pp-80-tcp-worker-1", arn("pp-80-tcp"), "i-w1", 80],
        ["pp-80-tcp-worker-2", arn("pp-80-tcp"), "i-w2", 80],
      ],
    );
  });

  it("exposes the DNS name and registers its outputs", async () => {
    assert.strictEqual(await valueOf(built.lb.dnsName), "pp-nlb.elb.us-east-1.amazonaws.com");
    assert.deepStrictEqual(Object.keys(registeredOutputs.get("pp") ?? {}).sort(), ["arn", "dnsName", "securityGroupId", "targetGroupArns"]);
  });

  describe("rule plan", () => {
    it("adds no health-check rules for a UDP port also published over TCP", () => {
      const keys = publishedPortRules([{ port: 53, protocol: "tcp" }, { port: 53, protocol: "udp" }]).map((r) => r.key);
      assert.deepStrictEqual(keys, [
        "in-53-tcp", "out-53-tcp", "nodes-53-tcp-from-lb",
        "in-53-udp", "out-53-udp", "nodes-53-udp-from-lb",
      ]);
    });

    it("keeps a port's rule names when another port is added before it", () => {
      const names = (ports: number[]) =>
        publishedPortRules(ports.map((port) => ({ port, protocol: "tcp" as const }))).map((r) => r.key);
      const before = names([8080]);
      assert.deepStrictEqual(names([80, 8080]).filter((k) => k.includes("8080")), before);
    });
  });

  describe("validation", () => {
    beforeEach(() => {
      created.length = 0;
    });

    it("reports every problem at once, naming setting, value and fix", () => {
      assert.deepStrictEqual(
        publishedPortsProblems(args({
          endpoints: [{ port: 2377, protocol: "tcp" }, { port: 80, protocol: "tcp" }, { port: 80, protocol: "tcp" }, { port: 0, protocol: "udp" }],
          targets: [{ name: "Worker 1", instanceId: "i-1" }, { name: "w-2", instanceId: "i-2" }, { name: "w-2", instanceId: "i-3" }],
          publishedCidrs: ["0.0.0.0/0", "10.0.0.300/24", "198.51.100.0/24", "198.51.100.0/24"],
        })),
        [
          "endpoints[0].port is 2377, reserved for SSH, the Docker API, Swarm or the registry (22, 2375, 2376, 2377, 7946, 4789, 5000); publish another port.",
          "endpoints[2] is 80/tcp again; list each port and protocol once.",
          "endpoints[3].port is 0; use a whole number from 1 to 65535.",
          'targets[0].name is "Worker 1"; use kebab-case such as "worker-1".',
          'targets[2].name is "w-2" again; give every node its own name.',
          'publishedCidrs[0] is "0.0.0.0/0", which opens the published ports on the nodes to the whole internet; list your office or VPN ranges instead.',
          'publishedCidrs[1] is "10.0.0.300/24"; use an IPv4 or IPv6 network CIDR such as "203.0.113.0/24" or "2001:db8::/48".',
          'publishedCidrs[3] is "198.51.100.0/24", the same network as publishedCidrs[2]; list each network once.',
        ],
      );
    });

    it("refuses to build a load balancer with nothing to publish, before creating anything", async () => {
      assert.throws(() => new PublishedPorts("none", args({ endpoints: [] })), /endpoints is \[\]; list at least one published port\./);
      await settle();
      assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith("none")), []);
    });
  });
});

describe("SwarmCluster with services", () => {
  const ssh = { sshAllowedCidrs: ["203.0.113.0/24"], managerCount: 1, workerCount: 2, azCount: 2 };

  async function cluster(name: string, services: unknown[], extra: Record<string, unknown> = {}) {
    created.length = 0;
    const parsed = parseServices(services);
    assert.deepStrictEqual(parsed.problems, []);
    const c = new SwarmCluster(name, { ...ssh, services: parsed.services, serviceSecrets: {}, ...extra });
    await valueOf(c.workerJoinToken, 20000);
    await whenSettled(created);
    return c;
  }

  it("creates no load balancer and no lb group when services publish nothing", async () => {
    const c = await cluster("quiet", [{ name: "worker", image: "w:1" }]);
    assert.deepStrictEqual(created.filter((r) => r.type.startsWith("aws:lb/")), []);
    assert.ok(!created.some((r) => r.name === "quiet-lb-sg"));
    assert.strictEqual(c.loadBalancerDnsName, undefined);
    assert.strictEqual(created.filter((r) => r.type === "docker:index/service:Service").length, 1);
  });

  it("creates neither services nor a load balancer without services", async () => {
    const c = await cluster("bare", []);
    assert.deepStrictEqual(created.filter((r) => r.type.startsWith("aws:lb/") || r.type.startsWith("docker:")), []);
    assert.strictEqual(c.services, undefined);
    assert.strictEqual(c.loadBalancerDnsName, undefined);
  });

  it("puts the load balancer in the public subnets and registers every node of the cluster", async () => {
    const c = await cluster("pub", [{ name: "web", image: "nginx", ports: [{ published: 80, target: 80 }] }], { nodePlacement: "private" });
    const lb = created.find((r) => r.type === LB);
    assert.deepStrictEqual(lb?.inputs.subnets, ["pub-network-public-1-id", "pub-network-public-2-id"]);
    assert.deepStrictEqual(
      created.filter((r) => r.type === ATTACHMENT).map((a) => [a.name, a.inputs.targetId]).sort(),
      [
        ["pub-lb-80-tcp-manager-1", "pub-managers-manager-1-id"],
        ["pub-lb-80-tcp-worker-1", "pub-workers-worker-1-id"],
        ["pub-lb-80-tcp-worker-2", "pub-workers-worker-2-id"],
      ],
    );
    const fromLb = created.find((r) => r.name === "pub-lb-nodes-80-tcp-from-lb");
    assert.deepStrictEqual([fromLb?.inputs.securityGroupId, fromLb?.inputs.referencedSecurityGroupId], ["pub-network-nodes-id", "pub-lb-sg-id"]);
    assert.strictEqual(await valueOf(c.loadBalancerDnsName ?? pulumi.output("")), "pub-lb-nlb.elb.us-east-1.amazonaws.com");
  });

  it("rejects services and publishedCidrs problems before creating anything", async () => {
    created.length = 0;
    const services = parseServices([{ name: "api", image: "x", secrets: ["db"] }]).services;
    assert.throws(
      () => new SwarmCluster("badsvc", { ...ssh, services, publishedCidrs: ["::/0"] }),
      (e: Error) => {
        assert.strictEqual(
          e.message,
          '- services[0].secrets[0] is "db", but that secret has no value; add its value to serviceSecrets["db"].\n' +
            '- publishedCidrs[0] is "::/0", which opens the published ports on the nodes to the whole internet; list your office or VPN ranges instead.',
        );
        return true;
      },
    );
    await settle();
    assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith("badsvc")), []);
  });
});

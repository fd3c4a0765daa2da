import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ingressPlan, Network, NetworkArgs, networkProblems } from "../../components/network";
import { created, recordedUnder, registeredOutputs, settle, valueOf } from "../helpers/mocks";

type Recorded = pulumi.runtime.MockResourceArgs;

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";

const ofKind = (rs: Recorded[], type: string) => rs.filter((r) => r.type === `aws:ec2/${type}`);

/** One rule as `sg <- source proto ports`, with SG IDs turned back into role names. */
function describeRule(prefix: string, r: Recorded): string {
  const sg = (id: unknown) => String(id).replace(`${prefix}-`, "").replace(/-id$/, "");
  const source =
    r.inputs.referencedSecurityGroupId !== undefined
      ? `sg:${sg(r.inputs.referencedSecurityGroupId)}`
      : String(r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6);
  const ports = r.inputs.fromPort === undefined ? "all" : `${r.inputs.fromPort}-${r.inputs.toPort}`;
  return `${sg(r.inputs.securityGroupId)} <- ${source} ${r.inputs.ipProtocol} ${ports}`;
}

async function build(name: string, args: Partial<NetworkArgs> = {}) {
  const net = new Network(name, { sshAllowedCidrs: ["203.0.113.0/24"], ...args });
  const recorded = await recordedUnder(name);
  const rules = recorded.filter((r) => r.type === INGRESS);
  return { net, recorded, rules, described: rules.map((r) => describeRule(name, r)).sort() };
}

describe("Network", () => {
  beforeEach(() => {
    created.length = 0;
  });

  it("opens exactly the port matrix plus SSH from the allowed CIDRs when public", async () => {
    const sshAllowedCidrs = ["203.0.113.0/24", "2001:db8::/32"];
    const { described } = await build("net-pub", { sshAllowedCidrs });
    assert.deepStrictEqual(described, [
      "managers <- sg:nodes tcp 2377-2377",
      "nodes <- 2001:db8::/32 tcp 22-22",
      "nodes <- 203.0.113.0/24 tcp 22-22",
      "nodes <- sg:nodes 50 all",
      "nodes <- sg:nodes tcp 7946-7946",
      "nodes <- sg:nodes udp 4789-4789",
      "nodes <- sg:nodes udp 7946-7946",
    ]);
  });

  it("names each rule by its purpose or CIDR text, never by position", async () => {
    const sshAllowedCidrs = ["198.51.100.7/32", "2001:db8::/32"];
    const { rules } = await build("net-names", { sshAllowedCidrs });
    assert.deepStrictEqual(rules.map((r) => r.name).sort(), [
      "net-names-gossip-tcp",
      "net-names-gossip-udp",
      "net-names-overlay-esp",
      "net-names-overlay-vxlan",
      "net-names-ssh-198-51-100-7-32",
      "net-names-ssh-2001-db8-32",
      "net-names-swarm-management",
    ]);
  });

  it("never opens the Docker API or anything to the world", async () => {
    for (const placement of ["public", "private"] as const) {
      const { rules } = await build(`net-never-${placement}`, { nodePlacement: placement });
      for (const r of rules) {
        const from = Number(r.inputs.fromPort ?? 0);
        const to = Number(r.inputs.toPort ?? 0);
        assert.ok(!(from <= 2376 && to >= 2375) || r.inputs.fromPort === undefined, r.name);
        assert.notStrictEqual(r.inputs.ipProtocol, "-1", r.name);
        const cidr = String(r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6);
        assert.ok(!["0.0.0.0/0", "::/0"].includes(cidr), r.name);
      }
    }
  });

  it("creates security groups without inline rules and empties the default group", async () => {
    const { recorded } = await build("net-sg");
    const groups = ofKind(recorded, "securityGroup:SecurityGroup");
    assert.deepStrictEqual(groups.map((g) => g.name).sort(), ["net-sg-managers", "net-sg-nodes"]);
    for (const g of groups) {
      assert.deepStrictEqual([g.inputs.ingress, g.inputs.egress], [undefined, undefined]);
    }
    const defaults = ofKind(recorded, "defaultSecurityGroup:DefaultSecurityGroup");
    assert.strictEqual(defaults.length, 1);
    assert.strictEqual(defaults[0].inputs.vpcId, "net-sg-vpc-id");
    const { ingress, egress } = defaults[0].inputs;
    assert.deepStrictEqual([ingress, egress], [undefined, undefined]);
  });

  it("lets nodes send anything out through one egress rule", async () => {
    const { recorded } = await build("net-egress");
    const egress = recorded.filter((r) => r.type === EGRESS);
    assert.deepStrictEqual(
      egress.map((r) => [r.name, r.inputs.securityGroupId, r.inputs.ipProtocol, r.inputs.cidrIpv4]),
      [["net-egress-nodes-egress", "net-egress-nodes-id", "-1", "0.0.0.0/0"]],
    );
  });

  it("lays out public /20 subnets, one per AZ, with public IPs and no NAT or bastion", async () => {
    const { net, recorded } = await build("net-layout");
    const subnets = ofKind(recorded, "subnet:Subnet").sort((a, b) => a.name.localeCompare(b.name));
    assert.deepStrictEqual(
      subnets.map((s) => {
        const { cidrBlock, availabilityZone, mapPublicIpOnLaunch } = s.inputs;
        return [s.name, cidrBlock, availabilityZone, mapPublicIpOnLaunch];
      }),
      [
        ["net-layout-public-1", "10.0.0.0/20", "us-east-1a", true],
        ["net-layout-public-2", "10.0.16.0/20", "us-east-1b", true],
        ["net-layout-public-3", "10.0.32.0/20", "us-east-1c", true],
      ],
    );
    assert.deepStrictEqual(ofKind(recorded, "natGateway:NatGateway"), []);
    assert.deepStrictEqual(ofKind(recorded, "eip:Eip"), []);
    assert.deepStrictEqual(ofKind(recorded, "instance:Instance"), []);
    assert.deepStrictEqual(net.privateSubnetIds, []);
    assert.strictEqual(net.bastion, undefined);
    assert.deepStrictEqual(await valueOf(pulumi.all(net.nodeSubnetIds)), [
      "net-layout-public-1-id",
      "net-layout-public-2-id",
      "net-layout-public-3-id",
    ]);
    assert.deepStrictEqual(await valueOf(pulumi.all(net.availabilityZones)), [
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
    ]);
  });

  it("routes public subnets to the internet gateway", async () => {
    const { recorded } = await build("net-rt", { azCount: 2 });
    const routes = ofKind(recorded, "route:Route");
    assert.deepStrictEqual(
      routes.map((r) => {
        const { routeTableId, destinationCidrBlock, gatewayId } = r.inputs;
        return [r.name, routeTableId, destinationCidrBlock, gatewayId];
      }),
      [["net-rt-public-default-route", "net-rt-public-rt-id", "0.0.0.0/0", "net-rt-igw-id"]],
    );
    const assocs = ofKind(recorded, "routeTableAssociation:RouteTableAssociation");
    assert.deepStrictEqual(assocs.map((a) => [a.inputs.subnetId, a.inputs.routeTableId]).sort(), [
      ["net-rt-public-1-id", "net-rt-public-rt-id"],
      ["net-rt-public-2-id", "net-rt-public-rt-id"],
    ]);
  });

  it("turns DNS hostnames on and tags every resource with Name and the given tags", async () => {
    const tags = { team: "infra" };
    const { recorded } = await build("net-tags", { tags, nodePlacement: "private" });
    const vpc = ofKind(recorded, "vpc:Vpc")[0];
    assert.deepStrictEqual(
      [vpc.inputs.cidrBlock, vpc.inputs.enableDnsHostnames],
      ["10.0.0.0/16", true],
    );
    const untaggable = [
      "aws:ec2/route:Route",
      "aws:ec2/routeTableAssociation:RouteTableAssociation",
    ];
    for (const r of recorded.filter((x) => x.custom && !untaggable.includes(x.type))) {
      assert.deepStrictEqual(r.inputs.tags, { team: "infra", Name: r.name }, r.name);
    }
  });

  describe("private placement", () => {
    it("uses one NAT gateway with an EIP in the first public subnet", async () => {
      const { recorded } = await build("net-nat", { nodePlacement: "private" });
      const nats = ofKind(recorded, "natGateway:NatGateway");
      assert.deepStrictEqual(
        nats.map((n) => [n.name, n.inputs.subnetId, n.inputs.allocationId]),
        [["net-nat-nat", "net-nat-public-1-id", "net-nat-nat-eip-id"]],
      );
      assert.deepStrictEqual(ofKind(recorded, "eip:Eip").map((e) => e.inputs.domain), ["vpc"]);
      const privateRoute = ofKind(recorded, "route:Route").filter(
        (r) => r.name === "net-nat-private-default-route",
      );
      assert.deepStrictEqual(
        privateRoute.map((r) => [r.inputs.destinationCidrBlock, r.inputs.natGatewayId]),
        [["0.0.0.0/0", "net-nat-nat-id"]],
      );
    });

    it("puts nodes in private subnets without public IPs", async () => {
      const { net, recorded } = await build("net-priv", { nodePlacement: "private" });
      const subnets = ofKind(recorded, "subnet:Subnet");
      subnets.sort((a, b) => a.name.localeCompare(b.name));
      assert.deepStrictEqual(
        subnets.map((s) => [s.name, s.inputs.cidrBlock, s.inputs.mapPublicIpOnLaunch]),
        [
          ["net-priv-private-1", "10.0.128.0/20", false],
          ["net-priv-private-2", "10.0.144.0/20", false],
          ["net-priv-private-3", "10.0.160.0/20", false],
          ["net-priv-public-1", "10.0.0.0/20", false],
          ["net-priv-public-2", "10.0.16.0/20", false],
          ["net-priv-public-3", "10.0.32.0/20", false],
        ],
      );
      assert.deepStrictEqual(await valueOf(pulumi.all(net.nodeSubnetIds)), [
        "net-priv-private-1-id",
        "net-priv-private-2-id",
        "net-priv-private-3-id",
      ]);
    });

    it("lets SSH reach nodes only from the bastion, and the bastion from the CIDRs", async () => {
      const { described, rules } = await build("net-bast", { nodePlacement: "private" });
      assert.deepStrictEqual(described, [
        "bastion <- 203.0.113.0/24 tcp 22-22",
        "managers <- sg:nodes tcp 2377-2377",
        "nodes <- sg:bastion tcp 22-22",
        "nodes <- sg:nodes 50 all",
        "nodes <- sg:nodes tcp 7946-7946",
        "nodes <- sg:nodes udp 4789-4789",
        "nodes <- sg:nodes udp 7946-7946",
      ]);
      assert.ok(rules.some((r) => r.name === "net-bast-bastion-ssh-203-0-113-0-24"));
      assert.ok(rules.some((r) => r.name === "net-bast-ssh-from-bastion"));
    });

    it("runs a hardened bastion in the first public subnet with its own group", async () => {
      const args = { nodePlacement: "private", keyName: "ops" } as const;
      const { net, recorded } = await build("net-host", args);
      const hosts = ofKind(recorded, "instance:Instance");
      assert.deepStrictEqual(hosts.map((h) => h.name), ["net-host-bastion"]);
      const b = hosts[0].inputs;
      assert.deepStrictEqual(
        [b.instanceType, b.subnetId, b.vpcSecurityGroupIds, b.associatePublicIpAddress],
        ["t3.nano", "net-host-public-1-id", ["net-host-bastion-id"], true],
      );
      assert.deepStrictEqual(
        [b.keyName, b.ami, b.iamInstanceProfile, b.userData],
        ["ops", "ami-0123456789abcdef0", undefined, undefined],
      );
      assert.deepStrictEqual(b.metadataOptions, {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
      });
      assert.deepStrictEqual(b.rootBlockDevice, { encrypted: true, volumeType: "gp3" });
      assert.match(await valueOf(net.bastionPublicIp!), /^203\.0\.113\.\d+$/);
      assert.strictEqual(await valueOf(net.bastionSecurityGroupId!), "net-host-bastion-id");
    });
  });

  it("parents every child to the Network", async () => {
    const parents = new Map<string, pulumi.Resource | undefined>();
    const net = new Network(
      "net-parent",
      { sshAllowedCidrs: ["203.0.113.0/24"], nodePlacement: "private" },
      { transformations: [(a) => (parents.set(a.name, a.opts.parent), undefined)] },
    );
    const recorded = await recordedUnder("net-parent");
    const children = recorded.filter((r) => r.custom).map((r) => r.name);
    assert.strictEqual(children.length, 34);
    for (const child of children) assert.strictEqual(parents.get(child), net, child);
    assert.match(
      await valueOf(net.bastion!.urn),
      /aws-swarm:index:Network\$aws:ec2\/instance:Instance::net-parent-bastion$/,
    );
  });

  it("registers its public fields as outputs", async () => {
    const net = new Network("net-outputs", { sshAllowedCidrs: ["203.0.113.0/24"] });
    await settle();
    const outputs = registeredOutputs.get("net-outputs");
    assert.ok(outputs);
    assert.strictEqual(outputs.vpcId, net.vpcId);
    assert.strictEqual(outputs.nodesSecurityGroupId, net.nodesSecurityGroupId);
    assert.strictEqual(outputs.sshIngressSource, "sshAllowedCidrs: 203.0.113.0/24");
  });

  describe("validation", () => {
    const ssh = (...sshAllowedCidrs: string[]) => ({ sshAllowedCidrs });
    const cases: [string, Partial<NetworkArgs>, RegExp][] = [
      ["the world", ssh("0.0.0.0/0"), /sshAllowedCidrs\[0\] is "0.0.0.0\/0", which opens SSH to the whole internet/],
      ["the IPv6 world", ssh("10.1.0.0/16", "::/0"), /sshAllowedCidrs\[1\] is "::\/0", which opens SSH to the whole internet/],
      ["no CIDRs", ssh(), /sshAllowedCidrs is \[\]; list the networks/],
      ["a malformed CIDR", ssh("203.0.113.1/24"), /sshAllowedCidrs\[0\] is "203.0.113.1\/24"/],
      ["7 AZs", { azCount: 7 }, /azCount is 7; use a whole number of availability zones from 1 to 6/],
      ["a bad placement", { nodePlacement: "dmz" as "public" }, /nodePlacement is "dmz"; use "pub/],
      ["a tiny VPC", { vpcCidr: "10.0.0.0/26" }, /vpcCidr is "10.0.0.0\/26"; it cannot hold 6/],
    ];
    for (const [what, args, message] of cases) {
      it(`rejects ${what} before creating anything`, async () => {
        const name = `net-bad-${what.replace(/\W+/g, "-")}`;
        const full = { sshAllowedCidrs: ["203.0.113.0/24"], ...args };
        assert.throws(() => new Network(name, full), message);
        await settle();
        assert.deepStrictEqual(created.filter((r) => r.custom && r.name.startsWith(name)), []);
      });
    }

    it("reports every problem at once", () => {
      const args = { azCount: 0, sshAllowedCidrs: ["1.2.3.4/32", "1.2.3.4/32"] };
      assert.deepStrictEqual(networkProblems(args), [
        "azCount is 0; use a whole number of availability zones from 1 to 6.",
        'sshAllowedCidrs[1] is "1.2.3.4/32", the same network as sshAllowedCidrs[0]; list each network once.',
      ]);
    });
  });

  it("builds its rules from the port matrix for both placements", () => {
    const keys = (p: "public" | "private") =>
      ingressPlan(p, ["192.0.2.0/24"]).map((r) => `${r.target}:${r.key}`);
    assert.deepStrictEqual(keys("public"), [
      "managers:swarm-management",
      "nodes:gossip-tcp",
      "nodes:gossip-udp",
      "nodes:overlay-vxlan",
      "nodes:overlay-esp",
      "nodes:ssh-192-0-2-0-24",
    ]);
    assert.deepStrictEqual(keys("private").slice(5), [
      "nodes:ssh-from-bastion",
      "bastion:bastion-ssh-192-0-2-0-24",
    ]);
  });
});

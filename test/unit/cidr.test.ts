import * as assert from "assert";
import {
  cidrNameKey,
  ipv4CidrProblem,
  isValidIpv4Cidr,
  isValidIpv6Cidr,
  isWorldCidr,
  parseCidr,
  sshCidrProblems,
  subnetCidrs,
  subnetPlan,
  subnetPlanProblems,
} from "../../components/cidr";
import { ConfigError } from "../../components/errors";

describe("cidr", () => {
  describe("isValidIpv4Cidr", () => {
    it("accepts network CIDRs", () => {
      const good = ["10.0.0.0/16", "0.0.0.0/0", "203.0.113.7/32", "255.255.255.255/32"];
      for (const c of good) assert.strictEqual(isValidIpv4Cidr(c), true, c);
    });

    it("rejects malformed text, out-of-range parts and host bits", () => {
      const bad = [
        "10.0.0.0",
        "10.0.0/16",
        "10.0.0.256/32",
        "10.0.0.0/33",
        "010.0.0.0/8",
        "10.0.0.1/16",
        "a.b.c.d/8",
        "10.0.0.0/016",
        " 10.0.0.0/16",
        "2001:db8::/32",
        "",
      ];
      for (const c of bad) assert.strictEqual(isValidIpv4Cidr(c), false, c);
    });

    it("names the block the user meant when host bits are set", () => {
      assert.strictEqual(
        ipv4CidrProblem("10.0.3.7/16"),
        '"10.0.3.7/16" has host bits set; use "10.0.0.0/16"',
      );
    });
  });

  describe("isValidIpv6Cidr", () => {
    it("accepts network CIDRs", () => {
      const good = ["2001:db8::/32", "::/0", "2001:db8:0:0:0:0:0:1/128", "2001:DB8::/48"];
      for (const c of good) assert.strictEqual(isValidIpv6Cidr(c), true, c);
    });

    it("rejects malformed text and host bits", () => {
      const bad = [
        "2001:db8::1/32",
        "2001:db8::/129",
        "2001:db8/32",
        "1::2::3/64",
        "1:2:3:4:5:6:7:8:9/128",
        "12345::/16",
        "10.0.0.0/8",
        "2001:db8::",
      ];
      for (const c of bad) assert.strictEqual(isValidIpv6Cidr(c), false, c);
    });
  });

  describe("parsing through ipaddr.js", () => {
    it("turns away the inet_aton forms EC2 refuses or reads differently", () => {
      for (const c of ["10.1/16", "0x0a.0.0.0/8", "012.0.0.0/8", "10.0.0.0 /8", "10.0.0.0/8\n", "fe80::/64%eth0"]) {
        assert.strictEqual(parseCidr(c), undefined, c);
      }
    });

    it("reads IPv6 with an embedded IPv4 address", () => {
      assert.deepStrictEqual(parseCidr("::ffff:10.0.0.0/104"), { family: 6, address: 0xffff0a000000n, prefix: 104 });
    });

    it("names the IPv6 network the user meant when host bits are set", () => {
      assert.deepStrictEqual(sshCidrProblems(["2001:db8::1/32"]), [
        'sshAllowedCidrs[0] is "2001:db8::1/32", which has host bits set; use "2001:db8::/32".',
      ]);
    });
  });

  it("recognises world CIDRs", () => {
    const cidrs = ["0.0.0.0/0", "::/0", "10.0.0.0/8"];
    assert.deepStrictEqual(cidrs.map(isWorldCidr), [true, true, false]);
  });

  it("turns a CIDR into a name key", () => {
    const cidrs = ["203.0.113.0/24", "2001:DB8::/32"];
    assert.deepStrictEqual(cidrs.map(cidrNameKey), ["203-0-113-0-24", "2001-db8-32"]);
  });

  describe("sshCidrProblems", () => {
    it("accepts IPv4 and IPv6 networks", () => {
      assert.deepStrictEqual(sshCidrProblems(["203.0.113.7/32", "2001:db8::/32"]), []);
    });

    it("reports an empty list, the world, malformed entries and duplicates", () => {
      assert.deepStrictEqual(sshCidrProblems([]), [
        'sshAllowedCidrs is []; list the networks that may reach SSH, e.g. sshAllowedCidrs: ["203.0.113.0/24"].',
      ]);
      const cidrs = ["0.0.0.0/0", "::/0", "1.2.3.4", "10.0.0.0/8", "10.0.0.0/8"];
      assert.deepStrictEqual(sshCidrProblems(cidrs), [
        'sshAllowedCidrs[0] is "0.0.0.0/0", which opens SSH to the whole internet; list your office or VPN ranges instead.',
        'sshAllowedCidrs[1] is "::/0", which opens SSH to the whole internet; list your office or VPN ranges instead.',
        'sshAllowedCidrs[2] is "1.2.3.4"; use an IPv4 or IPv6 network CIDR such as "203.0.113.0/24" or "2001:db8::/48".',
        'sshAllowedCidrs[4] is "10.0.0.0/8", the same network as sshAllowedCidrs[3]; list each network once.',
      ]);
    });
  });

  describe("subnetCidrs", () => {
    it("splits a VPC into consecutive subnets", () => {
      assert.deepStrictEqual(subnetCidrs("10.0.0.0/16", 3, 4), [
        "10.0.0.0/20",
        "10.0.16.0/20",
        "10.0.32.0/20",
      ]);
      const last = subnetCidrs("10.0.0.0/16", 2, 8, 254);
      assert.deepStrictEqual(last, ["10.0.254.0/24", "10.0.255.0/24"]);
    });

    it("throws when the VPC is too small", () => {
      assert.throws(
        () => subnetCidrs("10.0.0.0/24", 5, 2),
        /^Error: 10\.0\.0\.0\/24 holds 4 \/26 subnets; 5 were asked for$/,
      );
      assert.throws(() => subnetCidrs("10.0.0.0/30", 1, 4), /the prefix would be \/34/);
    });
  });

  describe("subnetPlan", () => {
    it("uses /20 subnets in a /16, private ones from the second half", () => {
      assert.deepStrictEqual(subnetPlan("10.0.0.0/16", 3), {
        public: ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
        private: ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"],
        prefix: 20,
      });
    });

    it("keeps existing subnets when AZs are added to a /16", () => {
      const three = subnetPlan("10.0.0.0/16", 3);
      const six = subnetPlan("10.0.0.0/16", 6);
      assert.deepStrictEqual(six.public.slice(0, 3), three.public);
      assert.deepStrictEqual(six.private.slice(0, 3), three.private);
    });

    it("makes subnets as large as fit in a small VPC", () => {
      assert.deepStrictEqual(subnetPlan("172.16.0.0/24", 3), {
        public: ["172.16.0.0/27", "172.16.0.32/27", "172.16.0.64/27"],
        private: ["172.16.0.128/27", "172.16.0.160/27", "172.16.0.192/27"],
        prefix: 27,
      });
      assert.deepStrictEqual(subnetPlan("10.0.0.0/27", 1), {
        public: ["10.0.0.0/28"],
        private: ["10.0.0.16/28"],
        prefix: 28,
      });
    });

    it("refuses a VPC that cannot hold /28 subnets for every AZ", () => {
      const expected =
        'vpcCidr is "10.0.0.0/26"; it cannot hold 6 subnets of at least /28 (one public and ' +
        'one private per AZ for 3 AZs): use a larger block (smaller prefix) such as ' +
        '"10.0.0.0/16", or fewer AZs.';
      assert.throws(
        () => subnetPlan("10.0.0.0/26", 3),
        (e: Error) => e instanceof ConfigError && e.message === expected,
      );
    });

    it("names the config key it is given", () => {
      assert.deepStrictEqual(subnetPlanProblems("10.0.0.0/8", 3, "aws-swarm:vpcCidr"), [
        'aws-swarm:vpcCidr is "10.0.0.0/8"; AWS VPCs take /16 to /28: use e.g. "10.0.0.0/16".',
      ]);
      assert.deepStrictEqual(subnetPlanProblems("10.0.0.1/16", 3), [
        'vpcCidr is "10.0.0.1/16", which has host bits set; use "10.0.0.0/16".',
      ]);
      assert.deepStrictEqual(subnetPlanProblems("10.0.0.0/16", 6), []);
    });
  });
});

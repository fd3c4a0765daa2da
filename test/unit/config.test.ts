import * as assert from "node:assert";
import { parseStackConfig } from "../../config";
import { stackConfig } from "../helpers/stack";

const base = { "aws-swarm:sshAllowedCidrs": '["203.0.113.0/24"]' };
const problems = (extra: Record<string, string>) => parseStackConfig({ ...base, ...extra }).problems;

describe("stack config", () => {
  it("resolves every default from the one required key", () => {
    assert.deepStrictEqual(parseStackConfig(base), {
      problems: [],
      config: {
        managerCount: 3, workerCount: 2, managerInstanceType: "t3.small", workerInstanceType: "t3.small",
        sshAllowedCidrs: ["203.0.113.0/24"], vpcCidr: "10.0.0.0/16", azCount: 3, nodePlacement: "public",
        sshPublicKey: undefined, registry: { enabled: true, image: "registry:2", forceDestroy: false },
        services: [], publishedCidrs: [], publishedPorts: [], stacks: [], tokenRotation: undefined,
        logs: { driver: "awslogs", retentionDays: 30 }, alarmEmail: undefined, workerGroups: [],
        autolock: false, unlockKeyRotation: undefined, backups: { enabled: true, schedule: "hourly", retentionDays: 14 },
        restoreFrom: undefined, rollingBatch: undefined,
      },
      warnings: [],
    });
  });

  it("reads the dev and prod stack files without a problem", () => {
    for (const stack of ["dev", "prod"]) assert.deepStrictEqual(parseStackConfig(stackConfig(stack)).problems, []);
    const prod = parseStackConfig(stackConfig("prod")).config!;
    assert.deepStrictEqual([prod.managerCount, prod.nodePlacement, prod.azCount, prod.autolock], [3, "private", 3, true]);
    assert.strictEqual(parseStackConfig(stackConfig("dev")).config!.autolock, false);
  });

  for (const [value, shownAs] of [["4", "4"], ["0", "0"], ["-1", "-1"], ["2.5", "2.5"], ["9", "9"], ["three", '"three"']]) {
    it(`rejects managerCount ${value} naming key, value and the allowed counts`, () => {
      assert.deepStrictEqual(problems({ "aws-swarm:managerCount": value }), [
        `aws-swarm:managerCount is ${shownAs}; a Swarm manager quorum must be odd and at most 7: use 1, 3, 5 or 7.`,
      ]);
    });
  }

  for (const value of ["-1", "1001", "1.5", "1e9"]) {
    it(`rejects workerCount ${value}`, () => {
      assert.deepStrictEqual(problems({ "aws-swarm:workerCount": value }), [
        `aws-swarm:workerCount is ${Number(value)}; use a whole number of workers from 0 to 1000.`,
      ]);
    });
  }

  it("requires sshAllowedCidrs", () => {
    assert.deepStrictEqual(parseStackConfig({}).problems, [
      "aws-swarm:sshAllowedCidrs is unset; list the networks that may reach SSH, e.g. pulumi config set --path 'aws-swarm:sshAllowedCidrs[0]' 203.0.113.0/24.",
    ]);
  });

  it("rejects an empty sshAllowedCidrs list", () => {
    assert.match(problems({ "aws-swarm:sshAllowedCidrs": "[]" })[0], /^aws-swarm:sshAllowedCidrs is \[\]; list the networks that may reach SSH/);
  });

  for (const world of ["0.0.0.0/0", "::/0"]) {
    it(`rejects ${world} in sshAllowedCidrs`, () => {
      assert.deepStrictEqual(problems({ "aws-swarm:sshAllowedCidrs": JSON.stringify(["10.1.0.0/16", world]) }), [
        `aws-swarm:sshAllowedCidrs[1] is "${world}", which opens SSH to the whole internet; list your office or VPN ranges instead.`,
      ]);
    });
  }

  it("rejects malformed CIDRs, naming each", () => {
    assert.deepStrictEqual(problems({ "aws-swarm:sshAllowedCidrs": '["10.0.0.300/24", "10.0.0.1/16", "2001:db8::/129"]' }), [
      'aws-swarm:sshAllowedCidrs[0] is "10.0.0.300/24"; use an IPv4 or IPv6 network CIDR such as "203.0.113.0/24" or "2001:db8::/48".',
      'aws-swarm:sshAllowedCidrs[1] is "10.0.0.1/16", which has host bits set; use "10.0.0.0/16".',
      'aws-swarm:sshAllowedCidrs[2] is "2001:db8::/129"; use an IPv4 or IPv6 network CIDR such as "203.0.113.0/24" or "2001:db8::/48".',
    ]);
  });

  it("accepts IPv6 admin ranges", () => {
    assert.deepStrictEqual(problems({ "aws-swarm:sshAllowedCidrs": '["2001:db8::/48"]' }), []);
  });

  for (const value of ["0", "7", "x"]) {
    it(`rejects azCount ${value}`, () => {
      const shownAs = value === "x" ? '"x"' : value;
      assert.deepStrictEqual(problems({ "aws-swarm:azCount": value }), [
        `aws-swarm:azCount is ${shownAs}; use a whole number of availability zones from 1 to 6.`,
      ]);
    });
  }

  it("rejects a VPC too small for its subnets", () => {
    assert.match(problems({ "aws-swarm:vpcCidr": "10.0.0.0/27" })[0], /^aws-swarm:vpcCidr is "10\.0\.0\.0\/27"; .*use/);
  });

  it("rejects a malformed vpcCidr", () => {
    assert.match(problems({ "aws-swarm:vpcCidr": "10.0.0/16" })[0], /^aws-swarm:vpcCidr is "10\.0\.0\/16"; use an IPv4 network CIDR/);
  });

  it("rejects an unknown nodePlacement", () => {
    assert.deepStrictEqual(problems({ "aws-swarm:nodePlacement": "dmz" }), [
      'aws-swarm:nodePlacement is "dmz"; use "public" (nodes with public IPs, cheapest) or "private" (NAT gateway + bastion).',
    ]);
  });

  it("rejects unknown keys, naming them", () => {
    assert.deepStrictEqual(problems({ "aws-swarm:managerCont": "3" }), [
      'aws-swarm:managerCont is not a known setting (value "3"); remove it or use one of: managerCount, workerCount, instanceType, managerInstanceType, workerInstanceType, sshAllowedCidrs, vpcCidr, azCount, nodePlacement, sshPublicKey, registry, services, publishedPorts, publishedCidrs, stacks, tokenRotation, logs, alarmEmail, workerGroups, autolock, unlockKeyRotation, backups, restoreFrom, rollingBatch.',
    ]);
  });

  it("ignores other namespaces", () => {
    assert.deepStrictEqual(problems({ "aws:region": "eu-west-1" }), []);
  });

  it("rejects a malformed instance type and a bad public key", () => {
    assert.deepStrictEqual(problems({ "aws-swarm:workerInstanceType": "big", "aws-swarm:sshPublicKey": "not a key" }), [
      'aws-swarm:workerInstanceType is "big", which is not an EC2 instance type; use e.g. "t3.small".',
      'aws-swarm:sshPublicKey is "not a key", which is not an OpenSSH public key; paste the one line of your id_ed25519.pub, or unset it to have a key generated.',
    ]);
  });

  it("reads registry as a boolean or an object and rejects unknown fields", () => {
    assert.strictEqual(parseStackConfig({ ...base, "aws-swarm:registry": "false" }).config!.registry.enabled, false);
    assert.deepStrictEqual(problems({ "aws-swarm:registry": '{"enabled": true, "size": 3}' }), [
      "aws-swarm:registry.size is not a known setting; use true, false or { enabled: bool, image: string, forceDestroy: bool }.",
    ]);
  });

  it("reports every problem at once", () => {
    assert.strictEqual(parseStackConfig({ "aws-swarm:managerCount": "2", "aws-swarm:workerCount": "-3" }).problems.length, 3);
  });

  it("reads publishedPorts as numbers or { port, protocol }", () => {
    assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:publishedPorts": '[8080, {"port": 53, "protocol": "udp"}]' }).config!.publishedPorts, [
      { port: 8080, protocol: "tcp" }, { port: 53, protocol: "udp" },
    ]);
  });

  it("rejects reserved, malformed and repeated publishedPorts, naming each entry", () => {
    assert.deepStrictEqual(problems({ "aws-swarm:publishedPorts": '[2377, 70000, {"port": 80, "protocol": "sctp"}, 8080, 8080, "x"]' }), [
      "aws-swarm:publishedPorts[0].port is 2377, which is reserved for SSH, the Docker API, Swarm or the registry (22, 2375, 2376, 2377, 7946, 4789, 5000); use another port.",
      "aws-swarm:publishedPorts[1].port is 70000; use a whole number from 1 to 65535.",
      'aws-swarm:publishedPorts[2].protocol is "sctp"; use "tcp" or "udp".',
      "aws-swarm:publishedPorts[4] repeats 8080/tcp; list each port once.",
      'aws-swarm:publishedPorts[5] is "x"; write a port number or { port: 53, protocol: "udp" }.',
    ]);
  });
});

describe("stack config: rollingBatch", () => {
  const base = { "aws-swarm:sshAllowedCidrs": '["203.0.113.0/24"]' };
  it("takes a JSON object and checks it with the components' rule", () => {
    assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:rollingBatch": '{"workers":"50%"}' }).config?.rollingBatch, { workers: "50%" });
    assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:rollingBatch": '{"managers":2,"workers":0}' }).problems, [
      "aws-swarm:rollingBatch.managers is 2; managers roll one at a time so the quorum is never cut twice: use 1.",
      'aws-swarm:rollingBatch.workers is 0; use a whole number of workers from 1 to 1000, or a share from "1%" to "100%".',
    ]);
    assert.match(parseStackConfig({ ...base, "aws-swarm:rollingBatch": "25%" }).problems[0], /^aws-swarm:rollingBatch is "25%", which is not JSON; /);
  });
});

describe("stack config: tokenRotation", () => {
  it("passes the marker through and refuses one that is not a single printable line", () => {
    const base = { "aws-swarm:sshAllowedCidrs": '["203.0.113.0/24"]' };
    assert.strictEqual(parseStackConfig({ ...base, "aws-swarm:tokenRotation": "2026-12-01" }).config?.tokenRotation, "2026-12-01");
    assert.deepStrictEqual(parseStackConfig({ ...base, "aws-swarm:tokenRotation": "a\nb; rm -rf /" }).problems, [
      'aws-swarm:tokenRotation is "a\\nb; rm -rf /"; use 1 to 128 printable ASCII characters on one line, e.g. a date such as "2026-12-01".',
    ]);
  });
});

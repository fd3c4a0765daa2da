import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { SwarmCluster } from "../../components/cluster";
import { parseServices } from "../../components/services-config";
import { swarmPolicies } from "../../policy/rules/all";
import { created, valueOf } from "../helpers/mocks";
import { PackViolation, runPack, runPolicy, untypedResourceArgs, whenSettled } from "../helpers/policy";
import { runProgram, stackConfig } from "../helpers/stack";

const SSH_RULE = "swarm-no-ssh-from-world-or-unlisted-cidrs";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

/** Services publishing TCP and UDP ports, with a secret, on their own network. */
const SERVICES = [
  { name: "web", image: "nginx:1.27", replicas: 8, ports: [{ published: 80, target: 80 }, { published: 443, target: 443 }] },
  {
    name: "dns",
    image: "127.0.0.1:5000/dns:1.0",
    ports: [{ published: 53, target: 53, protocol: "udp" }, { published: 53, target: 53, protocol: "tcp" }],
    secrets: ["dns-key"],
    networks: ["backend"],
  },
  { name: "syslog", image: "127.0.0.1:5000/syslog:1.0", global: true, ports: [{ published: 6514, target: 514, protocol: "udp" }] },
];

function servicesConfig(stack: string): Record<string, string> {
  return {
    ...stackConfig(stack),
    "aws-swarm:services": JSON.stringify(SERVICES),
    "aws-swarm:publishedCidrs": JSON.stringify(["192.0.2.0/24", "2001:db8::/48"]),
    "aws-swarm-secrets:dns-key": "-----BEGIN PRIVATE KEY-----not-a-real-key",
  };
}

async function evaluate(config: Record<string, string>): Promise<pulumi.runtime.MockResourceArgs[]> {
  created.length = 0;
  const token = runProgram(config).workerJoinToken;
  if (!pulumi.Output.isInstance<string>(token)) throw new Error("no workerJoinToken");
  await valueOf(token, 20000);
  await whenSettled(created);
  return [...created];
}

const sshConfig = (stack: string): Record<string, object> => {
  const cidrs: unknown = JSON.parse(stackConfig(stack)["aws-swarm:sshAllowedCidrs"]);
  assert.ok(Array.isArray(cidrs));
  return { [SSH_RULE]: { allowedSshCidrs: cidrs.map(String) } };
};

/** Resource types the published ports and services add; the pack must have seen each. */
const SERVICE_TYPES = [
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/targetGroup:TargetGroup",
  "aws:lb/listener:Listener",
  "aws:lb/targetGroupAttachment:TargetGroupAttachment",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "docker:index/network:Network",
  "docker:index/secret:Secret",
  "docker:index/service:Service",
  "pulumi:providers:docker",
];

describe("policy pack round trip with services and published ports", () => {
  for (const stack of ["dev", "prod"]) {
    describe(`the mocked ${stack} stack`, () => {
      let recorded: pulumi.runtime.MockResourceArgs[];
      before(async () => {
        recorded = await evaluate(servicesConfig(stack));
      });

      it("contains the load balancer, its rules and the Docker resources", () => {
        const types = new Set(recorded.map((r) => r.type));
        assert.deepStrictEqual(SERVICE_TYPES.filter((t) => !types.has(t)), []);
      });

      it("opens the published ports to the world on the load balancer's group only", () => {
        const world = recorded.filter((r) => r.type === INGRESS && (r.inputs.cidrIpv4 === "0.0.0.0/0" || r.inputs.cidrIpv6 === "::/0"));
        assert.deepStrictEqual(
          world.map((r) => [r.name, r.inputs.securityGroupId, r.inputs.ipProtocol, r.inputs.fromPort]).sort(),
          [
            ["swarm-lb-in-443-tcp", "swarm-lb-sg-id", "tcp", 443],
            ["swarm-lb-in-53-tcp", "swarm-lb-sg-id", "tcp", 53],
            ["swarm-lb-in-53-udp", "swarm-lb-sg-id", "udp", 53],
            ["swarm-lb-in-6514-udp", "swarm-lb-sg-id", "udp", 6514],
            ["swarm-lb-in-80-tcp", "swarm-lb-sg-id", "tcp", 80],
          ],
        );
      });

      it("passes every rule with the default policy config", async () => {
        assert.deepStrictEqual(await runPack(swarmPolicies, recorded), []);
      });

      it("passes every rule with the stack's own sshAllowedCidrs as the SSH allow-list", async () => {
        assert.deepStrictEqual(await runPack(swarmPolicies, recorded, { config: sshConfig(stack) }), []);
      });
    });
  }

  describe("a private three-manager cluster built directly", () => {
    let violations: PackViolation[];
    before(async () => {
      created.length = 0;
      const { services, problems } = parseServices(SERVICES);
      assert.deepStrictEqual(problems, []);
      const cluster = new SwarmCluster("swarm", {
        managerCount: 3,
        workerCount: 2,
        sshAllowedCidrs: ["203.0.113.0/24"],
        nodePlacement: "private",
        azCount: 3,
        services,
        serviceSecrets: { "dns-key": pulumi.secret("k") },
        publishedCidrs: ["192.0.2.0/24"],
      });
      await valueOf(cluster.workerJoinToken, 20000);
      await whenSettled(created);
      violations = await runPack(swarmPolicies, [...created], {
        config: { [SSH_RULE]: { allowedSshCidrs: ["203.0.113.0/24"] } },
      });
    });

    it("passes every rule of the pack with no violation", () => {
      assert.deepStrictEqual(violations, []);
    });
  });

  describe("the port rules still guard the load balancer's group", () => {
    const lbRule = (port: number) =>
      untypedResourceArgs(INGRESS, {
        securityGroupId: "swarm-lb-sg-id",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      }, { name: `swarm-lb-in-${port}-tcp` });

    it("would report SSH or a Swarm port opened to the world there", async () => {
      const found: string[] = [];
      for (const policy of swarmPolicies) {
        if (!("validateResource" in policy)) continue;
        for (const port of [22, 2377]) found.push(...(await runPolicy(policy, lbRule(port))).map(() => `${policy.name}: ${port}`));
      }
      assert.deepStrictEqual(found.sort(), [
        "swarm-no-ssh-from-world-or-unlisted-cidrs: 22",
        "swarm-no-world-open-docker-or-swarm-ports: 2377",
      ]);
    });
  });
});

import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
  dockerUserData,
  latestAmazonLinuxAmi,
  nodeGroupProblems,
  swarmInstance,
} from "../../components/node";
import { EC2_ASSUME_ROLE_POLICY, nodeRole } from "../../components/roles";
import { created, invoked, recordedUnder, valueOf } from "../helpers/mocks";

describe("node helpers", () => {
  beforeEach(() => {
    created.length = 0;
  });

  describe("dockerUserData", () => {
    it("installs and starts Docker on Amazon Linux 2023", () => {
      const script = dockerUserData();
      assert.ok(script.startsWith("#!/bin/bash\nset -euo pipefail\n"));
      assert.match(script, /^ {2}if dnf install -y docker; then break; fi$/m);
      assert.match(script, /^systemctl enable --now docker$/m);
    });

    it("is the same every time, so it never causes a diff", () => {
      assert.strictEqual(dockerUserData(), dockerUserData());
    });

    it("holds nothing secret and never touches the Docker API ports", () => {
      const forbidden = /SWMTKN|token|PRIVATE KEY|AKIA|aws_secret|password|2375|2376|tcp:\/\//i;
      assert.doesNotMatch(dockerUserData(), forbidden);
    });
  });

  it("looks up the newest Amazon-owned AL2023 x86_64 AMI", async () => {
    invoked.length = 0;
    assert.strictEqual(await valueOf(latestAmazonLinuxAmi()), "ami-0123456789abcdef0");
    const calls = invoked.filter((c) => c.token === "aws:ec2/getAmi:getAmi");
    assert.strictEqual(calls.length, 1);
    assert.deepStrictEqual(calls[0].inputs, {
      owners: ["amazon"],
      mostRecent: true,
      filters: [
        { name: "name", values: ["al2023-ami-2023.*-kernel-*-x86_64"] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
      ],
    });
  });

  it("builds a hardened instance from resolved arguments", async () => {
    const instance = swarmInstance(
      "node-direct",
      {
        kind: "worker",
        clusterName: "lab",
        subnetId: "subnet-1",
        securityGroupIds: ["sg-1"],
        instanceType: "t3.small",
        associatePublicIpAddress: true,
        amiId: "ami-1",
        rootVolumeSize: 30,
        instanceProfile: "profile-1",
        tags: { env: "test" },
      },
      {},
    );
    const [r] = await recordedUnder("node-direct");
    const tags = {
      env: "test",
      Name: "node-direct",
      "swarm:role": "worker",
      "swarm:cluster": "lab",
    };
    assert.deepStrictEqual(r.inputs, {
      ami: "ami-1",
      instanceType: "t3.small",
      subnetId: "subnet-1",
      vpcSecurityGroupIds: ["sg-1"],
      associatePublicIpAddress: true,
      iamInstanceProfile: "profile-1",
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 2,
      },
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 30 },
      userData: dockerUserData(),
      userDataReplaceOnChange: true,
      tags,
      volumeTags: tags,
    });
    assert.match(await valueOf(instance.publicIp), /^203\.0\.113\.\d+$/);
  });

  it("creates an EC2-assumable role and its instance profile, parented", async () => {
    const parent = new pulumi.ComponentResource("aws-swarm:test:Parent", "node-role", {});
    const { role, instanceProfile } = nodeRole("node-role", "manager", parent, { env: "test" });
    const recorded = (await recordedUnder("node-role")).filter((r) => r.custom);
    assert.deepStrictEqual(recorded.map((r) => [r.type, r.name]).sort(), [
      ["aws:iam/instanceProfile:InstanceProfile", "node-role-profile"],
      ["aws:iam/role:Role", "node-role-role"],
    ]);
    const roleInputs = recorded.find((r) => r.type === "aws:iam/role:Role")!.inputs;
    assert.deepStrictEqual(JSON.parse(roleInputs.assumeRolePolicy), EC2_ASSUME_ROLE_POLICY);
    assert.deepStrictEqual(roleInputs.tags, { env: "test", Name: "node-role-role" });
    assert.strictEqual(await valueOf(instanceProfile.role), "node-role-role");
    assert.match(
      await valueOf(role.urn),
      /aws-swarm:test:Parent\$aws:iam\/role:Role::node-role-role$/,
    );
  });

  it("reports bad shared node settings with the value and the fix", () => {
    const args = { subnetIds: ["s"], securityGroupIds: ["g"], rootVolumeSize: 8.5 };
    assert.deepStrictEqual(nodeGroupProblems({ ...args, clusterName: "" }), [
      "rootVolumeSize is 8.5; use a whole number of GiB from 8 to 16384.",
      'clusterName is ""; use a non-empty name.',
    ]);
  });
});

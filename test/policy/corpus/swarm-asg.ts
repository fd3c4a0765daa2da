import * as aws from "@pulumi/aws";
import { ASSUME_EC2, CorpusProgram, JOIN_TOKEN } from "./program";

/**
 * A Swarm-on-AWS template of the older kind: a launch configuration whose user data joins with
 * a baked-in token, an Auto Scaling group that tags the token, a security group open to the
 * world on all traffic, and a role with a broad managed policy plus the agent permissions that
 * only take Resource "*".
 */
export const swarmAsg: CorpusProgram = {
  title: "a Swarm worker pool from a launch configuration and an Auto Scaling group",
  build: () => {
    const sg = new aws.ec2.SecurityGroup("swarm-sg", {
      vpcId: "vpc-1",
      ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
    const role = new aws.iam.Role("swarm-node", { assumeRolePolicy: ASSUME_EC2 });
    new aws.iam.RolePolicyAttachment("swarm-node-ec2", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
    });
    new aws.iam.RolePolicyAttachment("swarm-node-ssm", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    });
    new aws.iam.RolePolicy("swarm-node-agent", {
      role: role.name,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: [
              "cloudwatch:PutMetricData",
              "ssmmessages:CreateControlChannel",
              "ssmmessages:CreateDataChannel",
              "ssmmessages:OpenControlChannel",
              "ssmmessages:OpenDataChannel",
              "ec2:DescribeTags",
            ],
            Resource: "*",
          },
        ],
      }),
    });
    const profile = new aws.iam.InstanceProfile("swarm-node", { role: role.name });
    const config = new aws.ec2.LaunchConfiguration("swarm-worker", {
      imageId: "ami-0c02fb55956c7d316",
      instanceType: "t3.medium",
      iamInstanceProfile: profile.name,
      securityGroups: [sg.id],
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "optional" },
      rootBlockDevice: { volumeSize: 30, encrypted: true },
      userData: `#!/bin/sh\ndocker swarm join --token ${JOIN_TOKEN} 10.0.1.10:2377\n`,
    });
    new aws.autoscaling.Group("swarm-workers", {
      launchConfiguration: config.name,
      minSize: 2,
      maxSize: 6,
      vpcZoneIdentifiers: ["subnet-1", "subnet-2"],
      tags: [
        { key: "Name", value: "swarm-worker", propagateAtLaunch: true },
        { key: "swarm-join-token", value: JOIN_TOKEN, propagateAtLaunch: false },
      ],
    });
  },
  expected: [
    "swarm-no-world-open-docker-or-swarm-ports swarm-sg",
    "swarm-no-full-access-managed-policies swarm-node-ec2",
    "swarm-no-imdsv1 swarm-worker",
    "swarm-no-secrets-in-user-data-or-tags swarm-worker",
    "swarm-no-secrets-in-user-data-or-tags swarm-workers",
  ],
};

import * as aws from "@pulumi/aws";
import { ASSUME_EC2, CorpusProgram } from "./program";

/**
 * ECS container hosts done mostly right: a hardened launch template, the VPC's default security
 * group locked to itself, and a spot instance for batch work. One broad managed policy remains.
 * All traffic from the group itself reaches 2375/2376 too, which swarm-no-docker-api-ingress
 * forbids from any source (a daemon listening on TCP would be root for every member).
 */
export const ecsHosts: CorpusProgram = {
  title: "ECS hosts from a hardened launch template, a locked default group and a spot instance",
  build: () => {
    new aws.ec2.DefaultSecurityGroup("default", {
      vpcId: "vpc-1",
      ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }],
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
    const role = new aws.iam.Role("ecs-host", { assumeRolePolicy: ASSUME_EC2 });
    new aws.iam.RolePolicyAttachment("ecs-host-agent", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    });
    new aws.iam.RolePolicyAttachment("ecs-host-full", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/AmazonECS_FullAccess",
    });
    new aws.ec2.LaunchTemplate("ecs-host", {
      imageId: "ami-0c02fb55956c7d316",
      instanceType: "m6i.large",
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
      blockDeviceMappings: [
        { deviceName: "/dev/xvda", ebs: { volumeSize: 30, encrypted: "true" } },
      ],
      userData: Buffer.from(
        '#!/bin/bash\necho "ECS_CLUSTER=prod" >> /etc/ecs/ecs.config\n' +
          'TOKEN=$(curl -s -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")\n',
      ).toString("base64"),
    });
    new aws.ec2.SpotInstanceRequest("batch", {
      ami: "ami-0c02fb55956c7d316",
      instanceType: "c6i.large",
      spotPrice: "0.05",
      rootBlockDevice: { encrypted: true },
      metadataOptions: { httpTokens: "optional" },
    });
  },
  expected: [
    "swarm-no-docker-api-ingress default",
    "swarm-no-full-access-managed-policies ecs-host-full",
    "swarm-no-imdsv1 batch",
  ],
};

import * as aws from "@pulumi/aws";
import { CorpusProgram } from "./program";

/**
 * A program fed by a stack reference whose outputs are missing: each list gets an undefined
 * element, which reaches the pack as null. The other values must still be checked.
 */
export const missingOutputs: CorpusProgram = {
  title: "lists holding the null a missing stack reference output leaves",
  build: () => {
    const missing: string | undefined = undefined;
    new aws.ec2.SecurityGroup("app-sg", {
      vpcId: "vpc-1",
      ingress: [
        { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [missing as unknown as string] },
        { protocol: "tcp", fromPort: 2375, toPort: 2375, cidrBlocks: ["10.0.0.0/8"] },
      ],
    });
    new aws.ec2.Instance("app", {
      ami: "ami-1",
      instanceType: "t3.micro",
      metadataOptions: { httpTokens: "required" },
      rootBlockDevice: { encrypted: true },
      ebsBlockDevices: [
        missing as unknown as aws.types.input.ec2.InstanceEbsBlockDevice,
        { deviceName: "/dev/sdf", volumeSize: 20 },
      ],
    });
    new aws.ec2.LaunchTemplate("app-lt", {
      metadataOptions: { httpTokens: "required" },
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }],
      tagSpecifications: [
        missing as unknown as aws.types.input.ec2.LaunchTemplateTagSpecification,
        { resourceType: "instance", tags: { Name: "app" } },
      ],
    });
  },
  expected: ["swarm-no-docker-api-ingress app-sg", "swarm-no-unencrypted-ebs app"],
};

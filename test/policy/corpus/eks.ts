import * as aws from "@pulumi/aws";
import { CorpusProgram } from "./program";

/** An EKS cluster's managed node group with an SSH key, and its image repository. */
export const eksNodeGroup: CorpusProgram = {
  title: "an EKS node group with remote access and a world-readable ECR repository",
  build: () => {
    const role = new aws.iam.Role("eks-nodes", {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "ec2.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    });
    for (const [name, policy] of [
      ["eks-nodes-worker", "AmazonEKSWorkerNodePolicy"],
      ["eks-nodes-cni", "AmazonEKS_CNI_Policy"],
      ["eks-nodes-ecr", "AmazonEC2ContainerRegistryReadOnly"],
    ]) {
      new aws.iam.RolePolicyAttachment(name, {
        role: role.name,
        policyArn: `arn:aws:iam::aws:policy/${policy}`,
      });
    }
    new aws.eks.NodeGroup("eks-default", {
      clusterName: "prod",
      nodeRoleArn: role.arn,
      subnetIds: ["subnet-1", "subnet-2"],
      scalingConfig: { desiredSize: 2, maxSize: 4, minSize: 1 },
      remoteAccess: { ec2SshKey: "ops" },
    });
    const repo = new aws.ecr.Repository("app", { imageTagMutability: "IMMUTABLE" });
    new aws.ecr.RepositoryPolicy("app-pull", {
      repository: repo.name,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AnyonePull",
            Effect: "Allow",
            Principal: "*",
            Action: ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
          },
        ],
      }),
    });
  },
  expected: [
    "swarm-no-ssh-from-world-or-unlisted-cidrs eks-default",
    "swarm-no-public-resource-policies app-pull",
  ],
};

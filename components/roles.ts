import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The kinds of Swarm node; one IAM role each. */
export type NodeKind = "manager" | "worker";

/** An EC2 node role and the instance profile that hands it to instances. */
export interface NodeRole {
  role: aws.iam.Role;
  instanceProfile: aws.iam.InstanceProfile;
}

/** Trust policy that lets EC2 (and only EC2) assume the role on an instance's behalf. */
export const EC2_ASSUME_ROLE_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "ec2.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ],
};

/**
 * Creates `${name}-role` and `${name}-profile` for one node kind, parented to `parent`. The
 * role starts with no policies: callers attach exactly what the nodes need (the Registry
 * attaches its bucket policy). Instances get credentials from IMDSv2; there are no access keys.
 */
export function nodeRole(
  name: string,
  kind: NodeKind,
  parent: pulumi.Resource,
  tags: Record<string, string> = {},
): NodeRole {
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      description: `Swarm ${kind} nodes of ${name}`,
      assumeRolePolicy: JSON.stringify(EC2_ASSUME_ROLE_POLICY),
      tags: { ...tags, Name: `${name}-role` },
    },
    { parent },
  );
  const instanceProfile = new aws.iam.InstanceProfile(
    `${name}-profile`,
    { role: role.name, tags: { ...tags, Name: `${name}-profile` } },
    { parent },
  );
  return { role, instanceProfile };
}

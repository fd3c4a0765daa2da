import { Policies } from "@pulumi/policy";
import {
  swarmNoImdsv1,
  swarmNoPartialS3PublicAccessBlock,
  swarmNoPublicS3Buckets,
  swarmNoSecretsInUserDataOrTags,
  swarmNoUnencryptedEbs,
  swarmNoUnencryptedS3Buckets,
} from "./data";
import {
  swarmNoAdminManagedPolicies,
  swarmNoFullAccessManagedPolicies,
  swarmNoIamAccessKeys,
  swarmNoLifecycleCompletionOnAllGroups,
  swarmNoPassRoleOnAllResources,
  swarmNoWildcardIamActions,
  swarmNoWriteActionsOnAllResources,
} from "./iam";
import {
  swarmNoCidrIngressToSwarmPorts,
  swarmNoDockerApiIngress,
  swarmNoSshFromWorldOrUnlistedCidrs,
  swarmNoWorldOpenDockerOrSwarmPorts,
} from "./ports";
import { swarmNoWorldOpenPortsAcrossRules } from "./ports-union";
import { swarmNoPublicResourcePolicies } from "./resource-policies";
import { swarmNoHostRootServices } from "./services";
import { swarmNoEvenOrOversizedManagerQuorum } from "./stack";

/**
 * Every rule of the aws-swarm pack, listed explicitly. policy/index.ts hands this list to the
 * PolicyPack; tests import it here, because constructing a PolicyPack starts its gRPC server.
 */
export const swarmPolicies: Policies = [
  // ports
  swarmNoSshFromWorldOrUnlistedCidrs,
  swarmNoWorldOpenDockerOrSwarmPorts,
  swarmNoDockerApiIngress,
  swarmNoCidrIngressToSwarmPorts,
  swarmNoWorldOpenPortsAcrossRules,
  // IAM
  swarmNoWildcardIamActions,
  swarmNoWriteActionsOnAllResources,
  swarmNoPassRoleOnAllResources,
  swarmNoLifecycleCompletionOnAllGroups,
  swarmNoAdminManagedPolicies,
  swarmNoFullAccessManagedPolicies,
  swarmNoPublicResourcePolicies,
  swarmNoIamAccessKeys,
  // data
  swarmNoPublicS3Buckets,
  swarmNoUnencryptedS3Buckets,
  swarmNoPartialS3PublicAccessBlock,
  swarmNoImdsv1,
  swarmNoUnencryptedEbs,
  swarmNoSecretsInUserDataOrTags,
  // stack
  swarmNoEvenOrOversizedManagerQuorum,
  // services
  swarmNoHostRootServices,
];

export type {
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

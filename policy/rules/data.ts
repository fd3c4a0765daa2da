import * as aws from "@pulumi/aws";
import {
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import { gunzipSync } from "zlib";
import { readKnown, UNKNOWN } from "./unknown";
import { describeResource, shown } from "./where";

function here(args: { type: string; name: string }): string {
  return describeResource(args.type, args.name);
}

// ---------------------------------------------------------------------------------------------
// S3: in @pulumi/aws v7 the public access block and default encryption are separate resources
// that point at a bucket through their `bucket` property, so they are checked over the stack.

const PUBLIC_ACCESS_SETTINGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

type PublicAccessSettings = { [K in (typeof PUBLIC_ACCESS_SETTINGS)[number]]?: unknown };

const ALL_FOUR = "blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets";

/** Settings that are not `true`, as `blockPublicPolicy false` / `restrictPublicBuckets unset`. */
export function publicAccessGaps(block: PublicAccessSettings): string[] {
  return PUBLIC_ACCESS_SETTINGS.filter((s) => block[s] !== true).map(
    (s) => `${s} ${block[s] === undefined || block[s] === null ? "unset" : String(block[s])}`,
  );
}

function isBucket(r: PolicyResource): boolean {
  return r.isType(aws.s3.Bucket) || r.isType(aws.s3.BucketV2);
}

/**
 * The resources among `candidates` whose `bucket` property names `bucket`. The engine records
 * which resource a property came from, so `bucket: myBucket.id` links even in a preview, when the
 * name is still unknown. Names that did not come from a bucket resource (literals, config, a
 * random suffix) are compared with the bucket's `bucket` and `id` outputs.
 */
function attachedTo(bucket: PolicyResource, candidates: PolicyResource[]): PolicyResource[] {
  const links = (c: PolicyResource) => c.propertyDependencies["bucket"] ?? [];
  const linked = candidates.filter((c) => links(c).some((d) => d.urn === bucket.urn));
  const literal = candidates.filter((c) => !links(c).some(isBucket));
  // Read names only when needed: an unknown value read during preview aborts the whole check.
  if (linked.length > 0 || literal.length === 0) return linked;
  const identities = [bucket.props.bucket, bucket.props.id].filter((v) => typeof v === "string");
  return literal.filter((c) => identities.includes(c.props.bucket));
}

export const swarmNoPublicS3Buckets: StackValidationPolicy = {
  name: "swarm-no-public-s3-buckets",
  description:
    "Forbids S3 buckets (aws.s3.Bucket, aws.s3.BucketV2) without an " +
    "aws.s3.BucketPublicAccessBlock that sets all four of " +
    `${ALL_FOUR} to true.`,
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: `Add an aws.s3.BucketPublicAccessBlock with bucket: <bucket>.id and ${ALL_FOUR} true.`,
  validateStack: (args, report) => {
    const blocks = args.resources.filter((r) => r.isType(aws.s3.BucketPublicAccessBlock));
    for (const bucket of args.resources.filter(isBucket)) {
      const attached = attachedTo(bucket, blocks);
      if (attached.length === 0) {
        report(
          `${here(bucket)} has no aws.s3.BucketPublicAccessBlock, so an ACL or bucket policy can ` +
            `make it public; add one for this bucket with ${ALL_FOUR} all true.`,
          bucket.urn,
        );
        continue;
      }
      if (attached.some((b) => publicAccessGaps(b.props).length === 0)) continue;
      for (const block of attached) {
        report(
          `${here(bucket)} has ${here(block)}, but it leaves ` +
            `${publicAccessGaps(block.props).join(", ")}; set ${ALL_FOUR} all to true.`,
          bucket.urn,
        );
      }
    }
  },
};

function isEncryptionConfiguration(r: PolicyResource): boolean {
  return (
    r.isType(aws.s3.BucketServerSideEncryptionConfiguration) ||
    r.isType(aws.s3.BucketServerSideEncryptionConfigurationV2)
  );
}

function hasDefaultAlgorithm(configuration: PolicyResource): boolean {
  const rules: unknown = configuration.props.rules;
  return (
    Array.isArray(rules) &&
    rules.some((rule: { applyServerSideEncryptionByDefault?: { sseAlgorithm?: unknown } }) => {
      const algorithm = rule?.applyServerSideEncryptionByDefault?.sseAlgorithm;
      return typeof algorithm === "string" && algorithm !== "";
    })
  );
}

export const swarmNoUnencryptedS3Buckets: StackValidationPolicy = {
  name: "swarm-no-unencrypted-s3-buckets",
  description:
    "Forbids S3 buckets (aws.s3.Bucket, aws.s3.BucketV2) without an " +
    "aws.s3.BucketServerSideEncryptionConfiguration whose rule sets " +
    "applyServerSideEncryptionByDefault.sseAlgorithm.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Add an aws.s3.BucketServerSideEncryptionConfiguration with bucket: <bucket>.id and a rule " +
    'whose applyServerSideEncryptionByDefault.sseAlgorithm is "aws:kms" or "AES256".',
  validateStack: (args, report) => {
    const configurations = args.resources.filter(isEncryptionConfiguration);
    for (const bucket of args.resources.filter(isBucket)) {
      const attached = attachedTo(bucket, configurations);
      if (attached.length === 0) {
        report(
          `${here(bucket)} has no aws.s3.BucketServerSideEncryptionConfiguration; add one for this ` +
            `bucket with applyServerSideEncryptionByDefault.sseAlgorithm "aws:kms" or "AES256".`,
          bucket.urn,
        );
      } else if (!attached.some(hasDefaultAlgorithm)) {
        report(
          `${here(bucket)} has ${here(attached[0])}, but none of its rules sets ` +
            `applyServerSideEncryptionByDefault.sseAlgorithm; add a rule with sseAlgorithm ` +
            `"aws:kms" or "AES256".`,
          bucket.urn,
        );
      }
    }
  },
};

export const swarmNoPartialS3PublicAccessBlock: ResourceValidationPolicy = {
  name: "swarm-no-partial-s3-public-access-block",
  description: `Forbids an aws.s3.BucketPublicAccessBlock that does not set all of ${ALL_FOUR} to true.`,
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: `Set ${ALL_FOUR} to true.`,
  validateResource: validateResourceOfType(
    aws.s3.BucketPublicAccessBlock,
    (block, args, report) => {
      const gaps = publicAccessGaps(block);
      if (gaps.length === 0) return;
      report(`${here(args)} leaves ${gaps.join(", ")}; set ${ALL_FOUR} all to true.`);
    },
  ),
};

// ---------------------------------------------------------------------------------------------
// EC2: IMDSv2 and encrypted volumes.

interface MetadataOptions {
  httpEndpoint?: string;
  httpTokens?: string;
}

function reportImdsv1(
  options: MetadataOptions | undefined,
  args: ResourceValidationArgs,
  report: ReportViolation,
): void {
  if (options?.httpEndpoint === "disabled" || options?.httpTokens === "required") return;
  report(
    `${here(args)} metadataOptions.httpTokens is ${shown(options?.httpTokens)}, which allows ` +
      `IMDSv1, so a request forgery on the host can read the instance role's credentials; set ` +
      `metadataOptions.httpTokens to "required".`,
  );
}

export const swarmNoImdsv1: ResourceValidationPolicy = {
  name: "swarm-no-imdsv1",
  description:
    'Forbids EC2 instances and launch templates whose metadataOptions.httpTokens is not "required" ' +
    "(IMDSv1 allowed), unless the metadata endpoint is disabled.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } (2 lets ' +
    "containers reach the instance role).",
  validateResource: [
    validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
      // An instance launched from a template takes its metadata options from that template,
      // which this rule checks on its own.
      if (instance.launchTemplate !== undefined && instance.metadataOptions === undefined) return;
      reportImdsv1(instance.metadataOptions, args, report);
    }),
    validateResourceOfType(aws.ec2.LaunchTemplate, (template, args, report) =>
      reportImdsv1(template.metadataOptions, args, report),
    ),
  ],
};

function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

function deviceName(device: { deviceName?: string }): string {
  return device.deviceName ? ` (${device.deviceName})` : "";
}

export const swarmNoUnencryptedEbs: ResourceValidationPolicy = {
  name: "swarm-no-unencrypted-ebs",
  description:
    "Forbids unencrypted EBS volumes: an instance's rootBlockDevice and ebsBlockDevices, a launch " +
    "template's blockDeviceMappings[].ebs, and aws.ebs.Volume must set encrypted to true.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Set encrypted: true on every volume (ebs.encrypted: "true" in a launch template).',
  validateResource: [
    validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
      const fromTemplate = instance.launchTemplate !== undefined;
      if (!(fromTemplate && instance.rootBlockDevice === undefined)) {
        const encrypted = instance.rootBlockDevice?.encrypted;
        if (!isTrue(encrypted)) {
          report(
            `${here(args)} rootBlockDevice.encrypted is ${shown(encrypted)}, so the root volume ` +
              `is not encrypted; set rootBlockDevice.encrypted to true.`,
          );
        }
      }
      (instance.ebsBlockDevices ?? []).forEach((device, i) => {
        if (isTrue(device.encrypted)) return;
        report(
          `${here(args)} ebsBlockDevices[${i}]${deviceName(device)} encrypted is ` +
            `${shown(device.encrypted)}, so that volume is not encrypted; set encrypted to true.`,
        );
      });
    }),
    validateResourceOfType(aws.ec2.LaunchTemplate, (template, args, report) => {
      const mappings = (template.blockDeviceMappings ?? [])
        .map((mapping, i) => ({ mapping, i }))
        .filter(({ mapping }) => mapping.ebs !== undefined);
      if (mappings.length === 0) {
        report(
          `${here(args)} has no blockDeviceMappings with ebs, so its root volume is encrypted ` +
            `only if the AMI's snapshot is; add a mapping for the root device with ` +
            `ebs.encrypted "true".`,
        );
      }
      for (const { mapping, i } of mappings) {
        const encrypted = mapping.ebs?.encrypted;
        if (isTrue(encrypted)) continue;
        report(
          `${here(args)} blockDeviceMappings[${i}]${deviceName(mapping)} ebs.encrypted is ` +
            `${shown(encrypted)}, so that volume is not encrypted; set ebs.encrypted to "true".`,
        );
      }
    }),
    validateResourceOfType(aws.ebs.Volume, (volume, args, report) => {
      if (isTrue(volume.encrypted)) return;
      report(`${here(args)} encrypted is ${shown(volume.encrypted)}; set encrypted to true.`);
    }),
  ],
};

// ---------------------------------------------------------------------------------------------
// Secrets in user data and tags: both are readable by anyone who may describe the resource,
// and user data by every process on the instance through the metadata service.

interface SecretPattern {
  found: string;
  pattern: RegExp;
  fix: string;
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    found: "a Swarm join token (SWMTKN-…)",
    pattern: /SWMTKN-/,
    fix: "pass join tokens to `docker swarm join` over SSH stdin at join time instead",
  },
  {
    found: "a private key (-----BEGIN … PRIVATE KEY-----)",
    pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
    fix: "fetch it at boot from Secrets Manager or SSM Parameter Store (SecureString) instead",
  },
  {
    found: "an AWS access key ID (AKIA…/ASIA…)",
    pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/,
    fix: "use the instance role instead of static keys, and rotate the exposed key",
  },
];

/** Base64 (optionally of gzip, which cloud-init accepts) to text; undefined if it is not base64. */
export function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, "");
  if (compact === "" || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    return undefined;
  }
  const bytes = Buffer.from(compact, "base64");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString("utf8");
    } catch {
      return undefined;
    }
  }
  return bytes.toString("utf8");
}

function reportSecrets(text: string, where: string, report: ReportViolation): void {
  const decoded = decodeBase64(text);
  for (const secret of SECRET_PATTERNS) {
    const at = secret.pattern.test(text)
      ? where
      : decoded !== undefined && secret.pattern.test(decoded)
        ? `${where} (base64-decoded)`
        : undefined;
    if (at === undefined) continue;
    report(
      `${at} contains ${secret.found}, which anyone who can read the resource's configuration ` +
        `can see; ${secret.fix}.`,
    );
  }
}

/**
 * Tag maps. A tag whose value is unknown during a preview (computed from another resource's
 * output, or tagsAll from the provider's default tags) is skipped then and checked on `up`.
 */
function reportTagSecrets(read: () => unknown, where: string, report: ReportViolation): void {
  const tags = readKnown(read);
  if (tags === UNKNOWN || typeof tags !== "object" || tags === null) return;
  for (const key of Object.keys(tags)) {
    if (SECRET_PATTERNS.some((s) => s.pattern.test(key))) {
      // Never echo the secret: the key itself is one.
      reportSecrets(key, `${where} (a tag key)`, report);
      continue;
    }
    const value = readKnown(() => Reflect.get(tags, key));
    if (typeof value === "string") reportSecrets(value, `${where}["${key}"]`, report);
  }
}

const tagsOfAnyResource: ResourceValidation = (args, report) => {
  const props: Record<string, unknown> = args.props;
  reportTagSecrets(() => props.tags, `${here(args)} tags`, report);
  reportTagSecrets(() => props.tagsAll, `${here(args)} tagsAll`, report);
};

export const swarmNoSecretsInUserDataOrTags: ResourceValidationPolicy = {
  name: "swarm-no-secrets-in-user-data-or-tags",
  description:
    "Forbids a Swarm join token (SWMTKN-), a private key block or an AWS access key ID in EC2 " +
    "user data (userData, userDataBase64, launch template userData; base64 and gzip decoded) or " +
    "in the tags of any resource (tags, tagsAll, volumeTags, launch template tagSpecifications).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Pass join tokens over SSH stdin, fetch keys from Secrets Manager or SSM at boot, and use " +
    "instance roles instead of access keys.",
  validateResource: [
    validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
      if (instance.userData) reportSecrets(instance.userData, `${here(args)} userData`, report);
      if (instance.userDataBase64) {
        reportSecrets(instance.userDataBase64, `${here(args)} userDataBase64`, report);
      }
      reportTagSecrets(() => instance.volumeTags, `${here(args)} volumeTags`, report);
    }),
    validateResourceOfType(aws.ec2.LaunchTemplate, (template, args, report) => {
      if (template.userData) reportSecrets(template.userData, `${here(args)} userData`, report);
      (template.tagSpecifications ?? []).forEach((spec, i) =>
        reportTagSecrets(() => spec.tags, `${here(args)} tagSpecifications[${i}].tags`, report),
      );
    }),
    tagsOfAnyResource,
  ],
};

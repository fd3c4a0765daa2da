import * as aws from "@pulumi/aws";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { entries, field, isRecord, isUnknown, ofType, text } from "./read";
import { readKnown, reportAdvisory, reportNotKnown, snapshot } from "./unknown";
import { describeResource, shown } from "./where";

function here(args: { type: string; name: string }): string {
  return describeResource(args.type, args.name);
}

// In @pulumi/aws v7 the public access block and default encryption are separate resources that
// point at a bucket through their `bucket` property, so they are checked over the stack.
//
// AWS defaults both since 2023: every new bucket is encrypted with SSE-S3
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html, 5 January
// 2023) and has all four Block Public Access settings on
// (https://aws.amazon.com/about-aws/whats-new/2022/12/amazon-s3-automatically-enable-block-public-access-disable-access-control-lists-buckets-april-2023/,
// April 2023). A bucket that merely leaves them unset is therefore advisory; a program that sets
// an unsafe value is mandatory.

const PUBLIC_ACCESS_SETTINGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

const ALL_FOUR = "blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets";

/** Settings that are not `true`, as `blockPublicPolicy false` / `restrictPublicBuckets unset`. */
export function publicAccessGaps(block: unknown): string[] {
  return PUBLIC_ACCESS_SETTINGS.filter((s) => field(block, s) !== true).map((s) => {
    const value = field(block, s);
    if (isUnknown(value)) return `${s} not known until apply`;
    return `${s} ${shown(value)}`;
  });
}

/** Canned ACLs that grant access beyond the owner's account. */
const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];

function isBucket(r: PolicyResource): boolean {
  return r.isType(aws.s3.Bucket) || r.isType(aws.s3.BucketV2);
}

function propsOf(r: PolicyResource): Record<string, unknown> {
  const props = snapshot(r.props);
  return isRecord(props) ? props : {};
}

/**
 * The resources among `candidates` whose `bucket` property names `bucket`. The engine records
 * which resource a property came from, so `bucket: myBucket.id` links even in a preview, when the
 * name is still unknown. Names that did not come from a bucket resource (literals, config, a
 * random suffix) are compared with the bucket's `bucket` and `id` outputs.
 */
function attachedTo(bucket: PolicyResource, candidates: PolicyResource[]): PolicyResource[] {
  const links = (c: PolicyResource): unknown[] => {
    const list: unknown = readKnown(() => c.propertyDependencies?.["bucket"]);
    return Array.isArray(list) ? list : [];
  };
  const linked = candidates.filter((c) => links(c).some((d) => field(d, "urn") === bucket.urn));
  const literal = candidates.filter((c) => !links(c).some((d) => isBucketType(field(d, "type"))));
  if (linked.length > 0 || literal.length === 0) return linked;
  const props = propsOf(bucket);
  const identities = [props.bucket, props.id].filter((v): v is string => typeof v === "string");
  return literal.filter((c) => {
    const name = propsOf(c).bucket;
    return typeof name === "string" && identities.includes(name);
  });
}

function isBucketType(type: unknown): boolean {
  return type === "aws:s3/bucket:Bucket" || type === "aws:s3/bucketV2:BucketV2";
}

export const swarmNoPublicS3Buckets: StackValidationPolicy = {
  name: "swarm-no-public-s3-buckets",
  description:
    "Forbids S3 buckets (aws.s3.Bucket, aws.s3.BucketV2) whose aws.s3.BucketPublicAccessBlock " +
    `leaves any of ${ALL_FOUR} off, or that set a public canned acl without one. A bucket that ` +
    "only has no block is advisory: AWS turns all four on for every new bucket since April 2023.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: `Add an aws.s3.BucketPublicAccessBlock with bucket: <bucket>.id and ${ALL_FOUR} true.`,
  validateStack: (args, report) => {
    const blocks = args.resources.filter((r) => r.isType(aws.s3.BucketPublicAccessBlock));
    for (const bucket of args.resources.filter(isBucket)) {
      const attached = attachedTo(bucket, blocks);
      const acl = text(propsOf(bucket).acl);
      if (attached.length === 0 && typeof acl === "string" && PUBLIC_ACLS.includes(acl)) {
        report(
          `${here(bucket)} sets acl "${acl}" and has no aws.s3.BucketPublicAccessBlock, so it is ` +
            `public; set acl "private" and add a public access block for this bucket with ` +
            `${ALL_FOUR} all true.`,
          bucket.urn,
        );
        continue;
      }
      if (attached.length === 0) {
        reportAdvisory(
          report,
          `${here(bucket)} has no aws.s3.BucketPublicAccessBlock; AWS blocks public access on ` +
            `new buckets by default since April 2023, but an account or later change can undo ` +
            `that; add one for this bucket with ${ALL_FOUR} all true to keep it in code.`,
          bucket.urn,
        );
        continue;
      }
      if (attached.some((b) => publicAccessGaps(propsOf(b)).length === 0)) continue;
      for (const block of attached) {
        report(
          `${here(bucket)} has ${here(block)}, but it leaves ` +
            `${publicAccessGaps(propsOf(block)).join(", ")}; set ${ALL_FOUR} all to true.`,
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

/** Whether an encryption configuration (a resource's props or a bucket's inline block) names an algorithm. */
export function hasDefaultAlgorithm(configuration: unknown): boolean {
  const rules = [
    ...entries(field(configuration, "rules")),
    ...entries(field(configuration, "rule")),
  ];
  return rules.some(({ item }) => {
    const algorithm = text(
      field(field(item, "applyServerSideEncryptionByDefault"), "sseAlgorithm"),
    );
    return isUnknown(algorithm) || (typeof algorithm === "string" && algorithm !== "");
  });
}

export const swarmNoUnencryptedS3Buckets: StackValidationPolicy = {
  name: "swarm-no-unencrypted-s3-buckets",
  description:
    "Forbids S3 buckets (aws.s3.Bucket, aws.s3.BucketV2) whose encryption configuration " +
    "(aws.s3.BucketServerSideEncryptionConfiguration or the bucket's inline " +
    "serverSideEncryptionConfiguration) has no rule with applyServerSideEncryptionByDefault." +
    "sseAlgorithm. A bucket with none at all is advisory: AWS encrypts every new bucket with " +
    "SSE-S3 since January 2023.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Add an aws.s3.BucketServerSideEncryptionConfiguration with bucket: <bucket>.id and a rule " +
    'whose applyServerSideEncryptionByDefault.sseAlgorithm is "aws:kms" or "AES256".',
  validateStack: (args, report) => {
    const configurations = args.resources.filter(isEncryptionConfiguration);
    for (const bucket of args.resources.filter(isBucket)) {
      const inline = propsOf(bucket).serverSideEncryptionConfiguration;
      const attachedResources = attachedTo(bucket, configurations);
      const attached = attachedResources.map(propsOf);
      const all = inline === undefined || inline === null ? attached : [inline, ...attached];
      if (all.length === 0) {
        reportAdvisory(
          report,
          `${here(bucket)} has no server-side encryption configuration; AWS encrypts new ` +
            `buckets with SSE-S3 by default since January 2023, so this is advisory; add an ` +
            `aws.s3.BucketServerSideEncryptionConfiguration to choose "aws:kms" or "AES256" in code.`,
          bucket.urn,
        );
      } else if (all.some(isUnknown)) {
        reportNotKnown(report, `${here(bucket)} encryption configuration`, "its algorithm");
      } else if (!all.some(hasDefaultAlgorithm)) {
        report(
          `${here(bucket)} has ${attachedResources.length > 0 ? here(attachedResources[0]) : "an inline serverSideEncryptionConfiguration"}, but none of its rules sets ` +
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
  validateResource: ofType(aws.s3.BucketPublicAccessBlock, (block, args, report) => {
    const unknown = PUBLIC_ACCESS_SETTINGS.filter((s) => isUnknown(block[s]));
    if (unknown.length > 0) reportNotKnown(report, `${here(args)} ${unknown.join(", ")}`, "it");
    const gaps = publicAccessGaps(block).filter((g) => !g.endsWith("not known until apply"));
    if (gaps.length === 0) return;
    report(`${here(args)} leaves ${gaps.join(", ")}; set ${ALL_FOUR} all to true.`);
  }),
};

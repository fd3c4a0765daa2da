import * as aws from "@pulumi/aws";
import { CorpusProgram } from "./program";

/**
 * A static website bucket that turns Block Public Access off to serve objects, next to a logs
 * bucket that is private and encrypted inline, and an artifacts bucket that leaves AWS's
 * defaults in place.
 */
export const staticSite: CorpusProgram = {
  title: "a public website bucket, an inline-encrypted logs bucket and a defaults-only bucket",
  build: () => {
    const site = new aws.s3.Bucket("site", { bucket: "example-site" });
    new aws.s3.BucketPublicAccessBlock("site-pab", {
      bucket: site.id,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    });
    new aws.s3.BucketServerSideEncryptionConfiguration("site-sse", {
      bucket: site.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new aws.s3.BucketPolicy("site-read", {
      bucket: site.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::example-site/*",
          },
        ],
      }),
    });
    const logs = new aws.s3.Bucket("logs", {
      serverSideEncryptionConfiguration: {
        rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } },
      },
    });
    new aws.s3.BucketPublicAccessBlock("logs-pab", {
      bucket: logs.id,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: true,
      restrictPublicBuckets: true,
    });
    new aws.s3.Bucket("artifacts", {});
  },
  expected: [
    "swarm-no-public-s3-buckets site",
    "swarm-no-partial-s3-public-access-block site-pab",
    "swarm-no-public-resource-policies site-read",
    "swarm-no-public-s3-buckets artifacts (advisory)",
    "swarm-no-unencrypted-s3-buckets artifacts (advisory)",
  ],
};

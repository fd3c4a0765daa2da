/** The data rules: S3 buckets, EC2 metadata and volumes, secrets in user data and tags. */
export * from "./ec2";
export * from "./s3";
export * from "./secrets";

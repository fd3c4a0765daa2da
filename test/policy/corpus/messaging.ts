import * as aws from "@pulumi/aws";
import { CorpusProgram } from "./program";

/** An SNS-to-SQS fan-out with a customer-managed KMS key, as event-driven apps wire it. */
export const messaging: CorpusProgram = {
  title: "an SNS topic open to anyone, a queue scoped by source ARN, and a KMS key",
  build: () => {
    const key = new aws.kms.Key("events", {
      enableKeyRotation: true,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "RootAccount",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111122223333:root" },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      }),
    });
    const topic = new aws.sns.Topic("events", { kmsMasterKeyId: key.id });
    new aws.sns.TopicPolicy("events-publish", {
      arn: topic.arn,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: "*" }, Action: "SNS:Publish", Resource: "*" },
        ],
      }),
    });
    const queue = new aws.sqs.Queue("events", { kmsMasterKeyId: key.id });
    new aws.sqs.QueuePolicy("events-from-topic", {
      queueUrl: queue.url,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: "*",
            Condition: {
              ArnEquals: { "aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:events" },
            },
          },
        ],
      }),
    });
  },
  expected: ["swarm-no-public-resource-policies events-publish"],
};

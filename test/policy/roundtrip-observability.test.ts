import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { swarmPolicies } from "../../policy/rules/all";
import { created, valueOf } from "../helpers/mocks";
import { runPack, whenSettled } from "../helpers/policy";
import { runProgram, stackConfig } from "../helpers/stack";

/** Resource types the logs, metrics and alarms add; the pack must have seen each. */
const OBSERVABILITY_TYPES = [
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:cloudwatch/dashboard:Dashboard",
  "aws:sns/topic:Topic",
  "aws:sns/topicSubscription:TopicSubscription",
  "aws:iam/policy:Policy",
];

describe("policy pack round trip with logs, metrics and alarms", () => {
  for (const stack of ["dev", "prod"]) {
    it(`passes every rule for the mocked ${stack} stack with alarmEmail and logs set`, async () => {
      created.length = 0;
      const out = runProgram({
        ...stackConfig(stack),
        "aws-swarm:logs": JSON.stringify({ driver: "awslogs", retentionDays: 90 }),
        "aws-swarm:alarmEmail": "ops@example.com",
        "aws-swarm:services": JSON.stringify([{ name: "web", image: "nginx:1.27" }]),
      });
      const topic = out.alarmTopicArn;
      if (!pulumi.Output.isInstance<string>(topic)) throw new Error("no alarmTopicArn output");
      await valueOf(topic, 20000);
      await whenSettled(created);
      const types = new Set(created.map((r) => r.type));
      assert.deepStrictEqual(OBSERVABILITY_TYPES.filter((t) => !types.has(t)), []);
      assert.deepStrictEqual(await runPack(swarmPolicies, [...created]), []);
    });
  }
});

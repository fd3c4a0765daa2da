import * as assert from "node:assert";
import { swarmPolicies } from "../../policy/rules/all";
import { created } from "../helpers/mocks";
import { runPack, whenSettled } from "../helpers/policy";
import { corpus } from "./corpus";

/**
 * The pack over a corpus of realistic programs of every shape it met in real, public Pulumi
 * programs (test/policy/corpus): each program yields exactly the findings listed with it, at the
 * level listed, and nothing else.
 */
describe("the policy pack on a corpus of realistic programs", () => {
  for (const program of corpus) {
    it(`finds exactly what is wrong in ${program.title}`, async () => {
      created.length = 0;
      program.build();
      await whenSettled(created);
      const found = (await runPack(swarmPolicies, [...created])).map(
        (v) => `${v.policy} ${v.resource}${v.advisory ? " (advisory)" : ""}`,
      );
      assert.deepStrictEqual(found.sort(), [...program.expected].sort());
    });
  }
});

import * as assert from "node:assert";
import { inBatches, rollingBatchProblems, workerBatchSize } from "../../components/rolling";
import { parseProbe } from "../../components/control";
import { swarmBootstrapProblems } from "../../components/bootstrap";

describe("rolling batches", () => {
  it("takes a quarter of the workers by default, rounded up, at least 1", () => {
    assert.deepStrictEqual([0, 1, 3, 4, 5, 8, 100].map((n) => workerBatchSize(undefined, n)), [1, 1, 1, 1, 2, 2, 25]);
  });

  it("takes a count or a share as given", () => {
    assert.strictEqual(workerBatchSize({ workers: "3" }, 10), 3);
    // Stack config may give the count as a JSON number.
    assert.strictEqual(workerBatchSize({ workers: 3 as unknown as string }, 10), 3);
    assert.strictEqual(workerBatchSize({ workers: "50%" }, 5), 3);
    assert.strictEqual(workerBatchSize({ workers: "1%" }, 5), 1);
  });

  it("cuts a list into consecutive batches", () => {
    assert.deepStrictEqual(inBatches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepStrictEqual(inBatches([], 2), []);
  });

  it("reports every problem, naming the setting, the value and the fix", () => {
    assert.deepStrictEqual(rollingBatchProblems({ managers: 3, workers: "150%", extra: 1 }, "rollingBatch"), [
      "rollingBatch.extra is not a setting; use managers and workers.",
      "rollingBatch.managers is 3; managers roll one at a time so the quorum is never cut twice: use 1.",
      'rollingBatch.workers is "150%"; use a whole number of workers from 1 to 1000, or a share from "1%" to "100%".',
    ]);
    assert.deepStrictEqual(rollingBatchProblems(2, "rollingBatch"), ['rollingBatch is 2; use an object such as { "managers": 1, "workers": "25%" }.']);
    assert.deepStrictEqual(rollingBatchProblems({ managers: 1, workers: 4 }, "rollingBatch"), []);
  });

  it("is checked by SwarmBootstrap before anything is created", () => {
    const host = { name: "manager-1", privateIp: "10.0.0.1", connection: { host: "10.0.0.1" } };
    assert.deepStrictEqual(swarmBootstrapProblems({ managers: [host], rollingBatch: { workers: "0" } }), [
      'rollingBatch.workers is "0"; use a whole number of workers from 1 to 1000, or a share from "1%" to "100%".',
    ]);
  });
});

describe("control probe output", () => {
  it("finds a manager that can act and the services it sees spread unevenly, sorted", () => {
    assert.deepStrictEqual(parseProbe("control abc123\nunbalanced web\nunbalanced api\n"), { control: true, unbalanced: ["api", "web"] });
  });

  it("counts a worker, a host without Docker or garbage as no control", () => {
    assert.deepStrictEqual(parseProbe("no-control\n"), { control: false, unbalanced: [] });
    assert.deepStrictEqual(parseProbe("control\n"), { control: false, unbalanced: [] });
    assert.deepStrictEqual(parseProbe(""), { control: false, unbalanced: [] });
  });
});

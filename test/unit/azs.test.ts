import * as assert from "assert";
import { perAz, pickZones, spread } from "../../components/azs";

describe("azs", () => {
  it("places node i in AZ i mod azCount", () => {
    assert.deepStrictEqual(spread(7, 3), [0, 1, 2, 0, 1, 2, 0]);
    assert.deepStrictEqual(spread(2, 3), [0, 1]);
    assert.deepStrictEqual(spread(0, 3), []);
  });

  it("spreads 7 managers over 3 AZs as 3, 2, 2 and 5 as 2, 2, 1", () => {
    assert.deepStrictEqual(perAz(7, 3), [3, 2, 2]);
    assert.deepStrictEqual(perAz(5, 3), [2, 2, 1]);
    assert.deepStrictEqual(perAz(3, 1), [3]);
  });

  it("never moves existing nodes when the count grows", () => {
    assert.deepStrictEqual(spread(7, 3).slice(0, 5), spread(5, 3));
  });

  it("rejects non-integer and out-of-range counts", () => {
    assert.throws(() => spread(-1, 3), /count is -1; use a whole number of at least 0/);
    assert.throws(() => spread(2, 0), /azCount is 0; use a whole number of at least 1/);
    assert.throws(() => spread(1.5, 3), /count is 1.5/);
  });

  it("picks the first zones, or says how many the region has", () => {
    assert.deepStrictEqual(pickZones(["a", "b", "c", "d"], 3), ["a", "b", "c"]);
    assert.throws(
      () => pickZones(["eu-x-1a", "eu-x-1b"], 3, "eu-x-1"),
      (e: Error) =>
        e.message ===
        "azCount is 3, but eu-x-1 has only 2 available zone(s) (eu-x-1a, eu-x-1b): " +
          "set azCount to 2 or less.",
    );
  });
});

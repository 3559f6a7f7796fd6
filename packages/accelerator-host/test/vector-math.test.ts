import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runNativeUnitTest } from "../../../tooling/test-helpers/native-unit-test";

describe("the branch-free exp and tanh (native/vector_exp.h)", () => {
  it("equal glibc's, rounded to float32, on 70M float32 bit patterns of every exponent and sign", () => {
    expect(runNativeUnitTest(join(__dirname, ".."), "vector_math_test.cc")).toBeGreaterThan(140_000_000);
  }, 120_000);
});

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runNativeUnitTest } from "../../../tooling/test-helpers/native-unit-test";

describe("half storage's conversions (native/half_ops.h)", () => {
  it("round-trip every 16-bit pattern and store a million random values exactly as core rounds them", () => {
    expect(runNativeUnitTest(join(__dirname, ".."), "half_ops_test.cc")).toBeGreaterThan(2_000_000);
  }, 120_000);
});

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runNativeUnitTest } from "../../../tooling/test-helpers/native-unit-test";

describe("the GPU engine's caching allocator (its policy, on host memory)", () => {
  it("reuses blocks per stream, never across streams, releases its cache when the device is full", () => {
    expect(runNativeUnitTest(join(__dirname, ".."), "caching_allocator_test.cc")).toBeGreaterThanOrEqual(11);
  }, 120_000);
});

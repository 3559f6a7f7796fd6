import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("the GPU engine's caching allocator (its policy, on host memory)", () => {
  it("reuses blocks per stream, never across streams, releases its cache when the device is full", () => {
    const dir = mkdtempSync(join(tmpdir(), "fulmen-allocator-"));
    try {
      const binary = join(dir, "caching_allocator_test");
      execFileSync("g++", [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        join(__dirname, "../native/test/caching_allocator_test.cc"),
        "-o",
        binary,
      ]);
      const run = spawnSync(binary, { encoding: "utf8" });
      expect(run.stdout.trim(), run.stderr).toMatch(/^ok \d+$/);
      expect(run.status).toBe(0);
      expect(Number(run.stdout.trim().split(" ")[1])).toBeGreaterThanOrEqual(11);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

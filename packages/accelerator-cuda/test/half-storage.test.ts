import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("half storage's conversions (native/half_ops.h)", () => {
  it("round-trip every 16-bit pattern and store a million random values exactly as core rounds them", () => {
    const dir = mkdtempSync(join(tmpdir(), "fulmen-half-"));
    try {
      const binary = join(dir, "half_ops_test");
      execFileSync("g++", [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        join(__dirname, "../native/test/half_ops_test.cc"),
        "-o",
        binary,
      ]);
      const run = spawnSync(binary, { encoding: "utf8" });
      expect(run.stdout.trim(), run.stderr).toMatch(/^ok \d+$/);
      expect(run.status).toBe(0);
      expect(Number(run.stdout.trim().split(" ")[1])).toBeGreaterThan(2_000_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

/**
 * Compiles one of native/test/'s C++ unit tests (warnings as errors), runs it, and returns the count it prints
 * after "ok" — failing the vitest test when it does not compile, fails, or prints anything else.
 */
export function runNativeUnitTest(source: string): number {
  const dir = mkdtempSync(join(tmpdir(), "fulmen-native-test-"));
  try {
    const binary = join(dir, "test");
    execFileSync("g++", [
      "-std=c++17",
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      join(__dirname, "../native/test", source),
      "-o",
      binary,
    ]);
    const run = spawnSync(binary, { encoding: "utf8" });
    expect(run.stdout.trim(), run.stderr).toMatch(/^ok \d+$/);
    expect(run.status).toBe(0);
    return Number(run.stdout.trim().split(" ")[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

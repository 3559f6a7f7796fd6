import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

/**
 * Compiles one of native/test/'s C++ unit tests (warnings as errors), runs it, and returns the count it prints
 * after "ok" — failing the vitest test when it does not compile, fails, or prints anything else. `alongside`
 * names engine sources (relative to native/) the test links with; they are built with -pthread.
 */
export function runNativeUnitTest(source: string, alongside: string[] = []): number {
  const dir = mkdtempSync(join(tmpdir(), "fulmen-native-test-"));
  try {
    const binary = join(dir, "test");
    execFileSync("g++", [
      "-std=c++17",
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      ...(alongside.length > 0 ? ["-pthread"] : []),
      join(__dirname, "../native/test", source),
      ...alongside.map((file) => join(__dirname, "../native", file)),
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

/**
 * The native sources listed under `lists` in sources.gypi (the one list binding.gyp builds from), as paths
 * relative to the package: for tests that build a variant of an addon themselves.
 */
export function gypiSources(...lists: string[]): string[] {
  const text = readFileSync(join(__dirname, "../sources.gypi"), "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  const variables = (JSON.parse(text) as { variables: Record<string, string[]> }).variables;
  return lists.flatMap((name) => {
    const list = variables[name];
    if (list === undefined) throw new Error(`sources.gypi has no list '${name}'`);
    return list;
  });
}

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

/**
 * Compiles one of a package's native/test/ C++ unit tests (warnings as errors), runs it, and returns the count it
 * prints after "ok" — failing the vitest test when it does not compile, fails, or prints anything else.
 * `packageRoot` is the package's folder; `alongside` names engine sources (relative to its native/) the test
 * links with; they are built with -pthread.
 */
export function runNativeUnitTest(packageRoot: string, source: string, alongside: string[] = []): number {
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
      join(packageRoot, "native/test", source),
      ...alongside.map((file) => join(packageRoot, "native", file)),
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
 * The native sources listed under `lists` in the sources.gypi of the package in `packageRoot` (the one list its
 * binding.gyp builds from), as absolute paths: for tests that build a variant of an addon themselves.
 */
export function gypiSources(packageRoot: string, ...lists: string[]): string[] {
  const text = readFileSync(join(packageRoot, "sources.gypi"), "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  const variables = (JSON.parse(text) as { variables: Record<string, string[]> }).variables;
  return lists.flatMap((name) => {
    const list = variables[name];
    if (list === undefined) throw new Error(`sources.gypi has no list '${name}'`);
    return list.map((file) => join(packageRoot, file));
  });
}

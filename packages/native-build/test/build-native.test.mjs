import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "../bin/fulmen-build-native.mjs");

function fakePackage(fulmenNative) {
  const dir = mkdtempSync(join(tmpdir(), "fulmen-native-"));
  mkdirSync(join(dir, "native"));
  writeFileSync(join(dir, "native", "addon.cc"), "int x;\n");
  writeFileSync(join(dir, "binding.gyp"), "{}\n");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "@example/addon", fulmenNative }));
  return dir;
}

describe("fulmen-build-native", () => {
  it("never fails an install: a missing library is recorded with the fix, and the install goes on", () => {
    const dir = fakePackage({
      addon: "example",
      header: "no-such-library/header.h",
      apt: "libnosuch-dev",
      without: "the example feature",
    });
    try {
      const run = spawnSync(process.execPath, [bin], { cwd: dir, encoding: "utf8" });
      expect(run.status).toBe(0);
      expect(run.stderr).toMatch(
        /@example\/addon: the native addon was not built \(libnosuch-dev is not installed/,
      );
      expect(run.stderr).toMatch(/except for the example feature/);
      expect(run.stderr).toMatch(/apt-get install -y g\+\+ make python3 libnosuch-dev/);
      expect(readFileSync(join(dir, "build", "unavailable.txt"), "utf8")).toMatch(
        /no no-such-library\/header.h/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives up, saying so, when a prerequisite found by a command of the package is missing", () => {
    const dir = fakePackage({
      addon: "example",
      requires: {
        command: ["node", "-e", "process.stdout.write('')"],
        missing: "no CUDA toolkit with nvcc was found",
      },
      without: "the GPU build",
    });
    try {
      const run = spawnSync(process.execPath, [bin], { cwd: dir, encoding: "utf8" });
      expect(run.status).toBe(0);
      expect(run.stderr).toMatch(/not built \(no CUDA toolkit with nvcc was found\)/);
      expect(run.stderr).toMatch(/except for the GPU build/);
      expect(readFileSync(join(dir, "build", "unavailable.txt"), "utf8")).toMatch(/no CUDA toolkit/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a package that does not say which addon it builds", () => {
    const dir = fakePackage(undefined);
    try {
      const run = spawnSync(process.execPath, [bin], { cwd: dir, encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/has no "fulmenNative"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

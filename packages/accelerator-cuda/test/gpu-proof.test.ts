import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..");

// The GPU proof is run on a GPU only when a task is lent one; bundling it and running it on the CUDA emulator
// and over host memory on every CI run keeps it from rotting in between.
describe("the GPU proof bundle", () => {
  it("bundles, and passes every Fulmen check on the CUDA emulator and over host memory", () => {
    const bundle = spawnSync(process.execPath, [join(root, "proof", "build.mjs")], {
      encoding: "utf8",
      cwd: root,
    });
    expect(bundle.status, bundle.stderr).toBe(0);
    for (const [target, device] of [
      ["emulated", /^cuda:0 Fulmen CUDA emulator/],
      ["device", /^host memory$/],
    ] as const) {
      const run = spawnSync(
        process.execPath,
        [
          join(root, ".gpu-proof", "dist", "gpu-proof.mjs"),
          "--target",
          target,
          "--skip-conformance",
          "--skip-bench",
        ],
        { encoding: "utf8", cwd: root, timeout: 240_000 },
      );
      expect(run.status, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`).toBe(0);
      const report = JSON.parse(run.stdout) as { device: string; checks: { passed: number; failed: number } };
      expect(report.device).toMatch(device);
      expect(report.checks.failed).toBe(0);
      expect(report.checks.passed).toBeGreaterThan(40);
    }
  }, 300_000);
});

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** Runs a built example script with `args`; returns its exit status and output. */
function run(script: string, args: string[]) {
  const result = spawnSync(process.execPath, [join(__dirname, "../dist", script), ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the examples' command lines", () => {
  for (const script of ["mnist-fabric.js", "mnist-trainer.js", "char-gpt-trainer.js"]) {
    it(`${script}: --help prints the options; a wrong option or count is named, with the usage, and exits 2`, () => {
      const help = run(script, ["--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/Options:\n {2}--/);
      expect(help.stdout).toContain("--accelerator");
      const unknown = run(script, ["--bogus"]);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toMatch(/^error: .*'--bogus'/);
      expect(unknown.stderr).toContain("Options:");
      expect(unknown.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const count = run(script, ["--devices", "two"]);
      expect(count.status).toBe(2);
      expect(count.stderr).toMatch(/^error: --devices must be a positive whole number, got 'two'\./);
    });
  }
});

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const script = join(__dirname, "fixtures/resume-fit.mjs");

function run(mode: string, root: string) {
  return spawnSync(process.execPath, [script, mode, root], { encoding: "utf8" });
}

function rows(file: string): string[] {
  return readFileSync(file, "utf8").trim().split("\n").slice(1);
}

describe("resuming a killed fit", () => {
  it("ends with the same weights and the same logged metrics as an uninterrupted run", () => {
    const root = mkdtempSync(join(tmpdir(), "fulmen-resume-"));
    expect(run("straight", root).status).toBe(0);
    const killed = run("killed", root);
    expect(killed.signal).toBe("SIGKILL");
    const resumed = run("resume", root);
    expect(resumed.stderr).toBe("");
    expect(resumed.status).toBe(0);
    const straight = JSON.parse(readFileSync(join(root, "straight.json"), "utf8"));
    const after = JSON.parse(readFileSync(join(root, "resume.json"), "utf8"));
    expect(after.globalStep).toBe(straight.globalStep);
    expect(after.weights).toEqual(straight.weights);
    // The killed run logged the first 7 steps (mid-epoch: 5 batches per epoch); the resumed run the rest.
    const killedRows = rows(join(root, "killed", "version_0", "metrics.csv"));
    const resumedRows = rows(after.metricsFile);
    expect([...killedRows, ...resumedRows]).toEqual(rows(straight.metricsFile));
  }, 120_000);
});

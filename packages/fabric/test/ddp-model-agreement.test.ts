import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "fulmen-model-agreement-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two real ranks (fabric.launch starts rank 1) whose models differ; see fixtures/ddp-model-mismatch.mjs.
function runMismatch(mode: string): { status: number | null; errors: string[]; trained: boolean[] } {
  const out = join(dir, mode);
  spawnSync("mkdir", ["-p", out]);
  const run = spawnSync(process.execPath, [join(__dirname, "fixtures/ddp-model-mismatch.mjs"), out, mode], {
    encoding: "utf8",
    timeout: 120_000,
    killSignal: "SIGKILL",
  });
  expect(run.signal, `the run hung; stderr: ${run.stderr}`).toBeNull();
  const read = (file: string) => (existsSync(join(out, file)) ? readFileSync(join(out, file), "utf8") : "");
  return {
    status: run.status,
    errors: [read("error.rank0"), read("error.rank1")],
    trained: [existsSync(join(out, "trained.rank0")), existsSync(join(out, "trained.rank1"))],
  };
}

describe("DDP checks at setup that every rank holds the same model", () => {
  const fix = /Every rank must build the same model/;

  it("fails on every rank, naming the parameter, when the models have the same size but other shapes", () => {
    const { status, errors, trained } = runMismatch("shape");
    expect(status).not.toBe(0);
    expect(trained).toEqual([false, false]);
    for (const error of errors) {
      expect(error).toMatch(/^FulmenError: DDP: the ranks hold different models/);
      expect(error).toContain(
        '"0.weight" has shape [6, 4] float32 on rank 0 but shape [3, 4] float32 on rank 1',
      );
      expect(error).toMatch(fix);
    }
  });

  it("names the first parameter that is missing on the other rank (same sizes, other names)", () => {
    const { status, errors, trained } = runMismatch("name");
    expect(status).not.toBe(0);
    expect(trained).toEqual([false, false]);
    for (const error of errors) {
      expect(error).toContain(
        'entry 2 is "2.weight" (shape [2, 6] float32) on rank 0 but "1.weight" (shape [2, 6] float32) on rank 1; "2.weight" is missing on rank 1',
      );
      expect(error).toMatch(fix);
    }
  });

  it("fails the same way, not inside the collective, when the models have different sizes", () => {
    const { status, errors, trained } = runMismatch("size");
    expect(status).not.toBe(0);
    expect(trained).toEqual([false, false]);
    for (const error of errors) {
      expect(error).toContain(
        '"0.weight" has shape [6, 4] float32 on rank 0 but shape [8, 4] float32 on rank 1',
      );
      expect(error).toMatch(fix);
    }
  });
});

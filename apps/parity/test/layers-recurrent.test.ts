import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { GoldenFile } from "../src/index";

const root = resolve(__dirname, "../../..");
const fixture = join(root, "packages/core/test/fixtures/torch-layers-recurrent.json");
const cli = join(root, "apps/parity/dist/cli.js");
const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;

function parity(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

describe("pnpm parity: PyTorch's recurrent layers (RNN, LSTM, GRU and their cells)", () => {
  it("passes every case of torch-layers-recurrent.json on the cpu backend, none missing", () => {
    const run = parity("--strict", fixture);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const last = run.stdout.trim().split("\n").at(-1);
    expect(last).toBe(`${golden.cases.length} passed, 0 failed`);
    // the file covers every class and the options a user reaches for
    const names = golden.cases.map((c) => c.name).join(" ");
    for (const piece of [
      "LSTM_bidir_2layer_batch_first_hx",
      "GRU_bidir_2layer_batch_first_hx",
      "LSTM_proj",
    ]) {
      expect(names).toContain(piece);
    }
    for (const type of ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]) {
      expect(golden.cases.some((c) => c.module === type)).toBe(true);
    }
  }, 120_000);

  it("fails when an initial state's numbers are wrong: nested inputs (LSTM's (h0, c0)) really reach forward", () => {
    const tampered = structuredClone(golden);
    const lstm = tampered.cases.find((c) => c.name === "LSTM_bidir_2layer_batch_first_hx")!;
    const [, hx] = lstm.inputs as [unknown, Array<{ data: number[] }>];
    hx[1]!.data[0] = hx[1]!.data[0]! + 1; // c0 changes: every output of that direction moves
    tampered.cases = [lstm];
    const path = join(mkdtempSync(join(tmpdir(), "parity-recurrent-")), "tampered.json");
    writeFileSync(path, JSON.stringify(tampered));
    const run = parity(path);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL +0 module LSTM_bidir_2layer_batch_first_hx/);
  }, 60_000);
});

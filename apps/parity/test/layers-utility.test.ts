import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../../..");
const cli = join(root, "apps/parity/dist/cli.js");
const fixture = join(root, "packages/core/test/fixtures/torch-layers-utility.json");

describe("pnpm parity: the utility layers and functions against PyTorch", () => {
  it("passes every case of torch-layers-utility.json (padding, shuffles, distances, function cases), none missing", () => {
    const cases = (JSON.parse(readFileSync(fixture, "utf8")) as { cases: Array<{ kind: string }> }).cases;
    const run = spawnSync(process.execPath, [cli, "--strict", fixture], { encoding: "utf8" });
    const lines = run.stdout.trim().split("\n");
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(lines.at(-1)).toBe(`${cases.length} passed, 0 failed`);
    expect(lines.filter((l) => l.startsWith("PASS"))).toHaveLength(cases.length);
    // the file exercises the "function" case kind as well as modules
    expect(cases.filter((c) => c.kind === "function").length).toBeGreaterThanOrEqual(10);
    expect(lines.filter((l) => / function /.test(l)).length).toBe(
      cases.filter((c) => c.kind === "function").length,
    );
  }, 60_000);

  it("reports a function Fulmen lacks as missing, not as a pass", () => {
    const file = JSON.parse(readFileSync(fixture, "utf8")) as { cases: Array<Record<string, unknown>> };
    const one = file.cases.find((c) => c.kind === "function")!;
    const tmp = join(mkdtempSync(join(tmpdir(), "parity-utility-")), "missing.json");
    writeFileSync(tmp, JSON.stringify({ ...file, cases: [{ ...one, fn: "no_such_function" }] }));
    const run = spawnSync(process.execPath, [cli, "--strict", tmp], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(/nn\.functional\.noSuchFunction/);
  }, 60_000);
});

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isEngineAvailable } from "../src";

const flags = new Set(
  /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim().split(/\s+/) ?? [],
);
const expected = ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"].every((f) => flags.has(f))
  ? "SkylakeX"
  : flags.has("avx2") && flags.has("fma")
    ? "Haswell"
    : null;

/**
 * The core OpenBLAS reports when the engine loads in a fresh process (OPENBLAS_VERBOSE=2), with `env` over this
 * process's environment less any OPENBLAS_CORETYPE.
 */
function coreAtLoad(env: Record<string, string>): string {
  const { OPENBLAS_CORETYPE: _, ...inherited } = process.env;
  const run = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", 'import { loadEngine } from "./dist/index.js"; loadEngine();'],
    { cwd: join(__dirname, ".."), encoding: "utf8", env: { ...inherited, OPENBLAS_VERBOSE: "2", ...env } },
  );
  expect(run.status, run.stderr).toBe(0);
  return /Core: (\S+)/.exec(`${run.stdout}${run.stderr}`)?.[1] ?? "";
}

describe.runIf(isEngineAvailable() && process.platform === "linux" && process.arch === "x64")(
  "OpenBLAS's kernels",
  () => {
    it.runIf(expected !== null)(
      "are chosen by the CPU's instruction sets (not OpenBLAS's generic ones on a CPU model it does not know), unless OPENBLAS_CORETYPE says otherwise",
      () => {
        expect(coreAtLoad({})).toBe(expected);
        expect(coreAtLoad({ OPENBLAS_CORETYPE: "Prescott" })).toBe("Prescott");
      },
    );
  },
);

#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
// Registers the native engine's accelerators ("host"), so `--accelerator host` can replay on it.
import "@fulmen/accelerator-cuda";
import "@fulmen/accelerator-host";
import { emulatedCudaEnvironment } from "@fulmen/cuda-testbed";
import { Fabric } from "@fulmen/fabric";
import type { GoldenFile } from "./golden";
import { missing, passed, replayFile, resultsFile } from "./replay";

const USAGE = `usage: pnpm parity [--out RESULTS.json] [--accelerator cpu|wasm|host|cuda] [--via fabric|trainer] [--devices N] [--strategy S] [--strict] FILE...

Replays every case of each golden file (PyTorch's numbers) through Fulmen's public API, prints one line per
case with its largest error, and ends with "N passed, M failed" (exit 1 if any failed). Cases that need a layer,
function or option Fulmen does not implement are listed as MISS and counted apart: the summary then adds
"K missing (not implemented: ...)"; they fail the run only with --strict.
  --strict             exit 1 when a case is missing, too
  --out FILE           also write what Fulmen computed, in the golden format (several inputs: FILE-1, FILE-2, ...)
  --accelerator NAME   run on this accelerator: cpu (default), wasm, host (the native engine's CPU build),
                       cuda (its GPU build; FULMEN_CUDA_EMULATE=1 runs that on the host CUDA emulator,
                       the repository's @fulmen/cuda-testbed)
  --via fabric|trainer replay whole training runs through Fabric (default) or the Trainer
  --devices N          replay whole training runs with DDP on N processes, each taking its share of every batch
                       (losses and first gradients reported as the mean over ranks); needs @fulmen/collective-gloo
  --strategy S         the strategy for whole training runs on several devices (default ddp): fsdp,
                       deepspeed_stage_1, deepspeed_stage_2, deepspeed_stage_3, ... (their packages found by name)`;

/**
 * FULMEN_CUDA_EMULATE=1 runs accelerator "cuda" on the host CUDA emulator; this tool of the repository finds the
 * emulator's addon in the test bed itself (ranks it launches inherit the variable).
 */
function useTestbedEmulator(): void {
  if (process.env.FULMEN_CUDA_EMULATE === "1" && !process.env.FULMEN_CUDA_EMULATION_ADDON)
    Object.assign(process.env, emulatedCudaEnvironment());
}

async function main(argv: string[]): Promise<number> {
  useTestbedEmulator();
  const options = {
    out: { type: "string" },
    accelerator: { type: "string", default: "cpu" },
    via: { type: "string", default: "fabric" },
    devices: { type: "string", default: "1" },
    strategy: { type: "string" },
    strict: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  } as const;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options });
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  const files = parsed.positionals;
  if (parsed.values.help || files.length === 0) {
    console.error(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  const accelerator = parsed.values.accelerator;
  const via = parsed.values.via;
  if (via !== "fabric" && via !== "trainer") {
    console.error(`--via must be "fabric" or "trainer", got '${via}'.\n\n${USAGE}`);
    return 2;
  }
  const devices = Number(parsed.values.devices);
  if (!Number.isInteger(devices) || devices < 1) {
    console.error(`--devices must be a positive integer, got '${parsed.values.devices}'.\n\n${USAGE}`);
    return 2;
  }
  const strategy = parsed.values.strategy ?? (devices > 1 ? "ddp" : "auto");
  let rank = 0;
  try {
    // With several devices this starts the other ranks (each re-runs this command) and connects them.
    const fabric = new Fabric({ accelerator, devices, strategy });
    await fabric.launch();
    rank = fabric.globalRank;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  // Every rank replays; rank 0 reports.
  const print = rank === 0 ? console.log : () => {};
  let ok = 0;
  let failed = 0;
  const gaps = new Set<string>();
  let missed = 0;
  for (const [fileIndex, path] of files.entries()) {
    let golden: GoldenFile;
    try {
      golden = JSON.parse(readFileSync(path, "utf8")) as GoldenFile;
    } catch (e) {
      console.error(`${path}: cannot read a golden file (${e instanceof Error ? e.message : String(e)})`);
      failed += 1;
      continue;
    }
    let outcomes: Awaited<ReturnType<typeof replayFile>>;
    try {
      outcomes = await replayFile(golden, { accelerator, via, devices, strategy });
    } catch (e) {
      console.error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      failed += 1;
      continue;
    }
    print(
      `${path} (PyTorch ${golden.torch_version ?? "?"}, ${outcomes.length} cases, ${accelerator}, via ${via}${devices > 1 ? `, ${strategy} on ${devices} ranks` : ""})`,
    );
    outcomes.forEach((o, i) => {
      const index = String(i).padStart(3);
      if (missing(o)) {
        missed += 1;
        gaps.add(o.missing!);
        print(`MISS ${index} ${o.label}: not implemented: ${o.missing}`);
        return;
      }
      const good = passed(o);
      if (good) ok += 1;
      else failed += 1;
      const detail = o.error
        ? `error: ${o.error}`
        : `max ${o.errorKind ?? "abs error"} ${o.maxError.toExponential(2)} (tolerance ${o.tolerance.toExponential(0)})`;
      print(`${good ? "PASS" : "FAIL"} ${index} ${o.label}: ${detail}`);
    });
    if (parsed.values.out !== undefined && rank === 0) {
      const out =
        files.length === 1
          ? parsed.values.out
          : parsed.values.out.replace(/(\.json)?$/, `-${fileIndex + 1}$1`);
      writeFileSync(out, `${JSON.stringify(resultsFile(golden, outcomes))}\n`);
      print(`wrote ${out}`);
    }
  }
  const gapList = missed > 0 ? `, ${missed} missing (not implemented: ${[...gaps].join("; ")})` : "";
  print(`${ok} passed, ${failed} failed${gapList}`);
  return failed > 0 || (parsed.values.strict && missed > 0) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Fabric } from "@fulmen/fabric";
import type { GoldenFile } from "./golden";
import { passed, replayFile, resultsFile } from "./replay";

const USAGE = `usage: pnpm parity [--out RESULTS.json] [--accelerator cpu|wasm] [--via fabric|trainer] FILE...

Replays every case of each golden file (PyTorch's numbers) through Fulmen's public API, prints one line per
case with its largest absolute error, and ends with "N passed, M failed" (exit 1 if any failed).
  --out FILE           also write what Fulmen computed, in the golden format (several inputs: FILE-1, FILE-2, ...)
  --accelerator NAME   run on this accelerator (default cpu)
  --via fabric|trainer replay whole training runs through Fabric (default) or the Trainer`;

async function main(argv: string[]): Promise<number> {
  const options = {
    out: { type: "string" },
    accelerator: { type: "string", default: "cpu" },
    via: { type: "string", default: "fabric" },
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
  try {
    await new Fabric({ accelerator }).launch();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  let ok = 0;
  let failed = 0;
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
      outcomes = await replayFile(golden, { accelerator, via });
    } catch (e) {
      console.error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      failed += 1;
      continue;
    }
    console.log(
      `${path} (PyTorch ${golden.torch_version ?? "?"}, ${outcomes.length} cases, ${accelerator}, via ${via})`,
    );
    outcomes.forEach((o, i) => {
      const good = passed(o);
      if (good) ok += 1;
      else failed += 1;
      const detail = o.error
        ? `error: ${o.error}`
        : `max abs error ${o.maxError.toExponential(2)} (tolerance ${o.tolerance.toExponential(0)})`;
      console.log(`${good ? "PASS" : "FAIL"} ${String(i).padStart(3)} ${o.label}: ${detail}`);
    });
    if (parsed.values.out !== undefined) {
      const out =
        files.length === 1
          ? parsed.values.out
          : parsed.values.out.replace(/(\.json)?$/, `-${fileIndex + 1}$1`);
      writeFileSync(out, `${JSON.stringify(resultsFile(golden, outcomes))}\n`);
      console.log(`wrote ${out}`);
    }
  }
  console.log(`${ok} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));

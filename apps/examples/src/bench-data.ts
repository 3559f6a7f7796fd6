/**
 * `pnpm bench` (data part): one DataLoader pass over a 2,048 × 784 float32 `TensorDataset` with int32 labels
 * (batch 64, shuffled, 32 batches), on each accelerator: tfjs's wasm and cpu backends and the native engine's
 * `"host"` build where it is installed. Each accelerator runs in a fresh process (a backend is chosen once per
 * process); a pass draws every batch and disposes it, as a training loop does. Prints Markdown for
 * BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DataLoader, manualSeed, TensorDataset, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";

const ROWS = 2048;
const FEATURES = 784;
const BATCH = 64;
const PASSES = Number(process.env.BENCH_DATA_PASSES ?? 5);
const ACCELERATORS = (process.env.BENCH_ACCELERATORS ?? "wasm,cpu,host").split(",");

interface Row {
  accelerator: string;
  /** Median ms of a pass. */
  passMs: number;
  /** Every pass, in order. */
  passes: number[];
  batches: number;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function benchAccelerator(accelerator: string): Promise<Row> {
  if (accelerator === "host") await import("@fulmen/accelerator-host");
  const fabric = new Fabric({ accelerator });
  await fabric.launch();
  manualSeed(0);
  const x = tf.randomNormal([ROWS, FEATURES], 0, 1, "float32", 1);
  const y = tf.tensor1d(
    Array.from({ length: ROWS }, (_, i) => i % 10),
    "int32",
  );
  const loader = new DataLoader(new TensorDataset(x, y), { batchSize: BATCH, shuffle: true });
  const pass = () => {
    let batches = 0;
    for (const batch of loader) {
      // Reading one value makes the batch's data real on backends that compute lazily.
      batch[1].dataSync();
      tf.dispose(batch);
      batches += 1;
    }
    return batches;
  };
  pass(); // warm-up: kernels compile, the heap grows
  const passes: number[] = [];
  let batches = 0;
  for (let i = 0; i < PASSES; i++) {
    const start = performance.now();
    batches = pass();
    passes.push(performance.now() - start);
  }
  tf.dispose([x, y]);
  return { accelerator, passMs: median(passes), passes, batches };
}

function available(accelerator: string): boolean {
  if (accelerator !== "host") return true;
  const probe = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'import "@fulmen/accelerator-host"; import { acceleratorRegistry } from "@fulmen/core/plugin"; process.exit(acceleratorRegistry.has("host") && acceleratorRegistry.create("host").isAvailable() ? 0 : 1);',
    ],
    { cwd: fileURLToPath(new URL(".", import.meta.url)) },
  );
  return probe.status === 0;
}

if (process.argv[2] === "--worker") {
  console.log(JSON.stringify(await benchAccelerator(process.argv[3]!)));
} else {
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const accelerator of ACCELERATORS) {
    if (!available(accelerator)) {
      skipped.push(accelerator);
      continue;
    }
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--worker", accelerator], {
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`bench-data worker (${accelerator}) failed:\n${run.stderr}`);
    rows.push(JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Row);
  }
  console.log(
    `\n## One DataLoader pass: TensorDataset ${ROWS} × ${FEATURES} float32 + int32 labels, batch ${BATCH}, shuffled\n`,
  );
  console.log("| accelerator | ms per pass (median) | batches | every pass, ms |");
  console.log("| --- | --- | --- | --- |");
  for (const r of rows)
    console.log(
      `| ${r.accelerator} | ${r.passMs.toFixed(1)} | ${r.batches} | ${r.passes.map((p) => p.toFixed(1)).join(", ")} |`,
    );
  if (skipped.length > 0) console.log(`\nnot installed here: ${skipped.join(", ")}`);
}

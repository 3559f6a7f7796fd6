/**
 * `pnpm bench`: the Fabric training loop against the same loop written in raw tfjs (variables,
 * tf.variableGrads, a hand-written SGD update), on the same MLP, data and steps, for each accelerator. The two
 * loops alternate step by step (which one goes first alternates too), so both see the same machine load; the
 * ratio of their median step times is the overhead. Also checks that both end with the same weights, bit for
 * bit. Prints Markdown for BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { manualSeed, nn, SGD, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { rawMlpStep } from "./raw-mlp-step";

const BATCH = 64;
const PAIRS = Number(process.env.BENCH_PAIRS ?? 400);
const LR = 0.05;
const ACCELERATORS = (process.env.BENCH_ACCELERATORS ?? "cpu,wasm").split(",");

interface Row {
  accelerator: string;
  raw: number;
  fabric: number;
  ratio: number;
  maxDiff: number;
  steps: number;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function benchAccelerator(accelerator: string): Promise<Row> {
  const fabric = new Fabric({ accelerator });
  await fabric.launch();
  manualSeed(0);
  const x = tf.randomNormal([BATCH, 784], 0, 1, "float32", 1);
  const y = tf.tensor1d(
    Array.from({ length: BATCH }, (_, i) => i % 10),
    "int32",
  );
  const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const raw = model.parameters().map((p) => tf.variable(tf.clone(p.data)));
  const [m, optimizer] = fabric.setup(model, new SGD(model, { lr: LR }));

  const fabricStep = () =>
    tf.tidy(() => {
      optimizer.zeroGrad();
      fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar);
      optimizer.step();
    });
  const rawStep = () => rawMlpStep(raw, x, y, LR);
  // The cpu and wasm backends compute synchronously, so a step is done when its call returns.
  const time = (step: () => void) => {
    const start = performance.now();
    step();
    return performance.now() - start;
  };

  for (let i = 0; i < 5; i++) {
    fabricStep();
    rawStep();
  }
  const fabricTimes: number[] = [];
  const rawTimes: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    if (i % 2 === 0) {
      fabricTimes.push(time(fabricStep));
      rawTimes.push(time(rawStep));
    } else {
      rawTimes.push(time(rawStep));
      fabricTimes.push(time(fabricStep));
    }
  }
  let maxDiff = 0;
  m.parameters().forEach((p, i) => {
    const a = p.data.dataSync();
    const b = raw[i]!.dataSync();
    for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
  });
  const row = {
    accelerator,
    raw: 1000 / median(rawTimes),
    fabric: 1000 / median(fabricTimes),
    // The median of the per-pair ratios: each pair ran back to back, under the same machine load.
    ratio: median(fabricTimes.map((t, i) => t / rawTimes[i]!)),
    maxDiff,
    steps: 5 + PAIRS,
  };
  m.dispose();
  optimizer.disposeState();
  for (const v of raw) v.dispose();
  x.dispose();
  y.dispose();
  return row;
}

const PROCESSES: Record<string, number> = { cpu: 1, wasm: Number(process.env.BENCH_PROCESSES ?? 5) };

if (process.argv[2] === "--worker") {
  console.log(JSON.stringify(await benchAccelerator(process.argv[3]!)));
} else {
  // On wasm, where the two models land in the heap decides how fast each runs for the life of a process (a few
  // processes run one loop much slower, either one): measure in several fresh processes, report the median.
  const rows: Row[] = [];
  const perProcess: Record<string, number[]> = {};
  for (const accelerator of ACCELERATORS) {
    const runs: Row[] = [];
    for (let p = 0; p < (PROCESSES[accelerator] ?? 1); p++) {
      const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--worker", accelerator], {
        encoding: "utf8",
      });
      if (run.status !== 0) throw new Error(`bench worker failed: ${run.stderr}`);
      runs.push(JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Row);
    }
    perProcess[accelerator] = runs.map((r) => r.ratio);
    const mid = [...runs].sort((a, b) => a.ratio - b.ratio)[Math.floor(runs.length / 2)]!;
    rows.push({ ...mid, maxDiff: Math.max(...runs.map((r) => r.maxDiff)) });
  }
  console.log(
    `MLP 784-128-10, batch ${BATCH}, SGD lr ${LR}; medians of ${PAIRS} steps of each loop, alternating step by step; the process with the median ratio of ${Object.entries(
      PROCESSES,
    )
      .filter(([a]) => ACCELERATORS.includes(a))
      .map(([a, n]) => `${n} on ${a}`)
      .join(", ")}.\n`,
  );
  console.log(
    "| accelerator | raw tfjs steps/s | Fabric steps/s | time ratio Fabric/raw | largest weight difference |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(
      `| ${r.accelerator} | ${r.raw.toFixed(1)} | ${r.fabric.toFixed(1)} | ${r.ratio.toFixed(3)} | ${r.maxDiff === 0 ? "0 (bit for bit)" : r.maxDiff.toExponential(2)} after ${r.steps} steps |`,
    );
  }
  for (const [accelerator, ratios] of Object.entries(perProcess))
    console.log(`\nper-process ratios on ${accelerator}: ${ratios.map((r) => r.toFixed(3)).join(", ")}`);
}

/**
 * `pnpm bench` (second part): the Trainer against the raw tfjs loop on the same work — one epoch of an MLP over
 * the same DataLoader — with the Trainer's progress bar and CSV logging on. Within a process, rounds alternate
 * which runs first and the ratio is of the median round times (a Trainer round includes building the Trainer and
 * calling `fit`). On wasm, where two models land in the heap decides how fast each runs for the whole life of a
 * process (some processes run one loop ~25% slower, either one), so the measurement is repeated in several fresh
 * processes and the reported ratio is the median of the per-process ratios.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { DataLoader, type Dataset, Generator, manualSeed, nn, SGD, tf } from "@fulmen/core";
import { CSVLogger, Fabric } from "@fulmen/fabric";
import { LightningModule, ProgressBar, Trainer } from "@fulmen/trainer";
import { rawMlpStep } from "./raw-mlp-step";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 5);
const BATCHES = 50;
const BATCH = 64;
const LR = 0.05;
const accelerator = process.env.BENCH_ACCELERATOR ?? "wasm";

type Batch = { x: tf.Tensor2D; y: tf.Tensor1D };
const g = new Generator(1);
const rows = Array.from({ length: BATCHES * BATCH }, (_, i) => ({
  x: Float32Array.from({ length: 784 }, () => g.normal()),
  y: i % 10,
}));
const dataset: Dataset<{ x: Float32Array; y: number }> = { length: rows.length, get: (i) => rows[i]! };
const loader = new DataLoader<{ x: Float32Array; y: number }, Batch>(dataset, { batchSize: BATCH });

class Mlp extends LightningModule {
  net = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
  override forward(x: tf.Tensor): tf.Tensor {
    return this.net.forward(x);
  }
  override trainingStep(batch: Batch): tf.Scalar {
    const loss = nn.crossEntropy(this.forward(batch.x), batch.y) as tf.Scalar;
    this.log("loss", loss, { progBar: true });
    return loss;
  }
  override configureOptimizers() {
    return new SGD(this, { lr: LR });
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** One process's measurement: the median epoch times of both loops, alternating round by round. */
async function measureInThisProcess(): Promise<{ raw: number; trainer: number }> {
  await new Fabric({ accelerator }).launch();
  manualSeed(0);
  const module = new Mlp();
  const raw = module.parameters().map((p) => tf.variable(tf.clone(p.data)));
  const sink = new Writable({ write: (_c, _e, done) => done() }) as unknown as NodeJS.WriteStream;
  const logDir = mkdtempSync(join(tmpdir(), "fulmen-bench-"));

  const rawEpoch = () => {
    for (const { x, y } of loader) {
      rawMlpStep(raw, x, y, LR);
      x.dispose();
      y.dispose();
    }
  };

  const trainerEpoch = async () => {
    const trainer = new Trainer({
      accelerator,
      maxEpochs: 1,
      numSanityValSteps: 0,
      enableModelSummary: false,
      enableCheckpointing: false,
      enableProgressBar: false,
      callbacks: [new ProgressBar(sink)],
      logger: new CSVLogger({ rootDir: logDir }),
    });
    await trainer.fit(module, { trainDataloaders: loader as DataLoader<unknown, unknown> });
  };

  const time = async (f: () => unknown) => {
    const start = performance.now();
    await f();
    return performance.now() - start;
  };

  rawEpoch();
  await trainerEpoch();
  const rawTimes: number[] = [];
  const trainerTimes: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      rawTimes.push(await time(rawEpoch));
      trainerTimes.push(await time(trainerEpoch));
    } else {
      trainerTimes.push(await time(trainerEpoch));
      rawTimes.push(await time(rawEpoch));
    }
  }
  return { raw: median(rawTimes), trainer: median(trainerTimes) };
}

if (process.argv[2] === "--worker") {
  console.log(JSON.stringify(await measureInThisProcess()));
} else {
  const runs: Array<{ raw: number; trainer: number }> = [];
  for (let p = 0; p < PROCESSES; p++) {
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--worker"], {
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`bench worker failed: ${run.stderr}`);
    runs.push(JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { raw: number; trainer: number });
  }
  const ratios = runs.map((r) => r.trainer / r.raw);
  const raw = median(runs.map((r) => r.raw));
  const trainer = median(runs.map((r) => r.trainer));
  console.log(
    `\nTrainer vs raw tfjs: one epoch of ${BATCHES} batches of ${BATCH} (MLP 784-128-10, SGD) on ${accelerator}; progress bar and CSV logging on; ${PROCESSES} processes × ${ROUNDS} alternating rounds.\n`,
  );
  console.log("| loop | ms per epoch | steps/s |");
  console.log("| --- | --- | --- |");
  console.log(`| raw tfjs | ${raw.toFixed(1)} | ${((BATCHES * 1000) / raw).toFixed(1)} |`);
  console.log(`| Trainer | ${trainer.toFixed(1)} | ${((BATCHES * 1000) / trainer).toFixed(1)} |`);
  console.log(`\nper-process ratios: ${ratios.map((r) => r.toFixed(3)).join(", ")}`);
  console.log(`time ratio Trainer/raw (median of the per-process ratios): ${median(ratios).toFixed(3)}`);
}

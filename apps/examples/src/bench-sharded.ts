/**
 * `pnpm --filter @fulmen/examples bench:sharded`: what the sharded strategies save and cost against DDP.
 *
 * Memory: an MLP of 12 `Linear(2048, 2048)` layers (Ψ = 50.4M parameters), float32 AdamW, on 2 and 4 ranks: each
 * rank's `tf.memory().numBytes` right after `optimizer.step()` (the parameters, gradients and optimizer state it
 * keeps) and the peaks (`tf.profile`'s peakBytes) during forward + backward and during the optimizer step, all
 * less what the process held before the model and the batch, beside ZeRO's formulas.
 *
 * Speed: the character GPT example's model (d 256, 4 blocks, 8 heads, 64 characters of context, global batch 16)
 * trained with Fabric on 2 ranks: the median step time of each strategy, the strategies alternating round by round
 * in fresh processes, beside DDP's.
 *
 * Prints Markdown for BENCHMARKS.md. BENCH_ACCELERATOR (default auto), BENCH_ROUNDS (3), BENCH_STEPS (8),
 * BENCH_PART (memory, speed or both).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import "@fulmen/accelerator-host";
import { AdamW, manualSeed, nn, type Strategy, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { DeepSpeedStrategy } from "@fulmen/strategy-deepspeed";
import { CharGpt } from "./gpt/char-gpt";

const ACCELERATOR = process.env.BENCH_ACCELERATOR ?? "auto";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const PART = process.env.BENCH_PART ?? "both";
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const MIB = 1024 * 1024;
const mib = (bytes: number[]) => bytes.map((b) => (b / MIB).toFixed(0)).join(", ");

interface WorkerConfig {
  part: "memory" | "speed";
  strategy: string;
  devices: number;
}

interface MemoryResult {
  numParams: number;
  afterStep: number[];
  /** Peak during forward and backward. */
  peakBackward: number[];
  /** Peak during optimizer.step(). */
  peakStep: number[];
  backend: string;
}

interface SpeedResult {
  stepMs: number;
  backend: string;
}

/** Every rank's number, on rank 0. */
function gather(fabric: Fabric, value: number): number[] {
  const all = fabric.allGather(tf.scalar(value));
  const out = Array.from(all.dataSync());
  all.dispose();
  return out;
}

async function memoryWorker(fabric: Fabric): Promise<MemoryResult> {
  const base = tf.memory().numBytes;
  manualSeed(1);
  const layers: nn.Module[] = [];
  for (let i = 0; i < 12; i++) layers.push(new nn.Linear(2048, 2048), new nn.Tanh());
  const model = new nn.Sequential(...layers);
  const numParams = model.parameters().reduce((n, p) => n + p.size, 0);
  const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: 1e-4 }));
  const x = tf.randomNormal([4, 2048], 0, 1, "float32", 2 + fabric.globalRank);
  const y = tf.tensor1d([0, 1, 2, 3], "int32");
  const dataBytes = (x.size + y.size) * 4;
  const step = () => {
    fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar).dispose();
    optimizer.step();
  };
  step(); // AdamW's state exists from the first step on
  optimizer.zeroGrad();
  // tf.profile hands back one object that its next call overwrites: read each peak right away.
  const backwardPeak = (
    await tf.profile(() => {
      fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar).dispose();
    })
  ).peakBytes;
  const stepPeak = (
    await tf.profile(() => {
      optimizer.step();
    })
  ).peakBytes;
  const afterStep = tf.memory().numBytes - base - dataBytes;
  return {
    numParams,
    afterStep: gather(fabric, afterStep),
    peakBackward: gather(fabric, backwardPeak - base - dataBytes),
    peakStep: gather(fabric, stepPeak - base - dataBytes),
    backend: fabric.accelerator.name,
  };
}

async function speedWorker(fabric: Fabric): Promise<SpeedResult> {
  manualSeed(1);
  const vocab = 96;
  const model = new CharGpt({
    vocabSize: vocab,
    blockSize: 64,
    dModel: 256,
    heads: 8,
    layers: 4,
    dropout: 0,
    maxLr: 1e-3,
    totalSteps: 100,
  });
  const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: 1e-3 }));
  const batch = 16 / fabric.worldSize;
  const ids = (seed: number) =>
    tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([batch, 64], 0, vocab, "float32", seed)), "int32"));
  const x = ids(3 + fabric.globalRank) as tf.Tensor2D;
  const y = ids(30 + fabric.globalRank) as tf.Tensor2D;
  const step = () => {
    optimizer.zeroGrad();
    fabric
      .backward(() => {
        const logits = m.forward(x);
        return nn.crossEntropy(tf.reshape(logits, [-1, vocab]), tf.reshape(y, [-1]));
      })
      .dispose();
    fabric.clipGradients(m, optimizer, { maxNorm: 1 })?.dispose();
    optimizer.step();
  };
  for (let i = 0; i < 2; i++) step();
  fabric.barrier();
  const times: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const start = performance.now();
    step();
    times.push(performance.now() - start);
  }
  return { stepMs: Math.max(...gather(fabric, median(times))), backend: fabric.accelerator.name };
}

/** Strategies the speed table compares that are not a registered name: ZeRO-3 with overlap_comm off. */
const VARIANTS: Record<string, () => Strategy> = {
  "deepspeed_stage_3 (overlap_comm false)": () =>
    new DeepSpeedStrategy({ config: { zero_optimization: { stage: 3, overlap_comm: false } } }),
};

async function worker(config: WorkerConfig): Promise<void> {
  const strategy = VARIANTS[config.strategy]?.() ?? config.strategy;
  const fabric = new Fabric({ accelerator: ACCELERATOR, devices: config.devices, strategy });
  await fabric.launch();
  const result = config.part === "memory" ? await memoryWorker(fabric) : await speedWorker(fabric);
  if (fabric.globalRank === 0) console.log(`RESULT ${JSON.stringify(result)}`);
}

function run<T>(config: WorkerConfig): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), "worker", JSON.stringify(config)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || line === undefined)
        reject(new Error(`${JSON.stringify(config)} exited with ${code}:\n${out}`));
      else resolve(JSON.parse(line.slice(7)) as T);
    });
  });
}

const FORMULAS: Record<string, [string, (psi: number, n: number) => number]> = {
  ddp: ["16Ψ", (psi) => 16 * psi],
  deepspeed_stage_1: ["8Ψ + 8Ψ/N", (psi, n) => 8 * psi + (8 * psi) / n],
  deepspeed_stage_2: ["4Ψ + 12Ψ/N", (psi, n) => 4 * psi + (12 * psi) / n],
  deepspeed_stage_3: ["16Ψ/N", (psi, n) => (16 * psi) / n],
  fsdp: ["16Ψ/N", (psi, n) => (16 * psi) / n],
};

async function main(): Promise<void> {
  if (process.argv[2] === "worker") {
    await worker(JSON.parse(process.argv[3]!) as WorkerConfig);
    return;
  }
  if (PART !== "speed") {
    console.log(
      "| strategy | ranks | after step, per rank (MiB) | formula | measured / formula | peak in forward + backward (MiB) | peak in optimizer.step() (MiB) |",
    );
    console.log("|---|---|---|---|---|---|---|");
    let backend = "";
    for (const devices of [2, 4]) {
      for (const strategy of Object.keys(FORMULAS)) {
        const r = await run<MemoryResult>({ part: "memory", strategy, devices });
        backend = r.backend;
        const [name, formula] = FORMULAS[strategy]!;
        const expected = formula(r.numParams, devices);
        const worst = Math.max(...r.afterStep.map((b) => Math.abs(b / expected - 1)));
        console.log(
          `| ${strategy} | ${devices} | ${mib(r.afterStep)} | ${name} = ${(expected / MIB).toFixed(0)} | within ${(worst * 100).toFixed(2)}% | ${mib(r.peakBackward)} | ${mib(r.peakStep)} |`,
        );
      }
    }
    console.log(
      `\nΨ = 50,356,224 parameters (12 × Linear(2048, 2048)), float32 AdamW, batch 4 per rank, ${backend}.\n`,
    );
  }
  if (PART !== "memory") {
    const strategies = ["ddp", "fsdp", "deepspeed_stage_3", ...Object.keys(VARIANTS), "deepspeed_stage_2"];
    const times = new Map<string, number[]>(strategies.map((s) => [s, []]));
    let backend = "";
    for (let round = 0; round < ROUNDS; round++) {
      for (const strategy of strategies) {
        const r = await run<SpeedResult>({ part: "speed", strategy, devices: 2 });
        backend = r.backend;
        times.get(strategy)!.push(r.stepMs);
      }
    }
    const ddp = median(times.get("ddp")!);
    console.log("| strategy (2 ranks) | step (ms, median of rounds) | vs DDP |");
    console.log("|---|---|---|");
    for (const strategy of strategies) {
      const ms = median(times.get(strategy)!);
      console.log(`| ${strategy} | ${ms.toFixed(1)} | ${(ms / ddp).toFixed(2)}× |`);
    }
    console.log(
      `\nCharacter GPT (d 256, 4 blocks, 8 heads, context 64, global batch 16), AdamW, norm clipping, ${backend}; ${ROUNDS} rounds of fresh processes, strategies alternating, ${STEPS} timed steps each.`,
    );
  }
}

await main();

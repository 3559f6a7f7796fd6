/**
 * `pnpm bench` (distributed part 2): DDP training throughput with 2 processes against 1 process on the same
 * total batch (the same number of threads per process: tfjs runs each process's kernels on one thread). MLP
 * 784-512-512-10, SGD; on wasm (the default accelerator) a global batch of 2048 and 10 timed steps, on the pure-JS
 * cpu backend 256 and 5. A third setup runs two processes side by side without communicating (the ceiling). The
 * setups alternate round by round, 3 warm-up steps each; a run's rate comes from its median step. Prints Markdown
 * for BENCHMARKS.md.
 */
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import "@fulmen/accelerator-host";
import { manualSeed, nn, SGD, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";

const GLOBAL_BATCH = Number(process.env.BENCH_GLOBAL_BATCH ?? 2048);
const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const ACCELERATOR = process.env.BENCH_ACCELERATOR ?? "auto";

/**
 * One run: prints the samples per second (rank 0). `solo` runs one process of a pair that trains side by side
 * without communicating: the ceiling that two processes can reach on this machine.
 */
async function worker(devices: number, solo: boolean): Promise<void> {
  const fabric = new Fabric({ accelerator: ACCELERATOR, devices, strategy: devices > 1 ? "ddp" : "auto" });
  await fabric.launch();
  manualSeed(1);
  const model = new nn.Sequential(
    new nn.Linear(784, 512),
    new nn.ReLU(),
    new nn.Linear(512, 512),
    new nn.ReLU(),
    new nn.Linear(512, 10),
  );
  const [m, optimizer] = fabric.setup(model, new SGD(model, { lr: 0.01 }));
  const batch = solo ? GLOBAL_BATCH / 2 : GLOBAL_BATCH / devices;
  const x = tf.randomNormal([batch, 784], 0, 1, "float32", 1 + fabric.globalRank);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    "int32",
  );
  const step = () =>
    tf.tidy(() => {
      optimizer.zeroGrad();
      fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar);
      optimizer.step();
    });
  for (let i = 0; i < 3; i++) step();
  fabric.barrier();
  // Each step timed on its own: the median step shrugs off a burst of load from this shared machine's other
  // tenants (a DDP step is already synchronised across ranks by its all-reduce).
  const stepMs: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const start = performance.now();
    step();
    stepMs.push(performance.now() - start);
  }
  fabric.barrier();
  if (fabric.globalRank === 0)
    console.log(
      JSON.stringify({
        samplesPerSecond: (batch * (solo ? 1 : devices)) / (median(stepMs) / 1000),
        backend: fabric.accelerator.name,
      }),
    );
}

/** Set per configuration by main() for the processes it starts. */
let childEnv: Record<string, string> = {};

interface RunResult {
  samplesPerSecond: number;
  backend: string;
}

/** Two solo processes at once: their combined rate, bounded by the slower one (as a synchronous step is). */
async function runSoloPair(): Promise<RunResult> {
  const [a, b] = await Promise.all([run(1, true), run(1, true)]);
  return { samplesPerSecond: 2 * Math.min(a.samplesPerSecond, b.samplesPerSecond), backend: a.backend };
}

function run(devices: number, solo = false): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const args = [fileURLToPath(import.meta.url), solo ? "--solo" : "--worker", String(devices)];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...childEnv },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!)) : reject(new Error(`exit ${code}`)),
    );
  });
}

/** The configurations measured: wasm (the default accelerator) and the pure-JS cpu backend. */
const CONFIGS = (process.env.BENCH_ACCELERATORS ?? "wasm,cpu,host").split(",").map((accelerator) => ({
  accelerator,
  batch: accelerator === "cpu" ? 256 : 2048,
  steps: accelerator === "cpu" ? 5 : 10,
}));

async function main(): Promise<void> {
  for (const config of CONFIGS) {
    childEnv = {
      // The native engine sizes its BLAS threads by the ranks sharing the machine; the one-process run gets the
      // same one thread per process as each DDP rank, as the comparison requires.
      ...(config.accelerator === "host" ? { LOCAL_WORLD_SIZE: "2" } : {}),
      BENCH_ACCELERATOR: config.accelerator,
      BENCH_GLOBAL_BATCH: String(config.batch),
      BENCH_STEPS: String(config.steps),
    };
    await measure(config.batch, config.steps);
  }
}

async function measure(globalBatch: number, steps: number): Promise<void> {
  const one: number[] = [];
  const two: number[] = [];
  const ceiling: number[] = [];
  const ratios: number[] = [];
  const ceilingRatios: number[] = [];
  let backend = "";
  for (let round = 0; round < ROUNDS; round++) {
    const a = await run(1);
    const b = await run(2);
    const c = await runSoloPair();
    backend = a.backend;
    one.push(a.samplesPerSecond);
    two.push(b.samplesPerSecond);
    ceiling.push(c.samplesPerSecond);
    ratios.push(b.samplesPerSecond / a.samplesPerSecond);
    ceilingRatios.push(c.samplesPerSecond / a.samplesPerSecond);
  }
  console.log(
    `\nDDP throughput: MLP 784-512-512-10, SGD, global batch ${globalBatch}, ${steps} timed steps per run, ${backend}, ${cpus().length} cores; medians of ${ROUNDS} alternating rounds.\n`,
  );
  console.log("| setup | samples/s |");
  console.log("| --- | --- |");
  console.log(`| 1 process, batch ${globalBatch} | ${median(one).toFixed(0)} |`);
  console.log(`| 2 processes (DDP), batch ${globalBatch / 2} each | ${median(two).toFixed(0)} |`);
  console.log(
    `| 2 independent processes, batch ${globalBatch / 2} each, no communication (ceiling) | ${median(ceiling).toFixed(0)} |`,
  );
  console.log(
    `\nspeed-up 2 processes / 1: ${median(ratios).toFixed(3)} (per round: ${ratios.map((r) => r.toFixed(2)).join(", ")})`,
  );
  // Load from other tenants only ever slows a run down: the fastest run of each setup is its least disturbed.
  console.log(
    `speed-up of the fastest runs (best 2-process / best 1-process): ${(Math.max(...two) / Math.max(...one)).toFixed(3)}`,
  );
  console.log(`ceiling (2 independent processes / 1): ${median(ceilingRatios).toFixed(3)}`);
}

const args = process.argv.slice(2);
if (args[0] === "--worker" || args[0] === "--solo") await worker(Number(args[1]), args[0] === "--solo");
else await main();

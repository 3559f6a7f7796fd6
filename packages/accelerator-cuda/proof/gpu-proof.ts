// The GPU proof: what issue 6 asks a GPU to show, in one bundled file that runs with a bare Node binary and the
// GPU engine's addon (no node_modules; see proof/README.md). It runs tfjs-core's conformance specs, Fulmen's
// kernel, training, optimizer and rounding checks against tfjs's cpu backend, and the training throughput of
// three models against PyTorch on the same GPU, and prints (and with --out writes) one JSON report.
//
//   node gpu-proof.mjs [--target cuda|emulated|device] [--out DIR] [--skip-conformance] [--skip-bench]
//
// Dry runs on any machine: --target emulated runs the GPU engine's own code on the host CUDA emulator,
// --target device the device backend over host memory.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  Adagrad,
  Adam,
  AdamW,
  backward,
  type HalfFormat,
  manualSeed,
  nn,
  type Optimizer,
  Parameter,
  RMSprop,
  ROUND_BFLOAT16_KERNEL,
  ROUND_FLOAT16_KERNEL,
  roundBfloat16Array,
  roundFloat16Array,
  SGD,
  tf,
  withAutocast,
} from "@fulmen/core";
import "@tensorflow/tfjs-backend-cpu";
import Jasmine from "jasmine";
import {
  CUDA_BACKEND,
  CudaAccelerator,
  type DeviceBackend,
  loadCudaEngine,
  probeCuda,
  registerCudaEmulationBackend,
  registerHostMemoryDeviceBackend,
} from "../src/index";
import { importConformanceSpecs } from "../test/conformance/specs.mjs";
import { KERNEL_CASES, sumsInAnotherOrder, TinyTransformer } from "./cases";
import { TORCH_BENCH } from "./torch-bench";

const { values: options } = parseArgs({
  options: {
    target: { type: "string", default: "cuda" },
    out: { type: "string" },
    "skip-conformance": { type: "boolean", default: false },
    "skip-bench": { type: "boolean", default: false },
  },
});

interface Outcome {
  passed: number;
  failed: number;
  failures: string[];
}

const report: Record<string, unknown> = { target: options.target, startedAt: new Date().toISOString() };

/** Makes the target backend current (the GPU engine is opt-in until this proof has passed on a GPU). */
async function setUpTarget(): Promise<string> {
  if (options.target === "device") return registerHostMemoryDeviceBackend();
  if (options.target === "emulated") return registerCudaEmulationBackend();
  process.env.FULMEN_CUDA_UNVERIFIED ??= "1";
  report.probe = probeCuda();
  if (loadCudaEngine() === null)
    throw new Error("the GPU engine's addon is not in build/Release next to this file");
  await new CudaAccelerator().setup();
  return CUDA_BACKEND;
}

let backendName: string;
try {
  backendName = await setUpTarget();
} catch (error) {
  // No GPU, no driver, no addon: the report says which, and the exit code (2) that nothing was checked.
  report.error = (error as Error).message;
  console.log(JSON.stringify(report, null, 2));
  process.exit(2);
}
await tf.setBackend(backendName);
const device = () => tf.backend() as DeviceBackend;
report.device = device().device.describe();

/** tfjs-core's conformance specs of the kernels the engine implements, on the target backend. */
async function conformance(): Promise<Outcome> {
  const runner = new Jasmine();
  runner.exitOnCompletion = false;
  runner.env.configure({ random: false });
  runner.configureDefaultReporter({ print: () => {} });
  const { setTestEnvs } = await import("@tensorflow/tfjs-core/dist/jasmine_util");
  setTestEnvs([{ name: options.target, backendName, isDataSync: true }]);
  const outcome: Outcome = { passed: 0, failed: 0, failures: [] };
  runner.env.addReporter({
    specDone(result: { status: string; fullName: string; failedExpectations: Array<{ message: string }> }) {
      if (result.status === "passed") outcome.passed++;
      else if (result.status === "failed") {
        outcome.failed++;
        outcome.failures.push(
          `${result.fullName}: ${result.failedExpectations.map((f) => f.message).join("; ")}`,
        );
      }
    },
  });
  await importConformanceSpecs();
  await runner.execute();
  return outcome;
}

const checks: Outcome = { passed: 0, failed: 0, failures: [] };

/** Runs one named check; a thrown error is its failure. */
async function check(name: string, body: () => void | Promise<void>): Promise<void> {
  try {
    await body();
    checks.passed++;
  } catch (error) {
    checks.failed++;
    checks.failures.push(`${name}: ${(error as Error).message}`);
  }
  await tf.setBackend(backendName);
}

function assert(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

/** `fn` on tfjs's cpu backend: the reference. */
async function onCpu<T>(fn: () => T): Promise<T> {
  await tf.setBackend("cpu");
  const result = fn();
  await tf.setBackend(backendName);
  return result;
}

/** Close to float32 precision: within `tolerance` relative (plus as much absolute), NaN for NaN. */
function close(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (g === w) continue;
    if (Number.isNaN(w) ? !Number.isNaN(g) : !(Math.abs(g - w) <= tolerance * (1 + Math.abs(w))))
      return `element ${i}: ${g}, expected ${w}`;
  }
  return null;
}

async function kernelChecks(): Promise<void> {
  for (const [name, fn] of KERNEL_CASES) {
    await check(`kernel: ${name}`, async () => {
      device().resetFallbackStats();
      const result = tf.tidy(fn);
      const [values, dtype] = [result.dataSync(), result.dtype];
      result.dispose();
      const fallbacks = device().fallbackStats();
      const reference = await onCpu(() => {
        const t = tf.tidy(fn);
        const v = t.dataSync();
        t.dispose();
        return v;
      });
      assert(Object.keys(fallbacks).length === 0, () => `fell back to tfjs: ${JSON.stringify(fallbacks)}`);
      assert(dtype === "float32" || values.length === reference.length, () => "wrong length");
      const problem = close(values, reference, sumsInAnotherOrder(name) ? 1e-4 : 1e-6);
      assert(problem === null, () => problem!);
    });
  }
}

/** Five training steps on the target and on tfjs's cpu backend: losses, fallbacks and memory. */
async function trainingCheck(
  name: string,
  make: () => nn.Module & { forward(x: tf.Tensor): tf.Tensor },
  data: () => [tf.Tensor, tf.Tensor],
): Promise<void> {
  await check(`training: ${name}`, async () => {
    const run = (target: boolean) => {
      manualSeed(7);
      const model = make();
      const optimizer = new AdamW(model, { lr: 3e-3 });
      const [x, y] = data();
      const losses: number[] = [];
      // Once the optimizer's state exists and the allocator's cache has warmed up (by the ninth step), tensors,
      // their bytes and the device's raw allocations must stay put.
      let before = { tensors: 0, bytes: 0, raw: 0 };
      const now = () => ({
        tensors: tf.memory().numTensors,
        bytes: tf.memory().numBytes,
        raw: target ? device().device.memory().rawAllocations : 0,
      });
      if (target) device().resetFallbackStats();
      for (let step = 0; step < 12; step++) {
        if (step === 8) before = now();
        tf.tidy(() => {
          optimizer.zeroGrad();
          losses.push(
            backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model).dataSync()[0]!,
          );
          optimizer.step();
        });
      }
      const after = now();
      assert(
        after.tensors === before.tensors && after.bytes === before.bytes && after.raw === before.raw,
        () => `memory grew across steps: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
      );
      if (target) {
        const fallbacks = device().fallbackStats();
        assert(Object.keys(fallbacks).length === 0, () => `fell back to tfjs: ${JSON.stringify(fallbacks)}`);
      }
      model.dispose();
      optimizer.disposeState();
      tf.dispose([x, y]);
      return losses;
    };
    const got = run(true);
    // The accelerator says it is deterministic: a second run must give the same bits.
    const again = run(true);
    assert(
      got.every((loss, i) => Object.is(loss, again[i])),
      () => `two runs differ: ${got} and ${again}`,
    );
    const want = await onCpu(() => run(false));
    const problem = close(got, want, 1e-4);
    assert(problem === null, () => `losses ${got} vs cpu ${want}: ${problem}`);
    assert(got.at(-1)! < got[0]!, () => `the loss did not fall: ${got}`);
  });
}

const labels = (n: number, classes: number) =>
  tf.tensor1d(
    Array.from({ length: n }, (_, i) => i % classes),
    "int32",
  );

async function trainingChecks(): Promise<void> {
  await trainingCheck(
    "MLP with GELU",
    () => new nn.Sequential(new nn.Linear(20, 64), new nn.GELU(), new nn.Linear(64, 4)),
    () => [tf.randomNormal([32, 20], 0, 1, "float32", 3), labels(32, 4)],
  );
  await trainingCheck(
    "CNN with max and average pooling",
    () =>
      new nn.Sequential(
        new nn.Conv2d(1, 4, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(4, 6, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.AvgPool2d(2),
        new nn.Flatten(),
        new nn.Linear(54, 3),
      ),
    () => [tf.randomNormal([8, 1, 14, 14], 0, 1, "float32", 32), labels(8, 3)],
  );
  await trainingCheck(
    "transformer block",
    () => new TinyTransformer(),
    () => {
      const tokens = Array.from({ length: 48 }, (_, i) => (i * 7 + 3) % 16);
      return [
        tf.tensor2d(tokens, [4, 12], "int32"),
        tf.tensor1d(
          tokens.map((v) => (v + 1) % 16),
          "int32",
        ),
      ];
    },
  );
}

/** Fused optimizer updates: bit for bit the op-by-op update on tfjs's cpu backend. */
async function optimizerChecks(): Promise<void> {
  const configs: Array<[string, (p: Parameter[]) => Optimizer]> = [
    [
      "SGD momentum nesterov",
      (p) => new SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 }),
    ],
    ["AdamW amsgrad", (p) => new AdamW(p, { lr: 1e-2, amsgrad: true, betas: [0.8, 0.95] })],
    ["Adam L2", (p) => new Adam(p, { lr: 5e-3, weightDecay: 0.05, eps: 1e-6 })],
    ["RMSprop centered momentum", (p) => new RMSprop(p, { lr: 5e-3, centered: true, momentum: 0.9 })],
    ["Adagrad lr decay", (p) => new Adagrad(p, { lr: 0.05, lrDecay: 0.01, weightDecay: 0.02 })],
  ];
  const steps = (make: (p: Parameter[]) => Optimizer) => {
    const param = new Parameter(tf.tidy(() => tf.mul(tf.randomNormal([4097], 0, 1, "float32", 3), 2)));
    const optimizer = make([param]);
    for (let step = 0; step < 5; step++) {
      param.setGrad(
        tf.tidy(() => tf.add(tf.randomNormal([4097], 0, 1, "float32", 10 + step), step === 2 ? 1e3 : 0)),
      );
      optimizer.step();
    }
    const values = Array.from(param.data.dataSync());
    optimizer.disposeState();
    param.dispose();
    return values;
  };
  for (const [name, make] of configs) {
    await check(`optimizer: ${name}`, async () => {
      const got = steps(make);
      const want = await onCpu(() => steps(make));
      const first = got.findIndex((v, i) => !Object.is(v, want[i]));
      assert(first < 0, () => `element ${first}: ${got[first]}, op by op ${want[first]}`);
    });
  }
}

async function roundingChecks(): Promise<void> {
  const values = new Float32Array(100_003);
  let seed = 99;
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = ((seed / 2 ** 32) * 2 - 1) * 2 ** ((seed % 80) - 40);
  }
  for (const [kernel, reference] of [
    [ROUND_FLOAT16_KERNEL, roundFloat16Array],
    [ROUND_BFLOAT16_KERNEL, roundBfloat16Array],
  ] as const) {
    await check(`rounding: ${kernel}`, () => {
      const x = tf.tensor1d(values);
      const rounded = tf.engine().runKernel(kernel, { x }) as tf.Tensor;
      const got = new Uint32Array((rounded.dataSync() as Float32Array).slice().buffer);
      const want = new Uint32Array(reference(values).buffer);
      tf.dispose([x, rounded]);
      const first = got.findIndex((v, i) => v !== want[i]);
      assert(first < 0, () => `element ${first} (${values[first]}): bits ${got[first]}, core ${want[first]}`);
    });
  }
}

/** A half format rounding through the backend's kernel, or (on tfjs's cpu, the reference) through core's. */
function halfFormat(dtype: "float16" | "bfloat16", reference: boolean): HalfFormat {
  const kernel = dtype === "float16" ? ROUND_FLOAT16_KERNEL : ROUND_BFLOAT16_KERNEL;
  const round = dtype === "float16" ? roundFloat16Array : roundBfloat16Array;
  return {
    dtype,
    round: (t) =>
      reference
        ? tf.tensor(round(t.dataSync() as Float32Array), t.shape)
        : (tf.engine().runKernel(kernel, { x: t }) as tf.Tensor),
  };
}

/** Half storage: rounded tensors in 2 bytes a value, GEMMs on them (tensor cores), mixed-precision training. */
async function halfChecks(): Promise<void> {
  let halfGemms = 0;
  const engine = device().device;
  const original = engine.batchMatMulHalf;
  Object.defineProperty(engine, "batchMatMulHalf", {
    configurable: true,
    value: (...args: Parameters<typeof original>) => {
      halfGemms++;
      return original.apply(engine, args);
    },
  });
  for (const dtype of ["float16", "bfloat16"] as const) {
    await check(`half storage: ${dtype} GEMM`, async () => {
      const before = halfGemms;
      const make = (reference: boolean) =>
        tf.tidy(() => {
          const format = halfFormat(dtype, reference);
          const a = format.round(tf.randomNormal([4, 65, 130], 0, 1, "float32", 50));
          const b = format.round(tf.randomNormal([130, 33], 0, 1, "float32", 51));
          return tf.matMul(a, b).dataSync();
        });
      const got = make(false);
      const want = await onCpu(() => make(true));
      assert(halfGemms === before + 1, () => "the GEMM did not run on half storage");
      const problem = close(got, want, 1e-4);
      assert(problem === null, () => problem!);
    });
  }
  await check("half storage: bfloat16 mixed-precision training", async () => {
    const run = (reference: boolean) => {
      manualSeed(21);
      const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10));
      const optimizer = new AdamW(model, { lr: 1e-2 });
      const x = tf.randomNormal([32, 64], 0, 1, "float32", 52);
      const y = labels(32, 10);
      const autocast = { format: halfFormat("bfloat16", reference), mode: "mixed" as const };
      const losses: number[] = [];
      for (let step = 0; step < 6; step++)
        tf.tidy(() => {
          optimizer.zeroGrad();
          const loss = backward(
            () => withAutocast(autocast, () => nn.crossEntropy(model.forward(x), y) as tf.Scalar),
            model,
          );
          losses.push(loss.dataSync()[0]!);
          optimizer.step();
        });
      model.dispose();
      optimizer.disposeState();
      tf.dispose([x, y]);
      return losses;
    };
    const before = halfGemms;
    const got = run(false);
    const want = await onCpu(() => run(true));
    assert(halfGemms - before >= 6 * 5, () => `only ${halfGemms - before} GEMMs ran on half storage`);
    // bfloat16 keeps 8 bits: a GEMM summed in another order can round an output to the neighbouring value.
    const problem = close(got, want, 1e-2);
    assert(problem === null, () => `losses ${got} vs cpu ${want}: ${problem}`);
  });
  delete (engine as unknown as Record<string, unknown>).batchMatMulHalf;
}

async function guardChecks(): Promise<void> {
  await check("a freed block is refused, naming the call", () => {
    const x = tf.tensor([1, 2, 3]);
    const address = device().address(x);
    x.dispose();
    let message = "";
    try {
      device().device.unary(0, address, address, 3);
    } catch (error) {
      message = (error as Error).message;
    }
    assert(/unary: argument \d is not a live device block/.test(message), () => `got "${message}"`);
  });
}

/** Median milliseconds of a training step (the loss read back each step, as PyTorch's .item()). */
function stepMs(model: nn.Module & { forward(x: tf.Tensor): tf.Tensor }, x: tf.Tensor, y: tf.Tensor): number {
  const optimizer = new AdamW(model, { lr: 1e-3 });
  const times: number[] = [];
  for (let step = 0; step < 25; step++) {
    const start = performance.now();
    tf.tidy(() => {
      optimizer.zeroGrad();
      backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model).dataSync();
      optimizer.step();
    });
    if (step >= 5) times.push(performance.now() - start);
  }
  model.dispose();
  optimizer.disposeState();
  tf.dispose([x, y]);
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** The three benchmark models' step times on the target, and PyTorch's on the same GPU where it is installed. */
function bench(): Record<string, unknown> {
  manualSeed(1);
  const fulmen = {
    mlpMs: stepMs(
      new nn.Sequential(
        new nn.Linear(784, 512),
        new nn.ReLU(),
        new nn.Linear(512, 512),
        new nn.ReLU(),
        new nn.Linear(512, 10),
      ),
      tf.randomNormal([256, 784], 0, 1, "float32", 3),
      labels(256, 10),
    ),
    cnnMs: stepMs(
      new nn.Sequential(
        new nn.Conv2d(1, 16, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(16, 32, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(800, 10),
      ),
      tf.randomNormal([64, 1, 28, 28], 0, 1, "float32", 4),
      labels(64, 10),
    ),
    transformerMs: stepMs(
      new TinyTransformer({ vocab: 64, dModel: 128, heads: 4, block: 64 }),
      tf.tensor2d(
        Array.from({ length: 32 * 64 }, (_, i) => (i * 7) % 64),
        [32, 64],
        "int32",
      ),
      tf.tensor1d(
        Array.from({ length: 32 * 64 }, (_, i) => (i * 7 + 1) % 64),
        "int32",
      ),
    ),
  };
  const torch = spawnSync("python3", ["-c", TORCH_BENCH, options.target === "cuda" ? "cuda" : "cpu"], {
    encoding: "utf8",
    timeout: 300_000,
  });
  const last = torch.stdout?.trim().split("\n").at(-1) ?? "";
  const pytorch =
    torch.status === 0 && last.startsWith("{") ? JSON.parse(last) : { error: torch.stderr?.slice(-500) };
  return { fulmen, pytorch };
}

if (!options["skip-conformance"]) report.conformance = await conformance();
await tf.setBackend(backendName);
await kernelChecks();
await trainingChecks();
await optimizerChecks();
await roundingChecks();
await halfChecks();
await guardChecks();
report.checks = checks;
if (!options["skip-bench"]) report.bench = bench();
report.finishedAt = new Date().toISOString();

const text = JSON.stringify(report, null, 2);
console.log(text);
if (options.out !== undefined) {
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, `gpu-proof-${options.target}.json`), `${text}\n`);
}
const conformanceFailed = (report.conformance as Outcome | undefined)?.failed ?? 0;
process.exitCode = checks.failed + conformanceFailed > 0 ? 1 : 0;

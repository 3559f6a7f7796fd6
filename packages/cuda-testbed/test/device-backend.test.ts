import { CUDA_BACKEND, CudaAccelerator, type DeviceBackend } from "@fulmen/accelerator-cuda";
import { HOST_BACKEND, HostAccelerator } from "@fulmen/accelerator-host";
import { AdamW, backward, type HalfFormat, manualSeed, nn, roundFloat16Array, tf } from "@fulmen/core";
import {
  type AutocastState,
  ROUND_BFLOAT16_KERNEL,
  ROUND_FLOAT16_KERNEL,
  withAutocast,
} from "@fulmen/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KERNEL_CASES, poolingCnn, sumsInAnotherOrder, TinyTransformer } from "../proof/cases";
import {
  isCudaEmulationAvailable,
  registerCudaEmulationBackend,
  registerHostMemoryDeviceBackend,
} from "../src";

// The GPU engine's tfjs backend over host memory (everywhere: everything but the memory and the kernels'
// launcher is the code a GPU runs), and on a GPU where the GPU engine runs (FULMEN_CUDA_UNVERIFIED=1).
const targets: Array<[string, string]> = [["host memory", registerHostMemoryDeviceBackend()]];
// The GPU build's own kernels and engine, compiled for the host CUDA emulator: what a GPU runs, minus the GPU.
if (isCudaEmulationAvailable()) targets.push(["the CUDA emulator", registerCudaEmulationBackend()]);
if (new CudaAccelerator().isAvailable()) targets.push(["a GPU", CUDA_BACKEND]);
const device = () => tf.backend() as DeviceBackend;

describe.each(targets)("the device backend on %s", (where, DEVICE) => {
  // Over host memory the kernels are the host build's, bit-identical to tfjs's cpu; a GPU's differ in the last bits.
  // Over host memory the kernels are the host build's: training equals the host engine bit for bit.
  const exact = where === "host memory";
  // The emulator runs the GPU's per-element code on the host's floating point: kernels other than GEMMs equal
  // tfjs's cpu bit for bit there too; its GEMM is the tiled kernel (another summation order than OpenBLAS).
  const kernelsExact = where !== "a GPU";

  /** `fn`'s result on the device backend and on tfjs's cpu backend; the device's fallbacks in `fallbacks`. */
  let fallbacks: Record<string, number> = {};
  async function onBoth(fn: () => tf.Tensor): Promise<[tf.TypedArray, tf.TypedArray, string, string]> {
    const results: Array<[tf.TypedArray, string]> = [];
    for (const backend of [DEVICE, "cpu"]) {
      await tf.setBackend(backend);
      if (backend === DEVICE) device().resetFallbackStats();
      const t = tf.tidy(fn);
      if (backend === DEVICE) fallbacks = device().fallbackStats();
      results.push([t.dataSync(), t.dtype]);
      t.dispose();
    }
    return [results[0]![0], results[1]![0], results[0]![1], results[1]![1]];
  }

  beforeAll(async () => {
    if (DEVICE === CUDA_BACKEND) await new CudaAccelerator().setup();
    await tf.setBackend(DEVICE);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("keeps float32, int32, bool and string tensors on the device and reads them back", async () => {
    await tf.setBackend(DEVICE);
    device().device.emptyCache(); // fresh blocks: a cached one up to twice the size could serve
    const before = device().memory().numBytesInDevice;
    const f = tf.tensor([1.5, -2, Number.NaN], [3], "float32");
    const i = tf.tensor([7, -8], [2], "int32");
    const b = tf.tensor([true, false, true], [3], "bool");
    const s = tf.tensor(["fulmen", "⚡"], [2], "string");
    expect(Array.from(f.dataSync())).toEqual([1.5, -2, Number.NaN]);
    expect(i.dataSync()).toEqual(new Int32Array([7, -8]));
    expect(b.dataSync()).toEqual(new Uint8Array([1, 0, 1]));
    expect(await s.array()).toEqual(["fulmen", "⚡"]);
    // Each device tensor holds its own block (rounded up to the allocator's 512 bytes).
    expect(device().memory().numBytesInDevice - before).toBe(3 * 512);
    tf.dispose([f, i, b, s]);
    expect(device().memory().numBytesInDevice).toBe(before);
    expect(device().memory().numBytesCachedInDevice).toBeGreaterThan(0);
  });

  it("reshape, identity and same-dtype casts are views: one block, freed with its last tensor", async () => {
    await tf.setBackend(DEVICE);
    device().device.emptyCache(); // fresh blocks: a cached one up to twice the size could serve
    const before = device().memory().numBytesInDevice;
    const x = tf.range(0, 12, 1, "float32");
    const views = [tf.reshape(x, [3, 4]), tf.clone(x), tf.cast(x, "float32")];
    expect(device().memory().numBytesInDevice - before).toBe(512);
    expect(device().refCount(x.dataId)).toBe(4);
    x.dispose();
    expect(Array.from(views[0]!.dataSync())).toEqual(Array.from({ length: 12 }, (_, k) => k));
    tf.dispose(views);
    expect(device().memory().numBytesInDevice).toBe(before);
  });

  it("moves tensors made on another backend to the device when a kernel needs them", async () => {
    await tf.setBackend("cpu");
    const a = tf.tensor([1, 2, 3]);
    await tf.setBackend(DEVICE);
    const sum = tf.add(a, tf.scalar(1));
    expect(Array.from(sum.dataSync())).toEqual([2, 3, 4]);
    tf.dispose([a, sum]);
  });

  for (const [name, fn] of KERNEL_CASES) {
    it(`${name}: matches tfjs's cpu backend, on device kernels only`, async () => {
      const [onDevice, onCpu, deviceDtype, cpuDtype] = await onBoth(fn);
      expect(fallbacks).toEqual({});
      expect(deviceDtype).toBe(cpuDtype);
      expect(onDevice.length).toBe(onCpu.length);
      // GEMMs (matmul, conv) are OpenBLAS's or cuBLAS's and sums over runs of axes round after each run: another
      // summation order than tfjs's; over host memory every other kernel is bit-identical.
      if (sumsInAnotherOrder(name) || (!kernelsExact && onCpu instanceof Float32Array))
        for (let k = 0; k < onCpu.length; k++) {
          if (Number.isNaN(onCpu[k])) expect(onDevice[k]).toBeNaN();
          else expect(onDevice[k]).toBeCloseTo(onCpu[k]!, 5);
        }
      else expect(Array.from(onDevice)).toEqual(Array.from(onCpu));
    });
  }

  it("runs every kernel it lacks on tfjs's cpu kernel, data moved off and back, and counts it", async () => {
    // A mean over axes that are not one block has no device kernel (yet); top-k has none at all.
    const [onDevice, onCpu] = await onBoth(() =>
      tf.mean(tf.randomNormal([4, 5, 3], 0, 1, "float32", 13), [0, 2]),
    );
    expect(fallbacks).toEqual({ Mean: 1 });
    expect(Array.from(onDevice)).toEqual(Array.from(onCpu));
    await tf.setBackend(DEVICE);
    device().resetFallbackStats();
    const x = tf.randomNormal([4, 5, 3], 0, 1, "float32", 13);
    const top = tf.topk(x, 2);
    const sum = tf.add(tf.sum(top.values), 1);
    expect(top.values.shape).toEqual([4, 5, 2]);
    expect(top.indices.dtype).toBe("int32");
    expect(sum.dataSync()[0]).toBeCloseTo(tf.sum(top.values).dataSync()[0]! + 1, 4);
    expect(device().fallbackStats()).toEqual({ TopK: 1 });
    tf.dispose([x, sum, top.values, top.indices]);
  });

  it("keeps a fallback's output that is its input (a view) in the input's block, leaving nothing behind", async () => {
    await tf.setBackend(DEVICE);
    const backend = device();
    const x = tf.tensor([1, 2, 3, 4]);
    const cpu = (backend as unknown as { cpu: tf.backend_util.BackendValues & { numDataIds(): number } }).cpu;
    const viewOfInput = (args: { inputs: Record<string, tf.TensorInfo>; backend: tf.KernelBackend }) => {
      const input = args.inputs.x!;
      args.backend.incRef(input.dataId);
      return { dataId: input.dataId, shape: [2, 2], dtype: input.dtype };
    };
    const out = backend.runFallback("ViewTest", viewOfInput as never, {
      inputs: { x },
      backend,
      attrs: {},
    }) as tf.TensorInfo;
    expect(out.dataId).toBe(x.dataId);
    expect(out.shape).toEqual([2, 2]);
    expect(backend.refCount(x.dataId)).toBe(2);
    expect(cpu.numDataIds()).toBe(0);
    backend.disposeData(out.dataId);
    x.dispose();
    expect(backend.refCount(x.dataId)).toBe(0);
  });

  it("says which gather index is out of range, as tfjs's cpu kernel does", async () => {
    await tf.setBackend(DEVICE);
    const x = tf.ones([3, 2]);
    const indices = tf.tensor([0, 3], [2], "int32");
    expect(() => tf.gather(x, indices)).toThrow(/GatherV2: the index value 3 is not in \[0, 2\]/);
    tf.dispose([x, indices]);
  });

  it("refuses addresses that are not live blocks of the size a call needs, naming the call", async () => {
    await tf.setBackend(DEVICE);
    const backend = device();
    const x = tf.tensor([1, 2, 3]);
    const address = backend.address(x);
    expect(() => backend.device.download(address, new Float32Array(1000))).toThrow(
      /download: argument 0 is not a live device block of 4000 bytes/,
    );
    x.dispose();
    expect(() => backend.device.unary(0, address, address, 3)).toThrow(
      /unary: argument [12] is not a live device block/,
    );
  });

  it("keeps complex64 tensors as two float32 device tensors and runs their kernels as fallbacks", async () => {
    await tf.setBackend(DEVICE);
    const backend = device();
    const cpu = (backend as unknown as { cpu: { numDataIds(): number } }).cpu;
    const before = backend.numDataIds();
    const [onDevice, onCpu, dtype] = await onBoth(() =>
      tf.abs(
        tf.add(
          tf.complex(tf.tensor([3, -1]), tf.tensor([4, 2])),
          tf.complex(tf.tensor([1, 1]), tf.tensor([0, 0])),
        ),
      ),
    );
    expect(dtype).toBe("float32");
    expect(Array.from(onDevice)).toEqual(Array.from(onCpu));
    await tf.setBackend(DEVICE);
    const parts = [tf.tensor([1, 2]), tf.tensor([3, 4])] as const;
    const z = tf.complex(...parts);
    expect(Array.from(z.dataSync())).toEqual([1, 3, 2, 4]);
    tf.dispose([z, ...parts]);
    // Nothing left behind: not the complex tensor's parts on the device, nor any copy in the fallbacks' backend.
    expect(backend.numDataIds()).toBe(before);
    expect(cpu.numDataIds()).toBe(0);
  });

  /** A half format whose rounding is the backend's kernel (what the precision plugins provide). */
  const halfFormat = (dtype: "float16" | "bfloat16"): HalfFormat => ({
    dtype,
    round: (t) =>
      tf
        .engine()
        .runKernel(dtype === "float16" ? ROUND_FLOAT16_KERNEL : ROUND_BFLOAT16_KERNEL, { x: t }) as tf.Tensor,
  });

  /** Counts the device's half GEMMs (tensor cores on a GPU) while `fn` runs. */
  function countHalfGemms<T>(fn: () => T): [T, number] {
    const engine = device().device;
    const original = engine.batchMatMulHalf;
    let calls = 0;
    // The addon's methods are read-only on its prototype: shadow the method on the instance for the call.
    Object.defineProperty(engine, "batchMatMulHalf", {
      configurable: true,
      value: (...args: Parameters<typeof original>) => {
        calls++;
        return original.apply(engine, args);
      },
    });
    try {
      return [fn(), calls];
    } finally {
      delete (engine as unknown as Record<string, unknown>).batchMatMulHalf;
    }
  }

  it("keeps rounded tensors in half storage, 2 bytes a value, and reads back core's rounding", async () => {
    await tf.setBackend(DEVICE);
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 70000 + i * 1e-3);
    const x = tf.tensor1d(values);
    // With the cache emptied, the block is made for this tensor (a cached block up to twice the size could serve).
    device().device.emptyCache();
    const before = device().memory().numBytesInDevice;
    const rounded = halfFormat("float16").round(x);
    // 2000 bytes in a 2048-byte block, where a float32 tensor would take 4096.
    expect(device().memory().numBytesInDevice - before).toBe(2048);
    expect(device().halfOf(rounded)?.format).toBe(0);
    expect(Array.from(rounded.dataSync())).toEqual(Array.from(roundFloat16Array(values)));
    // Rounding again to the same format is a view; the float32 copy made for reading is freed with the tensor.
    const again = halfFormat("float16").round(rounded);
    expect(again.dataId).toBe(rounded.dataId);
    tf.dispose([x, rounded, again]);
    expect(device().memory().numBytesInDevice).toBe(before - 4096);
  });

  it("multiplies half-stored matrices with float32 accumulation (tensor cores on a GPU)", async () => {
    await tf.setBackend(DEVICE);
    for (const dtype of ["float16", "bfloat16"] as const) {
      const format = halfFormat(dtype);
      const a = tf.randomNormal([3, 17, 33], 0, 1, "float32", 40);
      const b = tf.randomNormal([33, 9], 0, 1, "float32", 41);
      const [product, calls] = countHalfGemms(() =>
        tf.tidy(() => tf.matMul(format.round(a), format.round(b))),
      );
      expect(calls).toBe(1);
      // The same GEMM on the rounded values as float32 tensors.
      const reference = tf.tidy(() =>
        tf.matMul(
          tf.tensor(format.round(a).dataSync(), a.shape),
          tf.tensor(format.round(b).dataSync(), b.shape),
        ),
      );
      const [got, want] = [product.dataSync(), reference.dataSync()];
      if (exact) expect(Array.from(got)).toEqual(Array.from(want));
      else for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 3);
      tf.dispose([a, b, product, reference]);
    }
  });

  it("trains an MLP under mixed precision with its GEMMs on half storage, as the host engine trains it", async () => {
    const losses = await trainOnBoth({
      seed: 21,
      steps: 5,
      lr: 1e-2,
      model: () => new nn.Sequential(new nn.Linear(24, 48), new nn.ReLU(), new nn.Linear(48, 5)),
      data: () => [tf.randomNormal([16, 24], 0, 1, "float32", 42), labels(16, 5)],
      autocast: { format: halfFormat("bfloat16"), mode: "mixed" },
    });
    // Forward and both backward GEMMs of both layers, every step.
    expect(losses.halfGemms).toBeGreaterThanOrEqual(5 * 5);
    expectHostLosses(losses, 3);
  });

  /** A training run for {@link trainOnBoth}: from one seed, the same model, data and AdamW steps. */
  interface TrainingRun {
    seed: number;
    steps: number;
    lr: number;
    model: () => nn.Module & { forward(x: tf.Tensor): tf.Tensor };
    data: () => [tf.Tensor, tf.Tensor];
    autocast?: AutocastState;
  }

  /**
   * Trains on the device backend and on the host engine. On the device every kernel must run there (no
   * fallback) and, from the third step, tensors and their bytes must stay put. Returns both backends' losses and
   * the device's half GEMMs (tensor cores on a GPU).
   */
  async function trainOnBoth(
    run: TrainingRun,
  ): Promise<{ device: number[]; host: number[]; halfGemms: number }> {
    const losses: Record<string, number[]> = {};
    let halfGemms = 0;
    for (const backendName of [DEVICE, HOST_BACKEND]) {
      if (backendName === HOST_BACKEND) await new HostAccelerator().setup();
      await tf.setBackend(backendName);
      manualSeed(run.seed);
      const model = run.model();
      const optimizer = new AdamW(model, { lr: run.lr });
      const [x, y] = run.data();
      const onDevice = backendName === DEVICE;
      losses[backendName] = [];
      if (onDevice) device().resetFallbackStats();
      let before = { tensors: 0, bytes: 0 };
      for (let step = 0; step < run.steps; step++) {
        if (step === 2) before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes };
        const train = () =>
          tf.tidy(() => {
            optimizer.zeroGrad();
            const loss = backward(
              () =>
                withAutocast(run.autocast ?? null, () => nn.crossEntropy(model.forward(x), y) as tf.Scalar),
              model,
            );
            losses[backendName]!.push(loss.dataSync()[0]!);
            optimizer.step();
          });
        if (onDevice) halfGemms += countHalfGemms(train)[1];
        else train();
      }
      expect({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes }).toEqual(before);
      if (onDevice) expect(device().fallbackStats()).toEqual({});
      model.dispose();
      optimizer.disposeState();
      tf.dispose([x, y]);
    }
    return { device: losses[DEVICE]!, host: losses[HOST_BACKEND]!, halfGemms };
  }

  /** The device's losses are the host engine's (bit for bit over host memory, else to `digits`), and they fall. */
  function expectHostLosses(losses: { device: number[]; host: number[] }, digits: number): void {
    if (exact) expect(losses.device).toEqual(losses.host);
    else for (const [i, loss] of losses.device.entries()) expect(loss).toBeCloseTo(losses.host[i]!, digits);
    expect(losses.device.at(-1)!).toBeLessThan(losses.device[0]!);
  }

  const labels = (n: number, classes: number) =>
    tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % classes),
      "int32",
    );

  it("trains a small transformer with the same losses as the host engine, every kernel on the device", async () => {
    const tokens = Array.from({ length: 4 * 12 }, (_, i) => (i * 7 + 3) % 16);
    const losses = await trainOnBoth({
      seed: 9,
      steps: 6,
      lr: 3e-3,
      model: () => new TinyTransformer(),
      data: () => [
        tf.tensor2d(tokens, [4, 12], "int32"),
        tf.tensor1d(
          tokens.map((v) => (v + 1) % 16),
          "int32",
        ),
      ],
    });
    expectHostLosses(losses, 4);
  });

  it("trains a small CNN with the same losses as the host engine, every kernel on the device", async () => {
    const losses = await trainOnBoth({
      seed: 11,
      steps: 5,
      lr: 1e-2,
      model: poolingCnn,
      data: () => [tf.randomNormal([8, 1, 14, 14], 0, 1, "float32", 32), labels(8, 3)],
    });
    expectHostLosses(losses, 4);
  });

  it("trains an MLP with the same losses as the host engine, memory flat across steps", async () => {
    const losses = await trainOnBoth({
      seed: 5,
      steps: 8,
      lr: 1e-2,
      model: () => new nn.Sequential(new nn.Linear(20, 64), new nn.GELU(), new nn.Linear(64, 4)),
      data: () => [tf.randomNormal([32, 20], 0, 1, "float32", 3), labels(32, 4)],
    });
    expectHostLosses(losses, 5);
  });
});

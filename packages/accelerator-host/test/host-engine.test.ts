import { AdamW, manualSeed, nn, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_BACKEND, HostAccelerator, type HostEngineBackend, loadEngine } from "../src";

function maxRelativeError(
  a: Float32Array | Int32Array | Uint8Array,
  b: Float32Array | Int32Array | Uint8Array,
): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
}

/** Runs `fn` on the host engine and on tfjs's cpu backend; returns both results' values. */
async function onBoth(fn: () => tf.Tensor): Promise<[Float32Array, Float32Array, number[]]> {
  await tf.setBackend(HOST_BACKEND);
  const host = tf.tidy(fn);
  const hostValues = host.dataSync() as Float32Array;
  const shape = host.shape;
  host.dispose();
  await tf.setBackend("cpu");
  const cpu = tf.tidy(fn);
  const cpuValues = cpu.dataSync() as Float32Array;
  cpu.dispose();
  return [hostValues, cpuValues, shape];
}

describe("the native engine's host build", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  const cases: Array<[string, number[], number[], boolean, boolean]> = [
    ["2-D", [33, 17], [17, 9], false, false],
    ["transposed A", [17, 33], [17, 9], true, false],
    ["transposed B", [33, 17], [9, 17], false, true],
    ["both transposed", [17, 33], [9, 17], true, true],
    ["batched", [4, 5, 7], [4, 7, 3], false, false],
    ["batch broadcast on A", [1, 5, 7], [6, 7, 3], false, false],
    ["batch broadcast on B", [2, 3, 5, 7], [7, 4], false, false],
    ["1024³", [1024, 1024], [1024, 1024], false, false],
  ];
  for (const [label, shapeA, shapeB, ta, tb] of cases) {
    it(`BatchMatMul matches tfjs's cpu kernel: ${label}`, async () => {
      const fn = () =>
        tf.matMul(
          tf.randomNormal(shapeA, 0, 1, "float32", 1),
          tf.randomNormal(shapeB, 0, 1, "float32", 2),
          ta,
          tb,
        );
      const [host, cpu, shape] = await onBoth(fn);
      await tf.setBackend("cpu");
      expect(shape).toEqual(tf.tidy(fn).shape);
      expect(maxRelativeError(host, cpu)).toBeLessThan(1e-4);
    });
  }

  const special = () =>
    tf.tensor1d([0, -0, 1.5, -2, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-30]);
  const binaryShapes: Array<[number[], number[]]> = [
    [
      [3, 4],
      [3, 4],
    ],
    [[3, 4], [4]],
    [
      [3, 1],
      [1, 4],
    ],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [[5], []],
    [[], [2, 2]],
    [[0, 3], [3]],
  ];
  for (const op of ["add", "sub", "mul", "div", "maximum", "minimum", "squaredDifference"] as const) {
    it(`${op} matches tfjs's cpu kernel with broadcasting and NaN/inf`, async () => {
      for (const [sa, sb] of binaryShapes) {
        const fn = () =>
          tf[op](
            tf.randomNormal(sa, 0, 1, "float32", 4),
            tf.randomNormal(sb, 0, 1, "float32", 5),
          ) as tf.Tensor;
        const [host, cpu, shape] = await onBoth(fn);
        expect(host.length).toBe(cpu.length);
        expect(shape.reduce((p, d) => p * d, 1)).toBe(host.length);
        expect(Array.from(host)).toEqual(Array.from(cpu));
      }
      const [host, cpu] = await onBoth(() => tf[op](special(), tf.reverse(special())) as tf.Tensor);
      expect(Array.from(host)).toEqual(Array.from(cpu));
    });
  }
  for (const op of [
    "sqrt",
    "relu",
    "exp",
    "log",
    "neg",
    "square",
    "abs",
    "tanh",
    "sigmoid",
    "rsqrt",
    "step",
    "erf",
  ] as const) {
    it(`${op} matches tfjs's cpu kernel, NaN and infinities included`, async () => {
      const [h, c] = await onBoth(
        () => tf[op](tf.concat([tf.randomNormal([50], 0, 3, "float32", 6), special()])) as tf.Tensor,
      );
      for (let i = 0; i < c.length; i++) {
        if (Number.isNaN(c[i]!)) expect(h[i]).toBeNaN();
        else if (!Number.isFinite(c[i]!)) expect(h[i]).toBe(c[i]);
        else expect(Math.abs(h[i]! - c[i]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(c[i]!)));
      }
    });
  }
  it("comparisons, where, clipByValue, addN, max and min match tfjs's cpu kernels (NaN, ±0, broadcasting)", async () => {
    const a = () =>
      tf.concat([tf.randomNormal([30], 0, 2, "float32", 21), special(), tf.tensor1d([0, -0, 1.5])]);
    const b = () =>
      tf.concat([
        tf.randomNormal([30], 0, 2, "float32", 22),
        tf.reverse(special()),
        tf.tensor1d([-0, 0, 1.5]),
      ]);
    const asFloats = (t: tf.Tensor) => tf.cast(t, "float32");
    const cases: Array<[string, () => tf.Tensor]> = [
      ...(["greater", "greaterEqual", "less", "lessEqual", "equal", "notEqual"] as const).flatMap(
        (op): Array<[string, () => tf.Tensor]> => [
          [op, () => asFloats(tf[op](a(), b()))],
          [`${op} broadcast`, () => asFloats(tf[op](tf.reshape(a(), [41, 1]), tf.reshape(b(), [1, 41])))],
        ],
      ),
      ["where", () => tf.where(tf.greater(a(), b()), a(), b())],
      ["clipByValue", () => tf.clipByValue(a(), -0.3, 1e-8)],
      ["addN", () => tf.addN([a(), b(), tf.mul(a(), 3), b()])],
      ["max last", () => tf.max(tf.reshape(tf.concat([a(), b()]), [2, 41]), 1)],
      ["max first", () => tf.max(tf.reshape(tf.concat([a(), b()]), [2, 41]), 0)],
      ["min middle", () => tf.min(tf.reshape(tf.concat([a(), b(), a()]), [3, 41, 1]), 1, true)],
      ["min all", () => tf.min(tf.concat([a(), b()]))],
      [
        "max of ±0",
        () =>
          tf.max(
            tf.tensor2d([
              [0, -0],
              [-0, 0],
            ]),
            1,
          ),
      ],
    ];
    for (const [name, fn] of cases) {
      const [host, cpu] = await onBoth(fn);
      expect(
        Array.from(host).map((v) => (Object.is(v, -0) ? "-0" : v)),
        name,
      ).toEqual(Array.from(cpu).map((v) => (Object.is(v, -0) ? "-0" : v)));
    }
    await tf.setBackend(HOST_BACKEND);
    (tf.backend() as HostEngineBackend).resetFallbackStats();
    tf.tidy(() => [
      tf.greater(a(), b()),
      tf.where(tf.less(a(), b()), a(), b()),
      tf.max(a()),
      tf.addN([a(), b()]),
    ]);
    const stats = (tf.backend() as HostEngineBackend).fallbackStats();
    for (const kernel of ["Greater", "Less", "Select", "Max", "AddN"])
      expect(stats[kernel], kernel).toBeUndefined();
  });

  it("cast, oneHot, slice, fill, zerosLike, onesLike and argMax match tfjs's cpu kernels", async () => {
    const edgy = () =>
      tf.tensor1d([0, -0, 1.7, -1.7, 2.5, -2.5, 3e9, -3e9, 1e20, Number.NaN, Number.POSITIVE_INFINITY, -7]);
    const grid = () => tf.reshape(tf.range(0, 60, 1, "float32"), [3, 4, 5]);
    const cases: Array<[string, () => tf.Tensor]> = [
      ["cast float32 → int32", () => tf.cast(edgy(), "int32")],
      ["cast float32 → bool", () => tf.cast(edgy(), "bool")],
      ["cast int32 → float32", () => tf.cast(tf.tensor1d([3, -4, 16777217, 0], "int32"), "float32")],
      ["cast bool → int32", () => tf.cast(tf.tensor1d([true, false, true], "bool"), "int32")],
      ["cast int32 → bool", () => tf.cast(tf.tensor1d([3, 0, -2], "int32"), "bool")],
      ["oneHot", () => tf.oneHot(tf.tensor1d([0, 3, -1, 9, 2], "int32"), 4, 5, -1)],
      ["slice middle", () => tf.slice(grid(), [1, 1, 2], [2, 2, 3])],
      ["slice rows", () => tf.slice(grid(), [1, 0, 0], [1, 4, 5])],
      ["slice int32", () => tf.slice(tf.cast(grid(), "int32"), [0, 2, 1], [3, 2, -1])],
      ["fill", () => tf.fill([2, 3], 1.25)],
      ["zerosLike", () => tf.zerosLike(grid())],
      ["onesLike int32", () => tf.onesLike(tf.cast(grid(), "int32"))],
      ["argMax last", () => tf.argMax(tf.reshape(tf.concat([edgy(), edgy()]), [4, 6]), 1)],
      ["argMax first", () => tf.argMax(tf.reshape(tf.concat([edgy(), tf.neg(edgy())]), [4, 6]), 0)],
      ["argMax NaN first", () => tf.argMax(tf.tensor1d([Number.NaN, 1, 2]))],
      ["range float", () => tf.range(0.1, 7.3, 0.7)],
      ["range decreasing int", () => tf.range(10, -3, -2, "int32")],
      ["range default step down", () => tf.range(5, 1)],
    ];
    for (const [name, fn] of cases) {
      await tf.setBackend(HOST_BACKEND);
      const hostTensor = tf.tidy(fn);
      const host = {
        dtype: hostTensor.dtype,
        shape: hostTensor.shape,
        values: Array.from(hostTensor.dataSync()),
      };
      hostTensor.dispose();
      await tf.setBackend("cpu");
      const cpuTensor = tf.tidy(fn);
      const cpu = {
        dtype: cpuTensor.dtype,
        shape: cpuTensor.shape,
        values: Array.from(cpuTensor.dataSync()),
      };
      cpuTensor.dispose();
      expect(host, name).toEqual(cpu);
    }
    await tf.setBackend(HOST_BACKEND);
    const backend = tf.backend() as HostEngineBackend;
    backend.resetFallbackStats();
    tf.tidy(() => [
      tf.cast(edgy(), "int32"),
      tf.slice(grid(), [1, 1, 2], [2, 2, 3]),
      tf.argMax(edgy()),
      tf.oneHot(tf.tensor1d([1], "int32"), 3),
    ]);
    const stats = backend.fallbackStats();
    for (const kernel of ["Cast", "Slice", "ArgMax", "OneHot"]) expect(stats[kernel], kernel).toBeUndefined();
  });

  it("concat, split, stack and unstack along every axis match tfjs's cpu kernels (views, int32), natively", async () => {
    const grid = (shape: number[], dtype: "float32" | "int32" = "float32") =>
      tf.reshape(tf.range(0, tf.util.sizeFromShape(shape), 1, dtype), shape);
    const cases: Array<[string, () => tf.Tensor[]]> = [
      ["concat last axis", () => [tf.concat([grid([4, 3, 2]), grid([4, 3, 5]), grid([4, 3, 1])], 2)]],
      ["concat middle axis", () => [tf.concat([grid([2, 3, 4]), grid([2, 1, 4])], 1)]],
      ["concat first axis, int32", () => [tf.concat([grid([2, 3], "int32"), grid([1, 3], "int32")], 0)]],
      // Slices of one tensor are views on its memory: the copies must start at each view's own offset.
      [
        "concat of views",
        () => {
          const whole = grid([6, 4]);
          return [tf.concat([tf.slice(whole, [3, 0], [3, 4]), tf.slice(whole, [0, 0], [3, 4])], 1)];
        },
      ],
      ["split last axis, uneven", () => tf.split(grid([3, 2, 7]), [2, 4, 1], 2)],
      ["split middle axis, int32", () => tf.split(grid([2, 6, 3], "int32"), 3, 1)],
      ["split a view", () => tf.split(tf.slice(grid([5, 6]), [1, 0], [3, 6]), [4, 2], 1)],
      ["stack on a new middle axis", () => [tf.stack([grid([2, 3]), tf.neg(grid([2, 3])), grid([2, 3])], 1)]],
      ["stack on a new last axis, int32", () => [tf.stack([grid([4], "int32"), grid([4], "int32")], -1)]],
      ["stack scalars", () => [tf.stack([tf.scalar(1.5), tf.scalar(-2)])]],
      ["unstack the middle axis", () => tf.unstack(grid([2, 3, 4]), 1)],
      ["unstack a view, int32", () => tf.unstack(tf.slice(grid([4, 3], "int32"), [1, 0], [2, 3]), -1)],
    ];
    for (const [name, fn] of cases) {
      const run = async (backendName: string) => {
        await tf.setBackend(backendName);
        const outs = fn();
        const result = outs.map((t) => ({
          dtype: t.dtype,
          shape: t.shape,
          values: Array.from(t.dataSync()),
        }));
        tf.dispose(outs);
        return result;
      };
      const host = await run(HOST_BACKEND);
      expect(host, name).toEqual(await run("cpu"));
    }
    await tf.setBackend(HOST_BACKEND);
    const backend = tf.backend() as HostEngineBackend;
    backend.resetFallbackStats();
    tf.tidy(() => [
      tf.concat([grid([2, 3]), grid([2, 3])], 1),
      ...tf.split(grid([4, 6]), 2, 1),
      tf.stack([grid([2, 3]), grid([2, 3])], 2),
      ...tf.unstack(grid([4, 6]), 1),
    ]);
    for (const kernel of ["Concat", "SplitV", "Pack", "Unpack"])
      expect(backend.fallbackStats()[kernel], kernel).toBeUndefined();
    // The addon checks every slab against both arrays: a bookkeeping bug is an error, not a stray write.
    const engine = loadEngine();
    expect(() => engine.copySlabs(new Float32Array(8), 0, 4, new Float32Array(8), 5, 4, 2, 4)).toThrow(
      /copySlabs: the slabs do not fit the arrays/,
    );
    expect(() => engine.copySlabs(new Float32Array(8), 6, 4, new Float32Array(16), 0, 4, 1, 4)).toThrow(
      RangeError,
    );
  });

  it("every native kernel takes empty tensors as tfjs's cpu kernels do", async () => {
    const empty = () => tf.zeros([0, 3]);
    const cases: Array<[string, () => tf.Tensor]> = [
      ["add", () => tf.add(empty(), tf.ones([3]))],
      ["exp", () => tf.exp(empty())],
      ["greater", () => tf.greater(empty(), tf.ones([3]))],
      ["where", () => tf.where(tf.greater(empty(), 0), empty(), empty())],
      ["clipByValue", () => tf.clipByValue(empty(), 0, 1)],
      ["addN", () => tf.addN([empty(), empty()])],
      ["sum", () => tf.sum(empty(), 1)],
      ["max", () => tf.max(empty(), 1)],
      ["cast", () => tf.cast(empty(), "int32")],
      ["oneHot", () => tf.oneHot(tf.tensor1d([], "int32"), 4)],
      ["slice", () => tf.slice(tf.ones([2, 3]), [0, 1], [2, 0])],
      ["fill", () => tf.fill([0, 2], 3)],
      ["transpose", () => tf.transpose(empty())],
      ["softmax", () => tf.softmax(empty())],
      ["matMul", () => tf.matMul(empty(), tf.ones([3, 2]))],
      ["concat", () => tf.concat([empty(), tf.ones([1, 3])])],
    ];
    for (const [name, fn] of cases) {
      const [host, cpu, hostShape] = await onBoth(fn); // leaves the cpu backend current
      const cpuShape = tf.tidy(() => fn().shape);
      expect({ shape: hostShape, values: Array.from(host) }, name).toEqual({
        shape: cpuShape,
        values: Array.from(cpu),
      });
    }
  });

  it("exp, sigmoid, tanh, erf and softmax (vectorised exponential) equal tfjs's cpu kernels over 200k inputs", async () => {
    // A dense sweep of [-120, 120] plus the edges where float32 results turn to 0, subnormals and ∞.
    const edges = [
      -745, -709, -708, -104, -103.97, -103.28, -87.34, 88.72, 88.73, 89, 708, 709, 710, 1e-8, -1e-8, 0.125,
      -0.125, 0.12499999, 9.01, -9.02, 19.9, 20.1, 1e-30, -3e-39, 0, -0,
    ];
    const values = Float32Array.from([
      ...Array.from({ length: 200_000 }, (_, i) => -120 + i * 0.0012),
      ...edges,
    ]);
    for (const op of ["exp", "sigmoid", "tanh", "erf"] as const) {
      const [h, c] = await onBoth(() => tf[op](tf.tensor1d(values)));
      let differing = 0;
      for (let i = 0; i < c.length; i++) if (!Object.is(h[i], c[i])) differing++;
      expect(differing, op).toBe(0);
    }
    const [h, c] = await onBoth(() => tf.softmax(tf.tensor2d(values.subarray(0, 200_000), [2000, 100])));
    expect(Array.from(h)).toEqual(Array.from(c));
  });

  it("sum and mean over leading, trailing, middle and all axes match tfjs's cpu kernels", async () => {
    for (const [axis, keepDims] of [
      [0, false],
      [2, true],
      [1, false],
      [[1, 2], false],
      [[0, 1, 2], false],
      [-1, true],
    ] as const) {
      const [host, cpu, shape] = await onBoth(() =>
        tf.sum(tf.randomNormal([3, 4, 5], 0, 1, "float32", 7), axis as number | number[], keepDims),
      );
      await tf.setBackend("cpu");
      expect(shape).toEqual(
        tf.tidy(() => tf.sum(tf.zeros([3, 4, 5]), axis as number | number[], keepDims)).shape,
      );
      expect(Array.from(host)).toEqual(Array.from(cpu));
    }
  });

  it("names mismatched shapes as tfjs does, and counts kernels it leaves to tfjs's cpu implementation", async () => {
    await tf.setBackend(HOST_BACKEND);
    const backend = tf.backend() as HostEngineBackend;
    backend.resetFallbackStats();
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]))).toThrow(/inner shapes \(3\) and \(4\)/);
    // A broadcast of both batch dimensions, and integer data, go to tfjs's kernel.
    const general = tf.matMul(tf.ones([2, 1, 3, 4]), tf.ones([1, 5, 4, 2]));
    expect(general.shape).toEqual([2, 5, 3, 2]);
    expect(Array.from(general.dataSync().slice(0, 2))).toEqual([4, 4]);
    tf.cos(tf.ones([3])).dispose();
    tf.relu(tf.ones([3])).dispose();
    const stats = backend.fallbackStats();
    expect(stats.BatchMatMul).toBe(1);
    expect(stats.Cos).toBe(1);
    expect(stats.Relu).toBeUndefined();
    tf.disposeVariables();
  });

  it("trains an MLP through Fabric like tfjs's cpu backend (accelerator: 'host')", async () => {
    const losses: Record<string, number[]> = {};
    for (const accelerator of ["host", "cpu"]) {
      const fabric = new Fabric({ accelerator });
      await fabric.launch();
      manualSeed(5);
      const model = new nn.Sequential(new nn.Linear(20, 64), new nn.GELU(), new nn.Linear(64, 4));
      const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: 1e-2 }));
      const x = tf.randomNormal([32, 20], 0, 1, "float32", 3);
      const y = tf.tensor1d(
        Array.from({ length: 32 }, (_, i) => i % 4),
        "int32",
      );
      losses[accelerator] = [];
      let before = 0;
      if (accelerator === "host") (tf.backend() as HostEngineBackend).resetFallbackStats();
      for (let step = 0; step < 10; step++) {
        // After the first step the optimizer holds its state: from then on nothing may accumulate.
        if (step === 1) before = tf.memory().numTensors;
        tf.tidy(() => {
          optimizer.zeroGrad();
          losses[accelerator]!.push(
            fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar).dataSync()[0]!,
          );
          optimizer.step();
        });
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(fabric.accelerator.name).toBe(accelerator);
      // Every kernel of an MLP's training step (GELU, cross entropy, AdamW included) runs on the engine.
      if (accelerator === "host") expect((tf.backend() as HostEngineBackend).fallbackStats()).toEqual({});
      model.dispose();
      optimizer.disposeState();
      tf.dispose([x, y]);
    }
    for (const [i, loss] of losses.host!.entries()) expect(loss).toBeCloseTo(losses.cpu![i]!, 5);
    expect(losses.host!.at(-1)!).toBeLessThan(losses.host![0]!);
  });

  type Shape4 = [number, number, number, number];
  const channelsFirstConvs: Array<
    [string, Shape4, Shape4, number | [number, number], Parameters<typeof tf.conv2d>[3], number]
  > = [
    ["3×3, same padding", [2, 3, 7, 6], [3, 3, 3, 4], 1, "same", 1],
    ["one input channel, valid", [3, 1, 9, 8], [3, 3, 1, 5], 1, "valid", 1],
    ["stride 2, same padding", [2, 3, 7, 6], [3, 3, 3, 4], 2, "same", 1],
    [
      "stride [2, 3], explicit padding",
      [2, 2, 9, 10],
      [2, 4, 2, 3],
      [2, 3],
      [
        [0, 0],
        [0, 0],
        [1, 2],
        [2, 1],
      ],
      1,
    ],
    ["dilation 2", [1, 2, 9, 9], [3, 2, 2, 3], 1, "valid", 2],
    ["a filter wider than the image with padding", [1, 2, 3, 2], [3, 5, 2, 2], 1, "same", 1],
  ];
  for (const [label, xShape, fShape, stride, pad, dilation] of channelsFirstConvs) {
    it(`NCHW Conv2D and both its gradients match tfjs's cpu kernels, natively: ${label}`, async () => {
      const x = () => tf.randomNormal(xShape, 0, 1, "float32", 41) as tf.Tensor4D;
      const filter = () => tf.randomNormal(fShape, 0, 1, "float32", 42) as tf.Tensor4D;
      const conv = (v: tf.Tensor, f: tf.Tensor) =>
        tf.conv2d(v as tf.Tensor4D, f as tf.Tensor4D, stride, pad, "NCHW", dilation);
      const weights = () => tf.randomNormal(tf.tidy(() => conv(x(), filter())).shape, 0, 1, "float32", 43);
      const forward = () => conv(x(), filter());
      await tf.setBackend(HOST_BACKEND);
      (tf.backend() as HostEngineBackend).resetFallbackStats();
      const [host, cpu, shape] = await onBoth(forward);
      expect(shape).toEqual(tf.tidy(forward).shape);
      expect(maxRelativeError(host, cpu)).toBeLessThan(1e-5);
      if (dilation === 1) {
        // tfjs differentiates Conv2D only without dilation.
        const grads = (which: 0 | 1) => () =>
          tf.grads((v: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(conv(v, f), weights())))([x(), filter()])[
            which
          ]!;
        for (const which of [0, 1] as const) {
          const [hostGrad, cpuGrad] = await onBoth(grads(which));
          expect(maxRelativeError(hostGrad, cpuGrad), `gradient ${which}`).toBeLessThan(1e-5);
        }
      }
      await tf.setBackend(HOST_BACKEND);
      const stats = (tf.backend() as HostEngineBackend).fallbackStats();
      for (const native of ["Conv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput"])
        expect(stats[native], native).toBeUndefined();
    });
  }

  // One channel is how core's NCHW pooling layers call tfjs's pooling ([N·C, H, W, 1]); the engine runs those
  // planes on their own loops, which must keep tfjs's bits.
  const singleChannelPools: Array<
    [string, Shape4, [number, number], number | [number, number], "valid" | "same"]
  > = [
    ["2×2, stride 2", [6, 8, 8, 1], [2, 2], 2, "valid"],
    ["3×3, stride 2, same (overlapping, padded)", [3, 9, 7, 1], [3, 3], 2, "same"],
    ["3×2, stride [1, 3], same", [2, 7, 11, 1], [3, 2], [1, 3], "same"],
    ["a window wider than the image", [2, 3, 2, 1], [3, 5], 1, "same"],
  ];
  for (const [label, shape, filter, stride, pad] of singleChannelPools) {
    it(`one-channel max and average pooling and their gradients keep tfjs's bits: ${label}`, async () => {
      const x = () => {
        const values = tf.randomNormal(shape, 0, 1, "float32", 44);
        // Ties and NaN: the first strictly greater value wins, NaN never does.
        return tf.where(tf.less(values, -1), tf.fill(shape, Number.NaN), tf.round(values)) as tf.Tensor4D;
      };
      const pools = {
        max: (v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, filter, stride, pad),
        avg: (v: tf.Tensor) => tf.avgPool(v as tf.Tensor4D, filter, stride, pad),
      };
      await tf.setBackend(HOST_BACKEND);
      (tf.backend() as HostEngineBackend).resetFallbackStats();
      for (const [kind, pool] of Object.entries(pools)) {
        const weights = () => tf.randomNormal(tf.tidy(() => pool(x())).shape, 0, 1, "float32", 45);
        const finite = (v: tf.Tensor) => tf.where(tf.isNaN(v), tf.zerosLike(v), v);
        const [host, cpu] = await onBoth(() => pool(x()));
        expect(Array.from(host), kind).toEqual(Array.from(cpu));
        const [hostGrad, cpuGrad] = await onBoth(() =>
          tf.grad((v: tf.Tensor) => tf.sum(tf.mul(finite(pool(v)), weights())))(x()),
        );
        expect(Array.from(hostGrad), `${kind} gradient`).toEqual(Array.from(cpuGrad));
      }
      await tf.setBackend(HOST_BACKEND);
      const stats = (tf.backend() as HostEngineBackend).fallbackStats();
      for (const native of ["MaxPool", "MaxPoolGrad", "AvgPool", "AvgPoolGrad"])
        expect(stats[native], native).toBeUndefined();
    });
  }

  it("sums over axes in several runs natively, as tfjs's cpu kernel does to float32 precision", async () => {
    await tf.setBackend(HOST_BACKEND);
    (tf.backend() as HostEngineBackend).resetFallbackStats();
    const cases: Array<[number[], number[], boolean]> = [
      [[4, 3, 5, 6], [0, 2, 3], false],
      [[4, 3, 5, 6], [0, 2, 3], true],
      [[4, 3, 5, 6], [1, 3], false],
      [[2, 3, 4, 5, 6], [0, 2, 4], true],
      [[3, 0, 4], [0, 2], false],
    ];
    for (const [shape, axes, keepDims] of cases) {
      const fn = () => tf.sum(tf.randomNormal(shape, 0, 1, "float32", 46), axes, keepDims);
      const [host, cpu, outShape] = await onBoth(fn);
      await tf.setBackend("cpu");
      expect(outShape, `${shape} over ${axes}`).toEqual(tf.tidy(fn).shape);
      expect(maxRelativeError(host, cpu), `${shape} over ${axes}`).toBeLessThan(1e-6);
    }
    await tf.setBackend(HOST_BACKEND);
    expect((tf.backend() as HostEngineBackend).fallbackStats().Sum).toBeUndefined();
  });

  it("trains a small CNN like tfjs's cpu backend, with convolutions, pooling and transposes native", async () => {
    const losses: Record<string, number[]> = {};
    for (const accelerator of ["host", "cpu"]) {
      const fabric = new Fabric({ accelerator });
      await fabric.launch();
      if (accelerator === "host") (tf.backend() as HostEngineBackend).resetFallbackStats();
      manualSeed(9);
      const model = new nn.Sequential(
        new nn.Conv2d(2, 6, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(6, 8, 3, { stride: 2 }),
        new nn.Flatten(),
        new nn.Linear(8 * 2 * 2, 3),
      );
      const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: 1e-2 }));
      const x = tf.randomNormal([8, 2, 12, 12], 0, 1, "float32", 11);
      const y = tf.tensor1d(
        Array.from({ length: 8 }, (_, i) => i % 3),
        "int32",
      );
      losses[accelerator] = [];
      for (let step = 0; step < 5; step++) {
        tf.tidy(() => {
          optimizer.zeroGrad();
          losses[accelerator]!.push(
            fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar).dataSync()[0]!,
          );
          optimizer.step();
        });
      }
      if (accelerator === "host") {
        const stats = (tf.backend() as HostEngineBackend).fallbackStats();
        for (const native of [
          "Conv2D",
          "Conv2DBackpropFilter",
          "Conv2DBackpropInput",
          "MaxPool",
          "MaxPoolGrad",
          "Transpose",
        ])
          expect(stats[native], native).toBeUndefined();
      }
      model.dispose();
      optimizer.disposeState();
      tf.dispose([x, y]);
    }
    for (const [i, loss] of losses.host!.entries()) expect(loss).toBeCloseTo(losses.cpu![i]!, 5);
  });

  /** `run`'s values on the host engine with all its threads equal those with one thread. */
  async function expectSameBitsOnOneThread(run: () => number[][]): Promise<void> {
    const engine = loadEngine();
    const all = engine.threads();
    await tf.setBackend(HOST_BACKEND);
    const parallel = run();
    engine.setThreads(1);
    try {
      expect(run()).toEqual(parallel);
    } finally {
      engine.setThreads(all);
    }
  }

  it("element-wise work split over threads gives the same bits as one thread", async () => {
    const run = () =>
      tf.tidy(() => {
        // Large enough for every one of these kernels to split (300k values, 600 rows).
        const x = tf.randomNormal([600, 513], 0, 2, "float32", 31);
        const gelu = new nn.GELU();
        const norm = new nn.LayerNorm(513);
        const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gelu.forward(v), x)))(x);
        const out = [tf.exp(x), tf.erf(x), tf.softmax(x), dx, norm.forward(x)].map((t) =>
          Array.from(t.dataSync()),
        );
        norm.dispose();
        return out;
      });
    await expectSameBitsOnOneThread(run);
  });

  it("convolutions and one-channel pooling split over threads give the same bits as one thread", async () => {
    const run = () =>
      tf.tidy(() => {
        // Large enough to split: 64 images of 2^19 multiply-adds each, 692k pooled pixels.
        const images = tf.randomNormal([64, 16, 13, 13], 0, 1, "float32", 32);
        const filter = tf.randomNormal([3, 3, 16, 32], 0, 1, "float32", 33);
        const planes = tf.randomNormal([1024, 26, 26, 1], 0, 1, "float32", 34);
        const out: tf.Tensor[] = [];
        for (const dataFormat of ["NCHW", "NHWC"] as const) {
          const x = dataFormat === "NCHW" ? images : tf.transpose(images, [0, 2, 3, 1]);
          const conv = (v: tf.Tensor, f: tf.Tensor) =>
            tf.conv2d(v as tf.Tensor4D, f as tf.Tensor4D, 1, "valid", dataFormat);
          out.push(
            conv(x, filter),
            ...tf.grads((v: tf.Tensor, f: tf.Tensor) => tf.sum(tf.square(conv(v, f))))([x, filter]),
          );
        }
        for (const pool of [tf.maxPool, tf.avgPool]) {
          const pooled = (v: tf.Tensor) => pool(v as tf.Tensor4D, 2, 2, "valid");
          out.push(pooled(planes), tf.grad((v: tf.Tensor) => tf.sum(tf.square(pooled(v))))(planes));
        }
        return out.map((t) => Array.from(t.dataSync()));
      });
    await expectSameBitsOnOneThread(run);
  });

  it("uses this process's share of the cores", async () => {
    const accelerator = new HostAccelerator();
    const saved = process.env.LOCAL_WORLD_SIZE;
    process.env.LOCAL_WORLD_SIZE = "2";
    try {
      await accelerator.setup();
      expect(accelerator.threads()).toBe(
        Math.max(1, Math.floor((await import("node:os")).cpus().length / 2)),
      );
    } finally {
      if (saved === undefined) delete process.env.LOCAL_WORLD_SIZE;
      else process.env.LOCAL_WORLD_SIZE = saved;
      await accelerator.setup();
    }
  });
});

import { backward, type Module, manualSeed, nn, SGD, tf } from "@fulmen/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fabric, WasmAccelerator } from "../src/index";

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  return fn();
}

function lossAndGrads(model: Module, loss: () => tf.Scalar): { loss: number; grads: number[][] } {
  for (const p of model.parameters()) p.setGrad(null);
  const value = backward(loss, model);
  const out = {
    loss: value.dataSync()[0]!,
    grads: model.parameters().map((p) => Array.from(p.grad!.dataSync())),
  };
  value.dispose();
  return out;
}

function expectClose(a: number[], b: number[], tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  const scale = Math.max(1, ...b.map(Math.abs));
  a.forEach((v, i) => {
    expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(tol * scale);
  });
}

beforeAll(async () => {
  await new WasmAccelerator().setup();
});

afterAll(async () => {
  await tf.setBackend("cpu");
});

type TensorModule = Module & { forward(x: tf.Tensor): tf.Tensor };

const cases: Array<[string, () => TensorModule, () => tf.Tensor, (out: tf.Tensor) => tf.Scalar]> = [
  [
    "Linear (x Wᵀ, transposed gradients)",
    () => new nn.Linear(7, 5),
    () => tf.randomNormal([6, 7], 0, 1, "float32", 1),
    (y) => tf.sum(tf.square(y)) as tf.Scalar,
  ],
  [
    "Conv2d stride 1, padding 1",
    () => new nn.Conv2d(3, 4, 3, { padding: 1 }),
    () => tf.randomNormal([2, 3, 6, 6], 0, 1, "float32", 2),
    (y) => tf.sum(tf.square(y)) as tf.Scalar,
  ],
  [
    "Conv2d stride 2, padding 1",
    () => new nn.Conv2d(3, 4, 3, { padding: 1, stride: 2 }),
    () => tf.randomNormal([2, 3, 7, 7], 0, 1, "float32", 3),
    (y) => tf.sum(tf.square(y)) as tf.Scalar,
  ],
  [
    "Conv2d 5x5 valid, groups 2",
    () => new nn.Conv2d(4, 6, 5, { groups: 2 }),
    () => tf.randomNormal([2, 4, 9, 8], 0, 1, "float32", 4),
    (y) => tf.sum(tf.square(y)) as tf.Scalar,
  ],
  [
    "Conv2d stride 2, 'same'-style padding 2 on a 4x4 kernel",
    () => new nn.Conv2d(2, 3, 4, { padding: 2, stride: 2 }),
    () => tf.randomNormal([1, 2, 8, 8], 0, 1, "float32", 5),
    (y) => tf.sum(tf.square(y)) as tf.Scalar,
  ],
  [
    "LayerNorm + GELU",
    () => new nn.Sequential(new nn.LayerNorm(6), new nn.GELU()),
    () => tf.randomNormal([4, 6], 0, 1, "float32", 6),
    (y) => tf.sum(tf.mul(y, y)) as tf.Scalar,
  ],
  [
    "Conv2d + BatchNorm2d + MaxPool2d + AvgPool2d",
    () =>
      new nn.Sequential(
        new nn.Conv2d(2, 4, 3, { padding: 1 }),
        new nn.BatchNorm2d(4),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.AvgPool2d(2),
      ),
    () => tf.randomNormal([2, 2, 8, 8], 0, 1, "float32", 8),
    (y) => tf.sum(tf.square(y)) as tf.Scalar,
  ],
  [
    "MLP with cross entropy",
    () => new nn.Sequential(new nn.Linear(5, 8), new nn.Tanh(), new nn.Linear(8, 3)),
    () => tf.randomNormal([4, 5], 0, 1, "float32", 7),
    (y) => nn.crossEntropy(y, [0, 2, 1, 2], { labelSmoothing: 0.1 }) as tf.Scalar,
  ],
];

describe("the wasm accelerator trains every layer as the cpu backend does", () => {
  for (const [name, makeModel, makeInput, loss] of cases) {
    it(name, async () => {
      manualSeed(11);
      const model = makeModel();
      const x = await onBackend("cpu", makeInput);
      const cpu = await onBackend("cpu", () =>
        lossAndGrads(model, () => loss(model.forward(x) as tf.Tensor)),
      );
      const wasm = await onBackend("wasm", () =>
        lossAndGrads(model, () => loss(model.forward(x) as tf.Tensor)),
      );
      expect(tf.getBackend()).toBe("wasm");
      expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.loss)));
      wasm.grads.forEach((g, i) => {
        expectClose(g, cpu.grads[i]!);
      });
    });
  }

  it("Embedding (gather's gradient, UnsortedSegmentSum)", async () => {
    manualSeed(12);
    const emb = new nn.Embedding(10, 3, { paddingIdx: 0 });
    const idx = await onBackend("cpu", () =>
      tf.tensor2d(
        [
          [1, 2, 0],
          [2, 9, 2],
        ],
        undefined,
        "int32",
      ),
    );
    const loss = () => tf.sum(tf.square(emb.forward(idx))) as tf.Scalar;
    const cpu = await onBackend("cpu", () => lossAndGrads(emb, loss));
    const wasm = await onBackend("wasm", () => lossAndGrads(emb, loss));
    expectClose(wasm.grads[0]!, cpu.grads[0]!);
  });

  it("is chosen by Fabric by name and trains a model", async () => {
    const fabric = new Fabric({ accelerator: "wasm" });
    await fabric.launch();
    expect(tf.getBackend()).toBe("wasm");
    expect(fabric.device).toBe("wasm:0");
    manualSeed(13);
    const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 2));
    const [m, opt] = fabric.setup(model, new SGD(model, { lr: 0.5 }));
    const x = tf.randomNormal([32, 4], 0, 1, "float32", 14);
    const y = tf.cast(tf.greater(tf.sum(x, 1), 0), "int32");
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      opt.zeroGrad();
      const loss = fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar);
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      opt.step();
    }
    expect(losses[29]!).toBeLessThan(losses[0]! * 0.5);
  });
});

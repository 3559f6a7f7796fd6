import { AdamW, backward, clipGradNorm_, manualSeed, nn, SGD, tf } from "@fulmen/core";
import { beforeAll, describe, expect, it } from "vitest";
import { Fabric } from "../src/index";

function makeModel() {
  manualSeed(7);
  return new nn.Sequential(new nn.Linear(6, 16), new nn.Tanh(), new nn.Linear(16, 4));
}

function batch(i: number): [tf.Tensor, tf.Tensor] {
  // tfjs treats seed 0 as "no seed", so seeds start at 1.
  return [tf.randomNormal([8, 6], 0, 1, "float32", i + 1), tf.tensor1d([0, 1, 2, 3, 3, 2, 1, 0], "int32")];
}

beforeAll(async () => {
  await new Fabric().launch();
});

describe("Fabric on one device", () => {
  it("chooses Lightning's defaults", () => {
    const fabric = new Fabric();
    // "auto" picks the fastest accelerator installed: wasm (an optional dependency) before cpu.
    expect(fabric.accelerator.name).toBe("wasm");
    expect(fabric.strategy.name).toBe("single_device");
    expect(fabric.precision.name).toBe("32-true");
    expect(fabric.device).toBe("wasm:0");
    expect(new Fabric({ accelerator: "cpu" }).device).toBe("cpu:0");
    expect([
      fabric.worldSize,
      fabric.globalRank,
      fabric.localRank,
      fabric.nodeRank,
      fabric.isGlobalZero,
    ]).toEqual([1, 0, 0, 0, true]);
    expect(new Fabric({ precision: 32 }).precision.name).toBe("32-true");
  });

  it("names what is wrong with bad plugin choices, and where valid ones live", () => {
    expect(() => new Fabric({ strategy: "fsdp" })).toThrow(/provided by @fulmen\/strategy-fsdp/);
    expect(() => new Fabric({ strategy: "nope" })).toThrow(
      /Unknown strategy "nope". Valid names: "ddp" \(@fulmen\/fabric\), "single_device" \(@fulmen\/fabric\)/,
    );
    expect(() => new Fabric({ accelerator: "tpu" })).toThrow(/Unknown accelerator "tpu". Valid names: "cpu"/);
    expect(() => new Fabric({ precision: 64 })).toThrow(/no float64/);
    expect(() => new Fabric({ precision: "transformer-engine" })).toThrow(
      /Unknown precision "transformer-engine". Valid names: .*"32-true" \(@fulmen\/precision\)/,
    );
    expect(new Fabric({ precision: "bf16" }).precision.name).toBe("bf16-mixed");
    expect(new Fabric({ precision: 16 }).precision.name).toBe("16-mixed");
    const twoDevices = new Fabric({ accelerator: "cpu", devices: 2 });
    expect([twoDevices.strategy.name, twoDevices.worldSize]).toEqual(["ddp", 2]);
    expect(() => new Fabric({ devices: 0 })).toThrow(/devices must be a positive integer/);
    expect(() => new Fabric({ precison: "32-true" } as never)).toThrow(/unknown option 'precison'/);
  });

  it("trains bit for bit like the same loop without Fabric", () => {
    const plain = makeModel();
    const plainOpt = new AdamW(plain, { lr: 0.01 });
    for (let i = 0; i < 10; i++) {
      tf.tidy(() => {
        const [x, y] = batch(i);
        plainOpt.zeroGrad();
        backward(() => nn.crossEntropy(plain.forward(x), y) as tf.Scalar, plain);
        clipGradNorm_(plain, 0.5);
        plainOpt.step();
      });
    }

    const fabric = new Fabric({ accelerator: "cpu" });
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new AdamW(model, { lr: 0.01 }));
    for (let i = 0; i < 10; i++) {
      tf.tidy(() => {
        const [x, y] = batch(i);
        fo.zeroGrad();
        fabric.backward(() => nn.crossEntropy(fm.forward(x), y) as tf.Scalar, fm);
        fabric.clipGradients(fm, fo, { maxNorm: 0.5 });
        fo.step();
      });
    }
    const a = plain.parameters().map((p) => Array.from(p.data.dataSync()));
    const b = fm.parameters().map((p) => Array.from(p.data.dataSync()));
    expect(b).toEqual(a);
  });

  it("keeps tf.memory().numTensors flat over a Fabric loop", () => {
    const fabric = new Fabric();
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new SGD(model, { lr: 0.1, momentum: 0.9 }));
    const step = (i: number) =>
      tf.tidy(() => {
        const [x, y] = batch(i);
        fo.zeroGrad();
        fabric.backward(() => nn.crossEntropy(fm.forward(x), y) as tf.Scalar);
        fo.step();
      });
    step(0);
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 50; i++) step(i);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("clips by norm (returning the norm) or by value, never both", () => {
    const fabric = new Fabric();
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
    const [x, y] = batch(1);
    fabric.backward(() => nn.crossEntropy(fm.forward(x), y) as tf.Scalar).dispose();
    const norm = fabric.clipGradients(fm, fo, { maxNorm: 1e-3 })!;
    expect(norm.dataSync()[0]).toBeGreaterThan(1e-3);
    const after = clipGradNorm_(fm, 1e9);
    expect(after.dataSync()[0]).toBeCloseTo(1e-3, 5);
    expect(fabric.clipGradients(fm, fo, { clipVal: 1e-5 })).toBeNull();
    expect(
      Math.max(...fm.parameters().map((p) => Math.max(...Array.from(p.grad!.dataSync()).map(Math.abs)))),
    ).toBeLessThanOrEqual(1e-5);
    expect(() => fabric.clipGradients(fm, fo, { maxNorm: 1, clipVal: 1 })).toThrow(/exactly one/);
  });

  it("has identity collectives with the shapes of a world of one", () => {
    const fabric = new Fabric();
    const t = tf.tensor2d([[1, 2]]);
    expect(fabric.allReduce(t).arraySync()).toEqual([[1, 2]]);
    expect(fabric.allReduce(t, { reduceOp: "sum" }).arraySync()).toEqual([[1, 2]]);
    expect(fabric.allGather(t).shape).toEqual([1, 2]);
    expect(fabric.broadcast({ a: 1 })).toEqual({ a: 1 });
    expect(() => fabric.broadcast(1, 1)).toThrow(/src 1/);
    expect(() => fabric.barrier()).not.toThrow();
  });

  it("calls callbacks by name and after each optimizer step", () => {
    const seen: string[] = [];
    const fabric = new Fabric({
      callbacks: [
        { onAfterOptimizerStep: () => seen.push("step"), onAfterSetup: () => seen.push("setup") },
        { onTrainEpochEnd: (n: number) => seen.push(`epoch ${n}`) },
      ],
    });
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
    const [x, y] = batch(2);
    fabric.backward(() => nn.crossEntropy(fm.forward(x), y) as tf.Scalar).dispose();
    fo.step();
    fabric.call("onTrainEpochEnd", 3);
    fabric.call("noSuchHook");
    expect(seen).toEqual(["setup", "step", "epoch 3"]);
  });

  it("refuses to set up the same module twice and to differentiate before setup", () => {
    const fabric = new Fabric();
    expect(() => fabric.backward(() => tf.scalar(0))).toThrow(/no module has been set up/);
    const fm = fabric.setup(makeModel());
    expect(() => fabric.setup(fm)).toThrow(/already set up/);
  });

  it("trains under bf16-mixed with bf16 gradients and float32 outputs", () => {
    const fabric = new Fabric({ precision: "bf16-mixed" });
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
    const [x, y] = batch(3);
    const logits = fm.forward(x) as tf.Tensor;
    expect(logits.dtype).toBe("float32");
    fabric.backward(() => nn.crossEntropy(fm.forward(x), y) as tf.Scalar).dispose();
    const bf16 = (v: number) => (new Uint32Array(new Float32Array([v]).buffer)[0]! & 0xffff) === 0;
    for (const p of fm.parameters()) expect(Array.from(p.grad!.dataSync()).every(bf16)).toBe(true);
    fo.step();
  });

  it("unscales 16-mixed gradients before clipping them", () => {
    const fabric = new Fabric({ precision: "16-mixed" });
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
    const [x, y] = batch(4);
    fabric.backward(() => nn.crossEntropy(fm.forward(x), y) as tf.Scalar).dispose();
    const norm = fabric.clipGradients(fm, fo, { maxNorm: 100 })!.dataSync()[0]!;
    expect(norm).toBeGreaterThan(0.01);
    expect(norm).toBeLessThan(10);
    expect(fo.step()).toBe(true);
  });
});

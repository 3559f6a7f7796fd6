import { backward, manualSeed, nn, roundBfloat16, roundFloat16, SGD, type tf as TF, tf } from "@fulmen/core";
import { withAutocast } from "@fulmen/core/plugin";
import { describe, expect, it } from "vitest";
import { bfloat16, float16, HalfPrecision, MixedPrecision } from "../src/index";

const isBf16 = (v: number) => roundBfloat16(v) === v;

function linearByHand(x: number[][], w: number[][], b: number[], round: (v: number) => number): number[][] {
  return x.map((row) =>
    w.map((wRow, o) => {
      let s = 0;
      for (let i = 0; i < row.length; i++) s += Math.fround(round(row[i]!) * round(wRow[i]!));
      return round(Math.fround(s + round(b[o]!)));
    }),
  );
}

describe("autocast emulation", () => {
  it("runs Linear in bf16: inputs, weight and bias rounded, float32 accumulation, output rounded", () => {
    manualSeed(3);
    const lin = new nn.Linear(5, 3);
    const x = tf.randomNormal([4, 5], 0, 1, "float32", 11);
    const y = withAutocast({ format: bfloat16, mode: "mixed" }, () => lin.forward(x));
    const expected = linearByHand(
      x.arraySync() as number[][],
      lin.weight.data.arraySync() as number[][],
      lin.bias!.data.arraySync() as number[],
      roundBfloat16,
    );
    const got = y.arraySync() as number[][];
    got.flat().forEach((v, i) => {
      expect(isBf16(v)).toBe(true);
      expect(Math.abs(v - expected.flat()[i]!)).toBeLessThanOrEqual(Math.abs(expected.flat()[i]!) * 2 ** -7);
    });
  });

  it("gives bf16 gradients to parameters used in bf16, and float32 losses", () => {
    manualSeed(4);
    const model = new nn.Sequential(new nn.Linear(6, 8), new nn.Tanh(), new nn.Linear(8, 3));
    const x = tf.randomNormal([5, 6], 0, 1, "float32", 12);
    const loss = backward(
      () =>
        withAutocast({ format: bfloat16, mode: "mixed" }, () =>
          nn.crossEntropy(model.forward(x), [0, 1, 2, 1, 0]),
        ) as TF.Scalar,
      model,
    );
    expect(isBf16(loss.dataSync()[0]!)).toBe(false);
    for (const p of model.parameters()) expect(Array.from(p.grad!.dataSync()).every(isBf16)).toBe(true);
    const plain = new nn.Sequential(new nn.Linear(6, 8), new nn.Tanh(), new nn.Linear(8, 3));
    plain.loadStateDict(model.stateDict());
    backward(() => nn.crossEntropy(plain.forward(x), [0, 1, 2, 1, 0]) as TF.Scalar, plain).dispose();
    const a = model.parameters()[0]!.grad!.dataSync();
    const b = plain.parameters()[0]!.grad!.dataSync();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    let num = 0;
    let den = 0;
    a.forEach((v, i) => {
      num += (v - b[i]!) ** 2;
      den += b[i]! ** 2;
    });
    expect(Math.sqrt(num / den)).toBeLessThan(2e-2);
  });

  it("leaves computation in float32 outside an autocast region", () => {
    const lin = new nn.Linear(3, 2);
    const y = lin.forward(tf.tensor2d([[0.1, 0.2, 0.3]]));
    expect(Array.from(y.dataSync()).some((v) => !isBf16(v))).toBe(true);
  });
});

describe("precision plugins", () => {
  it("16-mixed scales the loss, skips a step whose half gradients overflow, and backs off", () => {
    const precision = new MixedPrecision(float16);
    const lin = new nn.Linear(2, 1, { bias: false });
    lin.weight.assign(tf.tensor2d([[0.5, 0.25]]));
    const opt = new SGD(lin, { lr: 0.1 });
    const before = precision.scaler!.getScale();
    const run = (x: number[][]) =>
      precision.backward(
        () => tf.sum(precision.forwardContext(() => lin.forward(tf.tensor2d(x)))) as TF.Scalar,
        lin,
      );
    // dL/dW = x · scale = 1000 · 65536, beyond float16's range: the half gradient is infinite.
    expect(run([[1000, 1000]]).dataSync()[0]).toBe(750);
    expect(precision.optimizerStep(opt)).toBe(false);
    expect(Array.from(lin.weight.data.dataSync())).toEqual([0.5, 0.25]);
    expect(precision.scaler!.getScale()).toBe(before / 2);
    opt.zeroGrad();
    expect(run([[1, 0.5]]).dataSync()[0]).toBe(0.625);
    expect(Array.from(lin.weight.grad!.dataSync())).toEqual([before / 2, before / 4]);
    expect(precision.optimizerStep(opt)).toBe(true);
    expect(Array.from(lin.weight.data.dataSync()).map((v) => Number(v.toFixed(4)))).toEqual([0.4, 0.2]);
    expect(precision.stateDict()).toEqual({ scaler: expect.objectContaining({ scale: before / 2 }) });
  });

  it("bf16-true keeps parameters in bf16 after setup and after every step", () => {
    manualSeed(5);
    const precision = new HalfPrecision(bfloat16);
    const model = precision.convertModule(
      new nn.Sequential(new nn.Linear(4, 4), new nn.ReLU(), new nn.Linear(4, 2)),
    );
    for (const p of model.parameters()) expect(Array.from(p.data.dataSync()).every(isBf16)).toBe(true);
    const opt = new SGD(model, { lr: 0.0123, momentum: 0.9 });
    const x = precision.convertInput(tf.randomNormal([3, 4], 0, 1, "float32", 13));
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      precision
        .backward(
          () =>
            nn.crossEntropy(
              precision.forwardContext(() => model.forward(x)) as TF.Tensor,
              [0, 1, 1],
            ) as TF.Scalar,
          model,
        )
        .dispose();
      precision.optimizerStep(opt);
    }
    for (const p of model.parameters()) expect(Array.from(p.data.dataSync()).every(isBf16)).toBe(true);
  });

  it("16-true rounds to float16 and refuses nothing it cannot represent silently: overflow becomes infinity", () => {
    const precision = new HalfPrecision(float16);
    const x = precision.convertInput(tf.tensor1d([70000, 0.1]));
    expect(Array.from(x.dataSync())).toEqual([Number.POSITIVE_INFINITY, roundFloat16(0.1)]);
  });

  it("bf16-mixed refuses a GradScaler", () => {
    expect(() => new MixedPrecision(bfloat16, new (class extends Object {})() as never)).toThrow(
      /does not use a GradScaler/,
    );
  });
});

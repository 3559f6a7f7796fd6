import { describe, expect, it } from "vitest";
import { nn, tf } from "../src/index";

const logits = tf.tensor2d([
  [1, 2, 3],
  [1, -1, 0.5],
  [0, 0, 0],
]);

function logSoftmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

const rows = logits.arraySync() as number[][];
const lp = rows.map(logSoftmaxRow);

describe("losses", () => {
  it("crossEntropy averages the negative log-likelihood of the targets", () => {
    const expected = -(lp[0]![2]! + lp[1]![0]! + lp[2]![1]!) / 3;
    expect(nn.crossEntropy(logits, [2, 0, 1]).dataSync()[0]).toBeCloseTo(expected, 6);
    expect(nn.crossEntropy(logits, [2, 0, 1], { reduction: "sum" }).dataSync()[0]).toBeCloseTo(
      expected * 3,
      5,
    );
    const none = nn.crossEntropy(logits, [2, 0, 1], { reduction: "none" });
    expect(none.shape).toEqual([3]);
  });

  it("crossEntropy ignores targets equal to ignoreIndex in the sum and in the mean's count", () => {
    const expected = -(lp[0]![2]! + lp[2]![1]!) / 2;
    expect(nn.crossEntropy(logits, [2, -100, 1]).dataSync()[0]).toBeCloseTo(expected, 6);
  });

  it("crossEntropy with label smoothing mixes in the uniform distribution, as PyTorch does", () => {
    const eps = 0.1;
    const perRow = (r: number, t: number) =>
      (1 - eps) * -lp[r]![t]! + (eps / 3) * -lp[r]!.reduce((a, b) => a + b, 0);
    const expected = (perRow(0, 2) + perRow(1, 0) + perRow(2, 1)) / 3;
    expect(nn.crossEntropy(logits, [2, 0, 1], { labelSmoothing: eps }).dataSync()[0]).toBeCloseTo(
      expected,
      6,
    );
  });

  it("crossEntropy with class weights divides by the summed target weights", () => {
    const w = tf.tensor1d([1, 2, 3]);
    const expected = (3 * -lp[0]![2]! + 1 * -lp[1]![0]! + 2 * -lp[2]![1]!) / 6;
    expect(nn.crossEntropy(logits, [2, 0, 1], { weight: w }).dataSync()[0]).toBeCloseTo(expected, 6);
  });

  it("crossEntropy accepts [N, C, d] logits with [N, d] targets", () => {
    const x = tf.transpose(tf.reshape(logits, [1, 3, 3]), [0, 2, 1]);
    const flat = nn.crossEntropy(logits, [2, 0, 1]).dataSync()[0]!;
    expect(nn.crossEntropy(x, tf.tensor2d([[2, 0, 1]], undefined, "int32")).dataSync()[0]).toBeCloseTo(
      flat,
      6,
    );
  });

  it("crossEntropy names mismatched target shapes and wrong dtypes", () => {
    expect(() => nn.crossEntropy(logits, [1, 2])).toThrow(/target shape \[2\]/);
    expect(() => nn.crossEntropy(logits, tf.tensor1d([1, 2, 0]))).toThrow(/int32/);
    expect(() => nn.crossEntropy(logits, [1, 2, 0], { label_smoothing: 0.1 } as never)).toThrow(
      /labelSmoothing/,
    );
  });

  it("mseLoss and binaryCrossEntropyWithLogits match their formulas", () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([1, 0, 5]);
    expect(nn.mseLoss(a, b).dataSync()[0]).toBeCloseTo((0 + 4 + 4) / 3, 6);
    const x = [0.5, -2, 3];
    const y = [1, 0, 1];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const bce = x.map((v, i) => -(y[i]! * Math.log(sig(v)) + (1 - y[i]!) * Math.log(1 - sig(v))));
    const got = nn.binaryCrossEntropyWithLogits(tf.tensor1d(x), tf.tensor1d(y)).dataSync()[0]!;
    expect(got).toBeCloseTo(bce.reduce((s, v) => s + v, 0) / 3, 6);
    const pw = nn.binaryCrossEntropyWithLogits(tf.tensor1d(x), tf.tensor1d(y), { posWeight: tf.scalar(2) });
    const weighted = x.map((v, i) => -(2 * y[i]! * Math.log(sig(v)) + (1 - y[i]!) * Math.log(1 - sig(v))));
    expect(pw.dataSync()[0]).toBeCloseTo(weighted.reduce((s, v) => s + v, 0) / 3, 6);
  });
});

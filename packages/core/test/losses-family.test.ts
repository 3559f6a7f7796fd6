import { describe, expect, it } from "vitest";
import { nn, tf } from "../src/index";

const F = nn.functional;

/** The loss and its gradient for `x`. */
function valueAndGrad(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): { value: number[]; grad: number[] } {
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => f(t) as tf.Scalar)(x);
  const out = { value: Array.from(value.dataSync()), grad: Array.from(grad.dataSync()) };
  tf.dispose([value, grad]);
  return out;
}

describe("losses family: PyTorch's edge behaviour", () => {
  const logp = tf.logSoftmax(tf.tensor2d([0.3, -1, 2, 0.1, 0.5, 0.7], [2, 3]));

  it("an all-ignored batch gives NaN for mean (gradient 0) and 0 for sum, as PyTorch 1.13", () => {
    const ignored = tf.tensor1d([-100, -100], "int32");
    const mean = valueAndGrad((x) => F.nllLoss(x, ignored), logp);
    expect(Number.isNaN(mean.value[0])).toBe(true);
    expect(mean.grad.every((g) => g === 0)).toBe(true);
    const ce = valueAndGrad((x) => F.crossEntropy(x, ignored, { labelSmoothing: 0.1 }), logp);
    expect(Number.isNaN(ce.value[0])).toBe(true);
    expect(ce.grad.every((g) => g === 0)).toBe(true);
    expect(F.nllLoss(logp, ignored, { reduction: "sum" }).dataSync()[0]).toBe(0);
  });

  it("nllLoss refuses out-of-range targets, float targets and wrong shapes instead of counting them as 0", () => {
    expect(() => F.nllLoss(logp, [0, 3])).toThrow(/target 3 is out of bounds for 3 classes/);
    expect(() => F.nllLoss(logp, tf.tensor1d([0, 1]))).toThrow(/must be int32/);
    expect(() => F.nllLoss(logp, [0, 1, 2])).toThrow(/target shape \[3\] does not match/);
    expect(() => F.nllLoss(logp, [0, 1], { ignore_index: 1 } as never)).toThrow(/did you mean 'ignoreIndex'/);
    expect(() => F.l1Loss(logp, logp, { reduction: "avg" as never })).toThrow(/unknown reduction 'avg'/);
  });

  it("takes PyTorch's slopes at the kinks: l1 0 at d = 0, smooth L1 with beta 0 -1 at d = 0", () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.tensor1d([1, 1.5, 3]);
    expect(valueAndGrad((t) => F.l1Loss(t, y, { reduction: "sum" }), x).grad).toEqual([0, 1, 0]);
    expect(valueAndGrad((t) => F.smoothL1Loss(t, y, { reduction: "sum", beta: 0 }), x).grad).toEqual([
      -1, 1, -1,
    ]);
    expect(valueAndGrad((t) => F.huberLoss(t, y, { reduction: "sum", delta: 0.25 }), x).grad).toEqual([
      0, 0.25, 0,
    ]);
    expect(() => F.smoothL1Loss(x, y, { beta: -1 })).toThrow(/beta/);
    expect(() => F.huberLoss(x, y, { delta: 0 })).toThrow(/delta/);
  });

  it("binaryCrossEntropy clamps each log at -100 and floors the gradient's denominator at 1e-12", () => {
    const p = tf.tensor1d([0, 0.3, 1]);
    const y = tf.tensor1d([0.2, 0.5, 0.7]);
    const { value, grad } = valueAndGrad((t) => F.binaryCrossEntropy(t, y, { reduction: "none" }), p);
    expect(value[0]).toBeCloseTo(20, 4);
    expect(value[2]).toBeCloseTo(30, 4);
    expect(grad[0]).toBeCloseTo(-2e11, -6);
    expect(() => F.binaryCrossEntropy(p, tf.tensor2d([[0, 1, 0]]))).toThrow(/same shape/);
    expect(() => F.binaryCrossEntropy(p, y, { weight: tf.ones([2, 3]) })).toThrow(
      /does not broadcast to the input's shape/,
    );
  });

  it("klDiv: batchmean divides by the batch, mean by every element; a zero target contributes 0", () => {
    const q = tf.tensor2d([0, 0.5, 0.5, 0.2, 0.3, 0.5], [2, 3]);
    const sum = F.klDiv(logp, q, { reduction: "sum" }).dataSync()[0]!;
    expect(F.klDiv(logp, q, { reduction: "batchmean" }).dataSync()[0]).toBeCloseTo(sum / 2, 6);
    expect(F.klDiv(logp, q).dataSync()[0]).toBeCloseTo(sum / 6, 6);
    expect(Number.isFinite(sum)).toBe(true);
  });

  it("ctcLoss: infinite loss for an impossible alignment unless zeroInfinity; lengths positional or by keyword", () => {
    const lp = tf.logSoftmax(tf.randomNormal([4, 2, 3], 0, 1, "float32", 3));
    const targets = tf.tensor2d([1, 1, 2, 2, 1, 0], [2, 3], "int32");
    const none = F.ctcLoss(lp, targets, [4, 4], [3, 2], { reduction: "none" }).dataSync();
    // 1 1 2 needs a blank between the repeated 1s: 4 steps suffice; 2 1 needs 2.
    expect(Number.isFinite(none[0])).toBe(true);
    const impossible = F.ctcLoss(lp, targets, [2, 4], [3, 2], { reduction: "none" }).dataSync();
    expect(impossible[0]).toBe(Number.POSITIVE_INFINITY);
    const zeroed = valueAndGrad(
      (x) => F.ctcLoss(x, targets, [2, 4], [3, 2], { reduction: "sum", zeroInfinity: true }),
      lp,
    );
    expect(zeroed.value[0]).toBeCloseTo(none[1]!, 5);
    const keyword = F.ctcLoss(lp, targets, {
      inputLengths: [4, 4],
      targetLengths: [3, 2],
      reduction: "none",
    });
    expect(Array.from(keyword.dataSync())).toEqual(Array.from(none));
    expect(() => F.ctcLoss(lp, targets, [4, 4], [3, 2], { blank: 3 })).toThrow(/blank 3/);
    expect(() => F.ctcLoss(lp, targets, [5, 4], [3, 2])).toThrow(/exceeds the 4 steps/);
    expect(() => F.ctcLoss(lp, tf.tensor2d([0, 1], [2, 1], "int32"), [4, 4], [1, 1])).toThrow(
      /other than the blank/,
    );
  });

  it("NLLLoss and BCELoss keep their weight as PyTorch's buffer 'weight', loaded from a state dict", () => {
    const loss = new nn.NLLLoss({ weight: tf.tensor1d([1, 2, 3]) });
    expect(Object.keys(loss.stateDict())).toEqual(["weight"]);
    loss.loadStateDict({ weight: tf.tensor1d([0, 0, 1]) });
    // Only class 2 counts now: -logp[1][2] / 1.
    const v = loss.forward(logp, tf.tensor1d([0, 2], "int32")).dataSync()[0]!;
    expect(v).toBeCloseTo(-logp.arraySync()[1]![2]!, 6);
    expect(Object.keys(new nn.BCELoss().stateDict())).toEqual([]);
    const ce = new nn.CrossEntropyLoss({ weight: tf.tensor1d([1, 2, 3]), labelSmoothing: 0.1 });
    expect(Object.keys(ce.stateDict())).toEqual(["weight"]);
    const bce = new nn.BCEWithLogitsLoss({ posWeight: tf.tensor1d([2, 3]) });
    expect(Object.keys(bce.stateDict())).toEqual(["pos_weight"]);
    expect(() => new nn.TripletMarginLoss({ swapped: true } as never)).toThrow(/unknown option 'swapped'/);
  });

  it("trains without leaking tensors through every loss", () => {
    const w = tf.variable(tf.randomNormal([4, 3], 0, 1, "float32", 1));
    const x = tf.randomNormal([5, 4], 0, 1, "float32", 2);
    const cls = tf.tensor1d([0, 2, 1, 1, 0], "int32");
    const y = tf.sigmoid(tf.randomNormal([5, 3], 0, 1, "float32", 4));
    const opt = tf.train.sgd(0.1);
    const step = () =>
      opt.minimize(() => {
        const out = tf.matMul(x, w);
        const lp = tf.logSoftmax(out);
        const terms = [
          F.nllLoss(lp, cls),
          F.l1Loss(out, y),
          F.smoothL1Loss(out, y, { beta: 0.5 }),
          F.huberLoss(out, y),
          F.binaryCrossEntropy(tf.sigmoid(out), y),
          F.klDiv(lp, tf.softmax(y), { reduction: "batchmean" }),
          F.cosineEmbeddingLoss(out, y, tf.tensor1d([1, -1, 1, -1, 1])),
          F.marginRankingLoss(tf.sum(out, 1), tf.sum(y, 1), tf.tensor1d([1, -1, 1, 1, -1])),
          F.tripletMarginLoss(out, y, tf.reverse(y, 0), { swap: true }),
          F.ctcLoss(tf.expandDims(lp, 1), tf.tensor2d([[1, 2]], [1, 2], "int32"), [5], [2]),
        ];
        return tf.addN(terms) as tf.Scalar;
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
  });
});

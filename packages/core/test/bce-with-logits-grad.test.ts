import { describe, expect, it } from "vitest";
import { nn, tf } from "../src/index";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

/** The gradients of `sum(bce(x, y) · R)` for the logits, the target and (when given) posWeight. */
function grads(
  x: number[],
  y: number[],
  options: { posWeight?: number[]; weight?: number[]; reduction?: nn.Reduction } = {},
): { dx: number[]; dy: number[]; dpw: number[] } {
  return tf.tidy(() => {
    const pw = options.posWeight === undefined ? undefined : tf.tensor1d(options.posWeight);
    const weight = options.weight === undefined ? undefined : tf.tensor1d(options.weight);
    const reduction = options.reduction ?? "sum";
    const f = (xs: tf.Tensor, ys: tf.Tensor, p?: tf.Tensor) =>
      tf.sum(nn.binaryCrossEntropyWithLogits(xs, ys, { posWeight: p, weight, reduction }));
    const args = [tf.tensor1d(x), tf.tensor1d(y), ...(pw === undefined ? [] : [pw])];
    const g = tf.grads((...a: tf.Tensor[]) => f(a[0]!, a[1]!, a[2]))(args);
    return {
      dx: Array.from(g[0]!.dataSync()),
      dy: Array.from(g[1]!.dataSync()),
      dpw: g[2] === undefined ? [] : Array.from(g[2].dataSync()),
    };
  });
}

describe("binaryCrossEntropyWithLogits gradients", () => {
  it("is sigmoid(x) - y at a logit of exactly 0 (a zero-initialised head's first step)", () => {
    const { dx } = grads([0, 0, 0, -0], [1, 0, 0.25, 1]);
    expect(dx).toEqual([-0.5, 0.5, 0.25, -0.5]);
  });

  it("is sigmoid(x) - y at every logit, large ones included", () => {
    const x = [-40, -9, -1, -1e-4, 0, 1e-4, 1, 9, 40];
    const y = [1, 0, 1, 0.5, 1, 0, 0.3, 1, 0];
    const { dx, dy } = grads(x, y);
    x.forEach((v, i) => {
      expect(dx[i]).toBeCloseTo(sigmoid(v) - y[i]!, 6);
      // d/dy of (1 - y)·x + softplus(-x) is -x
      expect(dy[i]).toBeCloseTo(-v, 5);
    });
  });

  it("with posWeight: (1 + (pw - 1)·y)·sigmoid(x) - pw·y for the logits, y·softplus(-x) for posWeight", () => {
    const x = [0, 0, 2, -3];
    const y = [1, 0, 1, 0.5];
    const pw = [3, 0.5, 2, 1.5];
    const { dx, dy, dpw } = grads(x, y, { posWeight: pw });
    x.forEach((v, i) => {
      const lw = 1 + (pw[i]! - 1) * y[i]!;
      expect(dx[i]).toBeCloseTo(lw * sigmoid(v) - pw[i]! * y[i]!, 6);
      expect(dy[i]).toBeCloseTo(-v + (pw[i]! - 1) * softplus(-v), 5);
      expect(dpw[i]).toBeCloseTo(y[i]! * softplus(-v), 6);
    });
    expect(dx[0]).toBeCloseTo(-1.5, 6);
  });

  it("sums posWeight's gradient over the batch when it broadcasts along the last dimension", () => {
    tf.tidy(() => {
      const x = tf.tensor2d([
        [0, 1],
        [-2, 0],
      ]);
      const y = tf.tensor2d([
        [1, 1],
        [1, 0],
      ]);
      const g = tf.grad(
        (p: tf.Tensor) => nn.binaryCrossEntropyWithLogits(x, y, { posWeight: p }) as tf.Scalar,
      )(tf.tensor1d([2, 3]));
      expect(g.shape).toEqual([2]);
      // mean over 4 elements of y·softplus(-x), per column
      const expected = [(softplus(0) + softplus(2)) / 4, softplus(-1) / 4];
      Array.from(g.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i]!, 6);
      });
    });
  });

  it("weights and reduces as PyTorch: mean of weight·loss, gradient weight·(sigmoid(x) - y)/n", () => {
    const { dx } = grads([0, 1.5], [1, 0], { weight: [2, 0.5], reduction: "mean" });
    expect(dx[0]).toBeCloseTo((2 * -0.5) / 2, 6);
    expect(dx[1]).toBeCloseTo((0.5 * sigmoid(1.5)) / 2, 6);
  });

  it("refuses a posWeight that does not broadcast along the last dimension", () => {
    expect(() =>
      nn.binaryCrossEntropyWithLogits(tf.zeros([2, 3]), tf.zeros([2, 3]), { posWeight: tf.ones([2]) }),
    ).toThrow(/posWeight of shape \[2\] does not broadcast/);
  });
});

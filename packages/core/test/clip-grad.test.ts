import { describe, expect, it } from "vitest";
import { clipGradNorm_, Parameter, tf } from "../src/index";

/** Two parameters with fixed gradients, as clipGradNorm_ sees them after a backward pass. */
function withGrads(values: number[][]): Parameter[] {
  return values.map((v) => {
    const p = new Parameter(tf.zeros([v.length]));
    p.setGrad(tf.tensor1d(v));
    return p;
  });
}

const grads = [
  [0.5, -1.25, 2, 0.125, -3],
  [1.5, 0.25, -0.75],
];

/** (Σ|g|^p)^(1/p) over every element, in double: the definition torch.nn.utils.clip_grad_norm_ uses. */
function referenceNorm(p: number): number {
  const all = grads.flat();
  if (p === Number.POSITIVE_INFINITY) return Math.max(...all.map(Math.abs));
  return all.reduce((s, g) => s + Math.abs(g) ** p, 0) ** (1 / p);
}

describe("clipGradNorm_", () => {
  for (const p of [1, 2, 3, 0.5, Number.POSITIVE_INFINITY]) {
    it(`returns the total ${p}-norm and scales gradients to maxNorm`, () => {
      const params = withGrads(grads);
      const total = clipGradNorm_(params, 1, p);
      const norm = referenceNorm(p);
      expect(total.dataSync()[0]).toBeCloseTo(norm, 5);
      const coef = Math.min(1 / (norm + 1e-6), 1);
      const clipped = params.flatMap((q) => Array.from(q.grad!.dataSync()));
      for (const [i, g] of grads.flat().entries()) expect(clipped[i]).toBeCloseTo(g * coef, 6);
      total.dispose();
      for (const q of params) q.dispose();
    });
  }

  it("computes the 2-norm with the same bits as tfjs's tf.norm", () => {
    const params = withGrads(grads);
    const expected = tf.tidy(() => tf.norm(tf.stack(params.map((q) => tf.norm(q.grad!))), 2).dataSync()[0]);
    const total = clipGradNorm_(params, 100);
    expect(total.dataSync()[0]).toBe(expected);
    total.dispose();
    for (const q of params) q.dispose();
  });

  it("rejects a norm order that is not positive", () => {
    expect(() => clipGradNorm_(withGrads(grads), 1, 0)).toThrow(
      /normType must be a positive number or Infinity/,
    );
  });
});

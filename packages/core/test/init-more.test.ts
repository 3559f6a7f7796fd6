import { describe, expect, it } from "vitest";
import { FulmenError, Generator, nn, Parameter, tf } from "../src/index";

/** truncNormal_, orthogonal_, eye_ and dirac_ (torch.nn.init). */

const init = nn.init;

function nonzero(p: Parameter): number[] {
  return Array.from(p.data.dataSync()).flatMap((v, i) => (v !== 0 ? [i] : []));
}

describe("nn.init's structured initialisers", () => {
  it("dirac_ and eye_ put their ones where PyTorch's do", () => {
    // torch 1.13: dirac_(empty(4, 2, 3), 2) → flat nonzeros [1, 10, 13, 22]; dirac_(empty(3, 2, 3, 3)) → [4, 31]
    const a = new Parameter(tf.zeros([4, 2, 3]));
    expect(nonzero(init.dirac_(a, 2))).toEqual([1, 10, 13, 22]);
    const b = new Parameter(tf.zeros([3, 2, 3, 3]));
    expect(nonzero(init.dirac_(b))).toEqual([4, 31]);
    const e = new Parameter(tf.zeros([2, 3]));
    expect(e.data.arraySync()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(init.eye_(e).data.arraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(() => init.dirac_(new Parameter(tf.zeros([3, 2, 3])), 2)).toThrow(/divisible by groups/);
    expect(() => init.eye_(new Parameter(tf.zeros([2, 2, 2])))).toThrow(FulmenError);
  });

  it("orthogonal_ gives orthonormal rows or columns, scaled by the gain", () => {
    for (const shape of [
      [6, 4],
      [3, 8],
      [4, 2, 3],
    ]) {
      const p = init.orthogonal_(new Parameter(tf.zeros(shape)), 2, new Generator(1));
      tf.tidy(() => {
        const m = tf.reshape(p.data, [shape[0]!, -1]) as tf.Tensor2D;
        const tall = m.shape[0] >= m.shape[1];
        const gram = tall ? tf.matMul(m, m, true, false) : tf.matMul(m, m, false, true);
        const n = gram.shape[0]!;
        const err = tf.max(tf.abs(tf.sub(gram, tf.mul(tf.eye(n), 4)))).dataSync()[0]!;
        expect(err, `shape [${shape}]`).toBeLessThan(1e-4);
      });
    }
  });

  it("truncNormal_ draws within [a, b] with the truncated normal's spread, and refuses an empty tail", () => {
    const p = init.truncNormal_(new Parameter(tf.zeros([20000])), {
      std: 1,
      a: -1,
      b: 2,
      generator: new Generator(3),
    });
    const v = Array.from(p.data.dataSync());
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...v)).toBeLessThanOrEqual(2);
    // the mean of N(0, 1) truncated to [-1, 2]: (φ(-1) − φ(2)) / (Φ(2) − Φ(-1)) = 0.2288
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    expect(mean).toBeGreaterThan(0.21);
    expect(mean).toBeLessThan(0.25);
    expect(() => init.truncNormal_(new Parameter(tf.zeros([2])), { a: 8, b: 9 })).toThrow(
      /choose bounds nearer/,
    );
  });
});

describe("nn.utils", () => {
  it("parametersToVector and vectorToParameters round-trip a module's parameters in order", () => {
    const model = new nn.Sequential(new nn.Linear(3, 2), new nn.Linear(2, 1));
    const vector = nn.utils.parametersToVector(model);
    expect(vector.shape).toEqual([3 * 2 + 2 + 2 + 1]);
    const first = Array.from(model.parameters()[0]!.data.dataSync());
    expect(Array.from(vector.dataSync()).slice(0, 6)).toEqual(first);
    const doubled = tf.mul(vector, 2);
    nn.utils.vectorToParameters(doubled, model);
    expect(Array.from(model.parameters()[0]!.data.dataSync())).toEqual(first.map((v) => Math.fround(v * 2)));
    expect(() => nn.utils.vectorToParameters(tf.zeros([3]), model)).toThrow(/expected a vector of 11 values/);
    expect(typeof nn.utils.clipGradNorm_).toBe("function");
    tf.dispose([vector, doubled]);
    model.dispose();
  });
});

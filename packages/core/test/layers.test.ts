import { describe, expect, it } from "vitest";
import { backward, manualSeed, nn, Parameter, tf } from "../src/index";

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol);
}

/** A direct NCHW convolution in plain loops, independent of tfjs. */
function naiveConv(
  x: number[][][][],
  w: number[][][][],
  stride: number,
  pad: number,
  groups: number,
): number[][][][] {
  const [n, c, h, wd] = [x.length, x[0]!.length, x[0]![0]!.length, x[0]![0]![0]!.length];
  const [o, cg, kh, kw] = [w.length, w[0]!.length, w[0]![0]!.length, w[0]![0]![0]!.length];
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - kw) / stride) + 1;
  const outPerGroup = o / groups;
  const out: number[][][][] = [];
  for (let b = 0; b < n; b++) {
    out.push([]);
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / outPerGroup);
      out[b]!.push([]);
      for (let i = 0; i < oh; i++) {
        out[b]![oc]!.push([]);
        for (let j = 0; j < ow; j++) {
          let s = 0;
          for (let ic = 0; ic < cg; ic++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const yy = i * stride + u - pad;
                const xx = j * stride + v - pad;
                if (yy >= 0 && yy < h && xx >= 0 && xx < wd)
                  s += x[b]![g * cg + ic]![yy]![xx]! * w[oc]![ic]![u]![v]!;
              }
          out[b]![oc]![i]!.push(s);
        }
      }
    }
  }
  void c;
  return out;
}

describe("nn layers", () => {
  it("Linear computes x Wᵀ + b with weight [out, in] and PyTorch's init bounds", () => {
    manualSeed(1);
    const lin = new nn.Linear(3, 2);
    lin.weight.assign(
      tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    lin.bias!.assign(tf.tensor1d([0.5, -0.5]));
    expect(lin.forward(tf.tensor2d([[1, 1, 1]])).arraySync()).toEqual([[6.5, 14.5]]);
    expect(lin.forward(tf.ones([2, 2, 3])).shape).toEqual([2, 2, 2]);
    const big = new nn.Linear(100, 50);
    const bound = 1 / Math.sqrt(100);
    const w = big.weight.data.dataSync();
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...w)).toBeGreaterThan(bound * 0.9);
  });

  it("Linear names a wrong input size", () => {
    expect(() => new nn.Linear(3, 2).forward(tf.ones([1, 4]))).toThrow(
      /last dimension is 4.*inFeatures is 3/,
    );
  });

  it("the same seed gives the same initialisation", () => {
    manualSeed(42);
    const a = new nn.Linear(5, 5).weight.data.arraySync();
    manualSeed(42);
    const b = new nn.Linear(5, 5).weight.data.arraySync();
    expect(a).toEqual(b);
  });

  for (const [stride, pad, groups] of [
    [1, 0, 1],
    [1, 1, 1],
    [2, 1, 1],
    [1, 1, 2],
  ] as const) {
    it(`Conv2d matches a direct convolution (stride ${stride}, padding ${pad}, groups ${groups})`, () => {
      manualSeed(3);
      const conv = new nn.Conv2d(4, 6, 3, { stride, padding: pad, groups });
      expect(conv.weight.shape).toEqual([6, 4 / groups, 3, 3]);
      const x = tf.randomNormal([2, 4, 5, 5], 0, 1, "float32", 7);
      const expected = naiveConv(
        x.arraySync() as number[][][][],
        conv.weight.data.arraySync() as number[][][][],
        stride,
        pad,
        groups,
      );
      const bias = conv.bias!.data.arraySync() as number[];
      const withBias = expected.map((b) => b.map((ch, oc) => ch.map((row) => row.map((v) => v + bias[oc]!))));
      const y = conv.forward(x);
      close(y.dataSync(), withBias.flat(3));
    });
  }

  it("Conv2d gradients match finite differences", () => {
    manualSeed(5);
    const conv = new nn.Conv2d(2, 3, 3, { padding: 1, stride: 2 });
    const x = tf.randomNormal([1, 2, 5, 5], 0, 1, "float32", 9);
    const lossOf = () => tf.sum(tf.square(conv.forward(x))) as tf.Scalar;
    backward(lossOf, conv).dispose();
    const analytic = conv.weight.grad!.dataSync();
    const w = conv.weight.data.dataSync().slice();
    const eps = 1e-2;
    for (const k of [0, 7, 20, 53]) {
      const plus = w.slice();
      plus[k]! += eps;
      conv.weight.assign(tf.tensor(plus, conv.weight.shape));
      const lp = lossOf().dataSync()[0]!;
      const minus = w.slice();
      minus[k]! -= eps;
      conv.weight.assign(tf.tensor(minus, conv.weight.shape));
      const lm = lossOf().dataSync()[0]!;
      expect(Math.abs((lp - lm) / (2 * eps) - analytic[k]!)).toBeLessThan(
        2e-2 * Math.max(1, Math.abs(analytic[k]!)),
      );
    }
  });

  it("Embedding looks rows up and gives the padding row no gradient", () => {
    const emb = new nn.Embedding(4, 2, { paddingIdx: 0 });
    expect(Array.from(emb.weight.data.dataSync().slice(0, 2))).toEqual([0, 0]);
    const idx = tf.tensor2d(
      [
        [0, 1],
        [1, 3],
      ],
      undefined,
      "int32",
    );
    expect(emb.forward(idx).shape).toEqual([2, 2, 2]);
    emb.weight.assign(
      tf.tensor2d([
        [9, 9],
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    backward(() => tf.sum(emb.forward(idx)) as tf.Scalar, emb).dispose();
    expect(emb.weight.grad!.arraySync()).toEqual([
      [0, 0],
      [2, 2],
      [0, 0],
      [1, 1],
    ]);
  });

  it("LayerNorm normalises with the biased variance", () => {
    const ln = new nn.LayerNorm(4);
    const y = ln.forward(tf.tensor2d([[1, 2, 3, 4]]));
    const mean = 2.5;
    const variance = (1.5 ** 2 * 2 + 0.5 ** 2 * 2) / 4;
    close(
      y.dataSync(),
      [1, 2, 3, 4].map((v) => (v - mean) / Math.sqrt(variance + 1e-5)),
    );
    expect(ln.stateDict().weight!.shape).toEqual([4]);
  });

  it("Dropout scales kept values by 1/(1-p), repeats under a seed, and is the identity in eval", () => {
    const d = new nn.Dropout(0.25);
    const x = tf.ones([1000]);
    manualSeed(11);
    const a = d.forward(x).dataSync();
    manualSeed(11);
    const b = d.forward(x).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    const kept = Array.from(a).filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.75)]));
    expect(kept.length).toBeGreaterThan(650);
    expect(kept.length).toBeLessThan(850);
    d.eval();
    expect(d.forward(x)).toBe(x);
  });

  it("GELU, ReLU and Tanh match their definitions", () => {
    const x = tf.tensor1d([-1, 0, 1, 2]);
    close(new nn.GELU().forward(x).dataSync(), [-0.15865525, 0, 0.84134475, 1.95449974]);
    close(
      new nn.GELU({ approximate: "tanh" }).forward(x).dataSync(),
      [-0.15880801, 0, 0.84119199, 1.95459769],
    );
    expect(Array.from(new nn.ReLU().forward(x).dataSync())).toEqual([0, 0, 1, 2]);
    close(new nn.Tanh().forward(x).dataSync(), [-0.76159416, 0, 0.76159416, 0.96402758]);
  });

  it("Parameter rejects non-float input and wrong-shaped assignments", () => {
    expect(() => new Parameter(tf.tensor1d([1], "int32"))).toThrow(/float32/);
    expect(() => new Parameter([1, 2]).assign(tf.ones([3]))).toThrow(/shape \[3\]/);
  });
});

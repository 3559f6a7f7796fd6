import { describe, expect, it } from "vitest";
import { backward, nn, tf } from "../src/index";

describe("Embedding paddingIdx as PyTorch", () => {
  it("returns the stored padding row in forward (a loaded checkpoint's non-zero row) and gives it no gradient", () => {
    const emb = new nn.Embedding(4, 2, { paddingIdx: 1 });
    expect(Array.from(emb.weight.data.dataSync().slice(2, 4))).toEqual([0, 0]);
    const loaded = tf.tensor2d([
      [1, 2],
      [7, -8],
      [3, 4],
      [5, 6],
    ]);
    emb.loadStateDict({ weight: loaded });
    const idx = tf.tensor1d([1, 3, 1, 0], "int32");
    expect(emb.forward(idx).arraySync()).toEqual([
      [7, -8],
      [5, 6],
      [7, -8],
      [1, 2],
    ]);
    const weights = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    backward(() => tf.sum(tf.mul(emb.forward(idx), weights)) as tf.Scalar, emb).dispose();
    expect(emb.weight.grad!.arraySync()).toEqual([
      [7, 8],
      [0, 0],
      [0, 0],
      [3, 4],
    ]);
    emb.dispose();
  });

  it("a negative paddingIdx counts from the end, and lookups keep tensors flat over steps", () => {
    const emb = new nn.Embedding(3, 2, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(2);
    const idx = tf.tensor2d(
      [
        [2, 0],
        [1, 2],
      ],
      undefined,
      "int32",
    );
    const step = () => backward(() => tf.sum(emb.forward(idx)) as tf.Scalar, emb).dispose();
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    expect(emb.weight.grad!.arraySync()).toEqual([
      [4, 4],
      [4, 4],
      [0, 0],
    ]);
    emb.dispose();
    idx.dispose();
  });

  it("maxNorm rescales the looked-up rows in place, as PyTorch's max_norm; scaleGradByFreq averages by count", () => {
    const emb = new nn.Embedding(4, 2, { maxNorm: 2, scaleGradByFreq: true });
    emb.loadStateDict({
      weight: tf.tensor2d([
        [3, 4],
        [0.6, 0.8],
        [1, 1],
        [6, 8],
      ]),
    });
    const idx = tf.tensor1d([0, 2, 0], "int32");
    const y = emb.forward(idx);
    const scale = 2 / (5 + 1e-7);
    const close = (a: number[][], b: number[][]) =>
      a.flat().forEach((v, i) => {
        expect(v).toBeCloseTo(b.flat()[i]!, 6);
      });
    close(y.arraySync() as number[][], [
      [3 * scale, 4 * scale],
      [1, 1],
      [3 * scale, 4 * scale],
    ]);
    // The weight itself changed, only where a looked-up row was too long (row 3 is longer but not used).
    close(emb.weight.data.arraySync() as number[][], [
      [3 * scale, 4 * scale],
      [0.6, 0.8],
      [1, 1],
      [6, 8],
    ]);
    // No gradient through the rescaling; index 0 occurs twice, so its summed gradient is halved.
    backward(() => tf.sum(emb.forward(idx)) as tf.Scalar, emb).dispose();
    expect(emb.weight.grad!.arraySync()).toEqual([
      [1, 1],
      [0, 0],
      [1, 1],
      [0, 0],
    ]);
    const lInf = new nn.Embedding(2, 2, { maxNorm: 1, normType: Number.POSITIVE_INFINITY });
    lInf.loadStateDict({
      weight: tf.tensor2d([
        [-4, 2],
        [0.5, 0.5],
      ]),
    });
    close(lInf.forward(tf.tensor1d([0, 1], "int32")).arraySync() as number[][], [
      [-1, 0.5],
      [0.5, 0.5],
    ]);
    expect(() => new nn.Embedding(2, 2, { maxNorm: -1 })).toThrow(/invalid maxNorm -1/);
    expect(emb.toString()).toBe("Embedding(4, 2, maxNorm=2, scaleGradByFreq=true)");
    emb.dispose();
    lInf.dispose();
  });
});

import { describe, expect, it } from "vitest";
import { FulmenError, nn, tf } from "../src/index";

/**
 * nn.utils.rnn: packing and padding, checked against PyTorch 1.13's layouts (the numbers of recurrent layers over
 * packed input are torch-layers-recurrent.json's *_packed_* cases, replayed by apps/parity).
 */

const R = nn.utils.rnn;

function rows(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

describe("packPaddedSequence / padPackedSequence", () => {
  it("packs in PyTorch's layout: sorted indices, batch sizes and the rows step by step", () => {
    tf.tidy(() => {
      // batch entry b holds the value 10·b + t at step t: the packed rows name where they came from
      const padded = tf.tensor3d(
        Array.from({ length: 5 }, (_, t) => Array.from({ length: 6 }, (_, b) => [10 * b + t])),
      );
      const packed = R.packPaddedSequence(padded, [2, 3, 2, 5, 3, 2], { enforceSorted: false });
      // torch 1.13: sorted_indices [3, 1, 4, 0, 2, 5], batch_sizes [6, 6, 3, 1, 1]
      expect(packed.sortedIndices).toEqual([3, 1, 4, 0, 2, 5]);
      expect(packed.unsortedIndices).toEqual([3, 1, 4, 0, 2, 5].map((_, i) => [3, 1, 4, 0, 2, 5].indexOf(i)));
      expect(packed.batchSizes).toEqual([6, 6, 3, 1, 1]);
      expect(Array.from(packed.data.dataSync())).toEqual([
        30, 10, 40, 0, 20, 50, 31, 11, 41, 1, 21, 51, 32, 12, 42, 33, 34,
      ]);
      const [back, lengths] = R.padPackedSequence(packed, { batchFirst: true, totalLength: 6 });
      expect(lengths).toEqual([2, 3, 2, 5, 3, 2]);
      expect(back.shape).toEqual([6, 6, 1]);
      const expected = Array.from({ length: 6 }, (_, b) =>
        Array.from({ length: 6 }, (_, t) => [t < lengths[b]! ? 10 * b + t : 0]),
      );
      expect(back.arraySync()).toEqual(expected);
    });
  });

  it("packs a batch-first batch that comes sorted without indices, and pads with a chosen value", () => {
    tf.tidy(() => {
      const padded = tf.tensor3d([
        [[1], [2], [3]],
        [[4], [5], [0]],
      ]);
      const packed = R.packPaddedSequence(padded, [3, 2], { batchFirst: true });
      expect(packed.sortedIndices).toBeNull();
      expect(Array.from(packed.data.dataSync())).toEqual([1, 4, 2, 5, 3]);
      const [back] = R.padPackedSequence(packed, { paddingValue: -1 });
      expect(rows(tf.squeeze(back, [2]))).toEqual([
        [1, 4],
        [2, 5],
        [3, -1],
      ]);
    });
  });

  it("refuses unsorted lengths without enforceSorted: false, a zero length and a length beyond the padding", () => {
    const padded = tf.zeros([4, 3, 2]);
    expect(() => R.packPaddedSequence(padded, [2, 3, 1])).toThrow(/decreasing order when enforceSorted/);
    expect(() => R.packPaddedSequence(padded, [2, 0, 1])).toThrow(/positive integer/);
    expect(() => R.packPaddedSequence(padded, [5, 3, 1])).toThrow(/exceeds the padded input's 4 steps/);
    expect(() => R.packPaddedSequence(padded, [2, 1])).toThrow(/expected 3 lengths/);
    const packed = R.packPaddedSequence(padded, [3, 2, 1]);
    expect(() => R.padPackedSequence(packed, { totalLength: 2 })).toThrow(FulmenError);
    packed.dispose();
    padded.dispose();
  });
});

describe("padSequence / packSequence / unpackSequence", () => {
  it("pad right or left, time-major or batch first, and round-trip through a packed sequence", () => {
    tf.tidy(() => {
      const a = tf.tensor2d([[1], [2], [3]]);
      const b = tf.tensor2d([[4]]);
      const c = tf.tensor2d([[5], [6]]);
      expect(rows(tf.squeeze(R.padSequence([a, b, c]), [2]))).toEqual([
        [1, 4, 5],
        [2, 0, 6],
        [3, 0, 0],
      ]);
      expect(
        rows(
          tf.squeeze(R.padSequence([a, b], { batchFirst: true, paddingValue: 9, paddingSide: "left" }), [2]),
        ),
      ).toEqual([
        [1, 2, 3],
        [9, 9, 4],
      ]);
      const packed = R.packSequence([a, b, c], { enforceSorted: false });
      expect(packed.batchSizes).toEqual([3, 2, 1]);
      const back = R.unpackSequence(packed);
      expect(back.map((t) => Array.from(t.dataSync()))).toEqual([[1, 2, 3], [4], [5, 6]]);
      expect(() => R.packSequence([b, a])).toThrow(/decreasing order/);
      expect(() => R.padSequence([a, tf.zeros([2, 2])])).toThrow(/same trailing dimensions/);
    });
  });
});

describe("recurrent layers over a packed sequence", () => {
  it("give each sequence the output and final state of running it alone, in the batch's order", () => {
    const lstm = new nn.LSTM(3, 4, { bidirectional: true, numLayers: 2 });
    const lengths = [2, 5, 3];
    const sequences = lengths.map((n) => tf.randomNormal([n, 3]));
    const packed = R.packSequence(sequences, { enforceSorted: false });
    const [out, [hN, cN]] = lstm.forward(packed);
    expect(out).toBeInstanceOf(R.PackedSequence);
    const outputs = R.unpackSequence(out);
    sequences.forEach((s, b) => {
      // the same sequence alone, unbatched: no padding anywhere
      const [alone, [hAlone, cAlone]] = lstm.forward(s);
      const close = (x: tf.Tensor, y: tf.Tensor) => {
        const diff = tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]!;
        expect(diff).toBeLessThan(1e-5);
      };
      close(outputs[b]!, alone);
      close(tf.gather(hN, b, 1), hAlone);
      close(tf.gather(cN, b, 1), cAlone);
    });
    lstm.dispose();
  });

  it("train through packed input with the tensor count flat and no gradient from padded steps", () => {
    const gru = new nn.GRU(2, 3, { batchFirst: true });
    const padded = tf.randomNormal([3, 4, 2]);
    const step = () =>
      tf.tidy(() => {
        const grad = tf.grad((x: tf.Tensor) => {
          const packed = R.packPaddedSequence(x, [4, 1, 2], { batchFirst: true, enforceSorted: false });
          const [out, hN] = gru.forward(packed);
          return tf.add(tf.sum(R.padPackedSequence(out)[0]), tf.sum(hN));
        })(padded);
        // entry 1 has one step: its steps 1..3 are padding, and get no gradient
        const entry1 = tf.slice(grad, [1, 1, 0], [1, 3, 2]);
        expect(Array.from(entry1.dataSync()).every((v) => v === 0)).toBe(true);
        return grad.dataSync()[0];
      });
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    padded.dispose();
    gru.dispose();
  });
});

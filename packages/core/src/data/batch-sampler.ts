import { FulmenError } from "../utils/errors";
import { describeValue } from "../utils/options";
import { type Sampler, samplerLength } from "./sampler";

/**
 * Groups a sampler's indices into batches, like `torch.utils.data.BatchSampler`: lists of `batchSize` indices in
 * the sampler's order, the last one shorter unless `dropLast`. Give it to a DataLoader as `batchSampler`.
 */
export class BatchSampler implements Iterable<number[]> {
  constructor(
    /** The sampler whose indices are grouped; read again at every pass. */
    readonly sampler: Sampler,
    /** Indices per batch: a positive integer. */
    readonly batchSize: number,
    /** Whether to drop the last batch when it has fewer than `batchSize` indices. */
    readonly dropLast: boolean,
  ) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new FulmenError(
        `BatchSampler: batchSize should be a positive integer value, but got batchSize=${describeValue(batchSize)}.`,
      );
    }
    if (typeof dropLast !== "boolean") {
      throw new FulmenError(
        `BatchSampler: dropLast should be a boolean value, but got dropLast=${describeValue(dropLast)}.`,
      );
    }
  }

  /** The number of batches per pass. */
  get length(): number {
    const n = samplerLength(this.sampler);
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One pass over the sampler: its indices in lists of `batchSize` (a fresh list per batch). */
  *[Symbol.iterator](): Iterator<number[]> {
    let batch: number[] = [];
    for (const index of this.sampler) {
      batch.push(index);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}

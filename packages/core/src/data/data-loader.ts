import type { Generator } from "../random/generator";
import { getDefaultGenerator } from "../random/seed";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { checkNumber, checkOptionNames, describeValue } from "../utils/options";
import { type Collated, defaultCollate } from "./collate";
import type { Dataset } from "./dataset";

/**
 * A collate function. Written as a method type on purpose: method parameters are compared bivariantly, so a
 * `DataLoader<{ x: Float32Array; y: number }, Batch>` is still a `DataLoader<unknown, unknown>` where an API
 * takes any loader (the Trainer's `trainDataloaders`), as a loader only ever hands its own samples to it.
 */
export type CollateFn<T, B> = { collate(samples: T[]): B }["collate"];

/** Options of {@link DataLoader}, as in `torch.utils.data.DataLoader`. */
export interface DataLoaderOptions<T, B> {
  batchSize?: number;
  /** Reshuffle every epoch with `generator` (default false). Cannot be combined with `sampler`. */
  shuffle?: boolean;
  /** The indices to visit (a DistributedSampler, say); re-read at every epoch. */
  sampler?: Iterable<number> & { length?: number };
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Builds a batch from samples (default {@link defaultCollate}). */
  collateFn?: CollateFn<T, B>;
  /** The random source for shuffling (default: the seeded default generator). */
  generator?: Generator;
  /**
   * Worker processes, as PyTorch's `num_workers`: only 0 (the default), as batches are built in this process —
   * a {@link TensorDataset} or a dataset with `getBatch` builds each one at once, which workers would not speed up.
   */
  numWorkers?: number;
}

/**
 * Batches of a dataset, like `torch.utils.data.DataLoader` (single process): iterate it once per epoch; each
 * iteration reshuffles when `shuffle` is on. Batches are new tensors that the caller owns. The batch type follows
 * from the dataset's item type (see {@link Collated}) unless a `collateFn` says otherwise. With the default
 * collate function and a dataset that builds whole batches (`getBatch`, as {@link TensorDataset} does), a batch
 * costs one gather per tensor rather than a slice per sample and a stack.
 */
export class DataLoader<T = unknown, B = Collated<T>> implements Iterable<B> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly sampler: (Iterable<number> & { length?: number }) | null;
  /** The collate function ({@link defaultCollate} unless one was given), as PyTorch's `collate_fn`. */
  readonly collateFn: CollateFn<T, B>;
  readonly generator: Generator;

  constructor(
    readonly dataset: Dataset<T>,
    options: DataLoaderOptions<T, B> = {},
  ) {
    checkOptionNames("DataLoader", options, [
      "batchSize",
      "shuffle",
      "sampler",
      "dropLast",
      "collateFn",
      "generator",
      "numWorkers",
    ]);
    if (options.numWorkers !== undefined && options.numWorkers !== 0) {
      throw new FulmenError(
        `DataLoader: numWorkers ${describeValue(options.numWorkers)} is not supported: batches are built in this process (numWorkers 0); leave it out. A TensorDataset, or a dataset with getBatch, builds each batch at once.`,
      );
    }
    this.batchSize = options.batchSize ?? 1;
    checkNumber(
      "DataLoader",
      "batchSize",
      this.batchSize,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    this.shuffle = options.shuffle ?? false;
    this.sampler = options.sampler ?? null;
    if (this.shuffle && this.sampler !== null) {
      throw new FulmenError(
        "DataLoader: shuffle and sampler are mutually exclusive; shuffle inside the sampler instead.",
      );
    }
    this.dropLast = options.dropLast ?? false;
    this.collateFn = options.collateFn ?? (defaultCollate as unknown as CollateFn<T, B>);
    this.generator = options.generator ?? getDefaultGenerator();
  }

  /** Builds a batch from samples with the loader's collate function. */
  collate(samples: T[]): B {
    return this.collateFn(samples);
  }

  /** The number of batches per epoch. */
  get length(): number {
    const n =
      this.sampler?.length ?? (this.sampler === null ? this.dataset.length : [...this.sampler].length);
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  private order(): number[] {
    if (this.sampler !== null) return [...this.sampler];
    if (this.shuffle) return this.generator.randperm(this.dataset.length);
    return Array.from({ length: this.dataset.length }, (_, i) => i);
  }

  /** Builds the batch of the items at `indices`. */
  private fetch(indices: number[]): B {
    const dataset = this.dataset;
    // The batch equals defaultCollate's, so the dataset may build it at once (PyTorch's `__getitems__` idea).
    if (this.collateFn === (defaultCollate as unknown) && typeof dataset.getBatch === "function")
      return dataset.getBatch(indices) as B;
    // Per-sample tensors (TensorDataset rows) are freed once collated; the batch survives the tidy.
    return tf.tidy(
      () => this.collateFn(indices.map((i) => dataset.get(i))) as unknown as tf.TensorContainer,
    ) as unknown as B;
  }

  *[Symbol.iterator](): Iterator<B> {
    const order = this.order();
    for (let start = 0; start < order.length; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      if (indices.length < this.batchSize && this.dropLast) return;
      yield this.fetch(indices);
    }
  }
}

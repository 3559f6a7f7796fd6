import type { Generator } from "../random/generator";
import { getDefaultGenerator } from "../random/seed";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { checkNumber, checkOptionNames, describeValue } from "../utils/options";
import { type Collated, defaultCollate } from "./collate";
import type { Dataset } from "./dataset";
import { type IterableDataset, isIterableDataset } from "./iterable-dataset";
import { type Sampler, SequentialSampler, samplerLength } from "./sampler";

/**
 * A collate function. Written as a method type on purpose: method parameters are compared bivariantly, so a
 * `DataLoader<{ x: Float32Array; y: number }, Batch>` is still a `DataLoader<unknown, unknown>` where an API
 * takes any loader (the Trainer's `trainDataloaders`), as a loader only ever hands its own samples to it.
 */
export type CollateFn<T, B> = {
  /** Builds one batch from the samples of that batch, in order (PyTorch's `collate_fn`). */
  collate(samples: T[]): B;
}["collate"];

/**
 * What a DataLoader takes as `batchSampler`: lists of indices, read again at every epoch, like a
 * {@link BatchSampler}; `length` (batches per epoch) and the inner `sampler` when known.
 */
export type BatchSamplerLike = Iterable<number[]> & {
  /** The number of batches per epoch; when absent, the loader's `length` counts them by iterating. */
  readonly length?: number;
  /** The sampler whose indices it groups; when absent, the loader's `sampler` is a `SequentialSampler`. */
  readonly sampler?: Sampler;
};

/** Options of {@link DataLoader}, as in `torch.utils.data.DataLoader`. */
export interface DataLoaderOptions<T, B> {
  /**
   * Samples per batch, a positive integer (default 1, or the `batchSampler`'s own `batchSize` when it has
   * one). Cannot be combined with `batchSampler` unless it is 1.
   */
  batchSize?: number;
  /** Reshuffle every epoch with `generator` (default false). Cannot be combined with `sampler`. */
  shuffle?: boolean;
  /** The indices to visit (a DistributedSampler, say); re-read at every epoch. */
  sampler?: Sampler;
  /**
   * The batches of indices to visit (a {@link BatchSampler}, say: any iterable of index lists); re-read at every
   * epoch. Cannot be combined with `batchSize`, `shuffle`, `sampler` or `dropLast`, which it decides.
   */
  batchSampler?: BatchSamplerLike;
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
 * iteration reshuffles when `shuffle` is on. The indices come from the loader's order (shuffled or not), a
 * `sampler` or a `batchSampler`; an iterable dataset ({@link IterableDataset}) is batched as its items come,
 * with no sampler or shuffle, as in PyTorch. Batches are new tensors that the caller owns. The batch type follows
 * from the dataset's item type (see {@link Collated}) unless a `collateFn` says otherwise. With the default
 * collate function and a dataset that builds whole batches (`getBatch`, as {@link TensorDataset} does), a batch
 * costs one gather per tensor rather than a slice per sample and a stack.
 */
export class DataLoader<T = unknown, B = Collated<T>> implements Iterable<B> {
  /**
   * Samples per batch. With a `batchSampler` the batch sampler decides (PyTorch sets `batch_size` to None): this
   * is then its `batchSize` when it has one, 1 otherwise.
   */
  readonly batchSize: number;
  /** Whether each epoch visits the dataset in a new random order drawn from `generator` (default false). */
  readonly shuffle: boolean;
  /** Whether the last batch is dropped when it has fewer than `batchSize` samples (default false). */
  readonly dropLast: boolean;
  /**
   * The sampler given, or with a `batchSampler` the one inside it (a {@link SequentialSampler} when it has none,
   * as PyTorch sets); null otherwise.
   */
  readonly sampler: Sampler | null;
  /** The batch sampler given, or null. */
  readonly batchSampler: BatchSamplerLike | null;
  /** The collate function ({@link defaultCollate} unless one was given), as PyTorch's `collate_fn`. */
  readonly collateFn: CollateFn<T, B>;
  /** The random source for shuffling: the one given, or the seeded default generator. */
  readonly generator: Generator;

  constructor(
    /** The dataset the batches are read from: map-style, or iterable (batched as its items come). */
    readonly dataset: Dataset<T> | IterableDataset<T>,
    options: DataLoaderOptions<T, B> = {},
  ) {
    checkOptionNames("DataLoader", options, [
      "batchSize",
      "shuffle",
      "sampler",
      "batchSampler",
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
    checkExclusiveOptions(dataset, options);
    const batchSampler = options.batchSampler ?? null;
    this.batchSampler = batchSampler;
    this.batchSize = options.batchSize ?? (batchSampler as { batchSize?: number } | null)?.batchSize ?? 1;
    checkNumber(
      "DataLoader",
      "batchSize",
      this.batchSize,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    this.shuffle = options.shuffle ?? false;
    this.sampler =
      batchSampler === null
        ? (options.sampler ?? null)
        : (batchSampler.sampler ?? new SequentialSampler(dataset as Dataset<T>));
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
    if (this.batchSampler !== null) return this.batchSampler.length ?? [...this.batchSampler].length;
    let n: number;
    if (isIterableDataset(this.dataset)) {
      if (this.dataset.length === undefined) {
        throw new FulmenError(
          "DataLoader: this iterable dataset has no length, so neither has the loader; give the dataset a length property, or iterate without asking for one.",
        );
      }
      n = this.dataset.length;
    } else n = this.sampler === null ? this.dataset.length : samplerLength(this.sampler);
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  private order(dataset: Dataset<T>): number[] {
    if (this.sampler !== null) return [...this.sampler];
    if (this.shuffle) return this.generator.randperm(dataset.length);
    return Array.from({ length: dataset.length }, (_, i) => i);
  }

  /** Builds the batch of the items at `indices`. */
  private fetch(dataset: Dataset<T>, indices: number[]): B {
    // The batch equals defaultCollate's, so the dataset may build it at once (PyTorch's `__getitems__` idea).
    if (this.collateFn === (defaultCollate as unknown) && typeof dataset.getBatch === "function")
      return dataset.getBatch(indices) as B;
    // Per-sample tensors (TensorDataset rows) are freed once collated; the batch survives the tidy.
    return tf.tidy(
      () => this.collateFn(indices.map((i) => dataset.get(i))) as unknown as tf.TensorContainer,
    ) as unknown as B;
  }

  /**
   * One epoch: the batches in order (reshuffled first when `shuffle` is on). Each batch is new tensors that
   * the caller owns and must dispose.
   */
  *[Symbol.iterator](): Iterator<B> {
    const dataset = this.dataset;
    if (isIterableDataset(dataset)) {
      yield* this.iterateStream(dataset);
      return;
    }
    if (this.batchSampler !== null) {
      for (const indices of this.batchSampler) yield this.fetch(dataset, [...indices]);
      return;
    }
    const order = this.order(dataset);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      if (indices.length < this.batchSize && this.dropLast) return;
      yield this.fetch(dataset, indices);
    }
  }

  /** Batches of an iterable dataset's items as they come (PyTorch's `_IterableDatasetFetcher`). */
  private *iterateStream(dataset: IterableDataset<T>): IterableIterator<B> {
    const items = dataset[Symbol.iterator]();
    try {
      for (;;) {
        let taken = 0;
        let exhausted = false;
        // The items are read inside the tidy, so tensors they were built from are freed once collated.
        const batch = tf.tidy((): tf.TensorContainer => {
          const samples: T[] = [];
          while (samples.length < this.batchSize) {
            const next = items.next();
            if (next.done === true) {
              exhausted = true;
              break;
            }
            samples.push(next.value);
          }
          taken = samples.length;
          if (taken === 0 || (taken < this.batchSize && this.dropLast)) return undefined;
          return this.collateFn(samples) as unknown as tf.TensorContainer;
        }) as unknown as B | undefined;
        if (batch !== undefined) yield batch;
        if (exhausted) return;
      }
    } finally {
      items.return?.();
    }
  }
}

/** PyTorch's checks of the DataLoader's options that exclude each other, with its messages. */
function checkExclusiveOptions<T, B>(
  dataset: Dataset<T> | IterableDataset<T>,
  options: DataLoaderOptions<T, B>,
): void {
  if (isIterableDataset(dataset)) {
    // An iterable dataset decides its own order: PyTorch refuses every option that would reorder it.
    for (const name of ["shuffle", "sampler", "batchSampler"] as const) {
      const value = options[name];
      if (value !== undefined && value !== false) {
        throw new FulmenError(
          `DataLoader with IterableDataset: expected unspecified ${name} option, but got ${name}=${describeValue(value)}; leave it out and order the items in the dataset.`,
        );
      }
    }
  }
  if (options.sampler !== undefined && options.shuffle === true) {
    throw new FulmenError(
      "DataLoader: sampler option is mutually exclusive with shuffle; shuffle inside the sampler instead.",
    );
  }
  if (
    options.batchSampler !== undefined &&
    ((options.batchSize !== undefined && options.batchSize !== 1) ||
      options.shuffle === true ||
      options.sampler !== undefined ||
      options.dropLast === true)
  ) {
    throw new FulmenError(
      "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last; give those to the batch sampler instead.",
    );
  }
}

import {
  DataLoader,
  DistributedSampler,
  FulmenError,
  isIterableDataset,
  type Strategy,
  tf,
} from "@fulmen/core";
import { checkOptionNames } from "@fulmen/core/plugin";

/** Options of {@link Fabric.setupDataloaders}. */
export interface SetupDataloadersOptions {
  /** Give each process its own shard of the data with a DistributedSampler when there are several (default true). */
  useDistributedSampler?: boolean;
  /**
   * Hand every batch to the caller for good (default false): the loader then never disposes a batch, and the
   * caller disposes each one. By default a batch is released when the next one is drawn (see {@link FabricDataLoader}).
   */
  keepBatches?: boolean;
}

const OPTION_NAMES = ["useDistributedSampler", "keepBatches"];

function hasSetEpoch(sampler: unknown): sampler is { setEpoch(epoch: number): void } {
  return typeof (sampler as { setEpoch?: unknown })?.setEpoch === "function";
}

/**
 * The id of the newest tensor: every tensor made after this call has a larger one (tfjs numbers tensors in
 * creation order). Read through a throwaway scalar, as tfjs exposes no counter.
 */
function newestTensorId(): number {
  const probe = tf.scalar(0);
  probe.dispose();
  return probe.id;
}

/** Calls `fn` on every tensor of a batch (nested arrays and objects). */
function forEachTensor(value: unknown, fn: (t: tf.Tensor) => void): void {
  if (value instanceof tf.Tensor) fn(value);
  else if (Array.isArray(value)) for (const item of value) forEachTensor(item, fn);
  else if (value !== null && typeof value === "object")
    for (const item of Object.values(value)) forEachTensor(item, fn);
}

/**
 * A data loader as Fabric hands it back (Lightning's `_FabricDataLoader`): with several processes it reads
 * through a DistributedSampler (shuffling as the original loader did, seeded with `PL_GLOBAL_SEED`), and each
 * pass over it advances the sampler's epoch, so that shuffles differ between epochs and agree between ranks.
 *
 * Batch ownership: TensorFlow.js has no garbage collector for tensors, so the loader releases (disposes) each
 * batch's tensors when the next batch is drawn and when an iteration ends (also by `break` or an exception);
 * a loop that only uses a batch during its own step needs no dispose, as in PyTorch. Only tensors made while the
 * batch was drawn are released: a `collateFn` that hands out tensors the dataset holds (pre-batched data) keeps
 * them. To use a batch (or one of its tensors) later, pass it through {@link FabricDataLoader.keep} — as `tf.keep`
 * keeps a tensor past `tf.tidy` — or set up the loader with `{ keepBatches: true }` and dispose every batch
 * yourself.
 */
export class FabricDataLoader<T, B> implements Iterable<B> {
  private epoch = 0;
  /**
   * The loader actually read: a copy of the original with a DistributedSampler when the data is sharded over
   * several processes, else the original loader itself.
   */
  readonly loader: DataLoader<T, B>;
  /** Whether batches are left to the caller (`keepBatches`). */
  readonly keepBatches: boolean;
  /** Tensors handed to the caller with {@link FabricDataLoader.keep}. */
  private readonly kept = new WeakSet<tf.Tensor>();

  constructor(original: DataLoader<T, B>, strategy: Strategy, options: SetupDataloadersOptions = {}) {
    checkOptionNames("fabric.setupDataloaders", options, OPTION_NAMES);
    this.keepBatches = options.keepBatches ?? false;
    if (typeof this.keepBatches !== "boolean")
      throw new FulmenError(
        `fabric.setupDataloaders: keepBatches must be true or false, got ${String(this.keepBatches)}.`,
      );
    // An iterable dataset gets no sampler (each rank reads its own stream, as in Lightning); a map-style one is
    // sharded when the loader has no sampler of its own.
    const dataset = isIterableDataset(original.dataset) ? null : original.dataset;
    const distribute =
      (options.useDistributedSampler ?? true) &&
      strategy.worldSize > 1 &&
      original.sampler === null &&
      dataset !== null;
    this.loader = distribute
      ? new DataLoader<T, B>(dataset, {
          batchSize: original.batchSize,
          dropLast: original.dropLast,
          // The original function itself, so that the default collation keeps its batch-at-once fast path.
          collateFn: original.collateFn,
          sampler: new DistributedSampler(dataset.length, {
            numReplicas: strategy.worldSize,
            rank: strategy.globalRank,
            shuffle: original.shuffle,
            seed: Number(process.env.PL_GLOBAL_SEED ?? 0),
          }),
        })
      : original;
  }

  /** Batches per epoch (on this process). */
  get length(): number {
    return this.loader.length;
  }

  /**
   * Keeps a batch, or any tensors of one, from being released when the next batch is drawn; the caller then
   * owns them and disposes them. Returns `value`.
   */
  keep<V>(value: V): V {
    forEachTensor(value, (t) => this.kept.add(t));
    return value;
  }

  /**
   * Disposes the tensors of a batch that the loop is done with: those made while drawing it (newer than
   * `drawnAfter`), except the kept ones.
   */
  private release(batch: B, drawnAfter: number): void {
    if (this.keepBatches) return;
    forEachTensor(batch, (t) => {
      if (t.id > drawnAfter && !this.kept.has(t)) t.dispose();
    });
  }

  /**
   * One pass over the data (an epoch): advances the sampler's epoch first, and releases each batch's tensors
   * when the next batch is drawn and when the pass ends, unless they were kept.
   */
  *[Symbol.iterator](): Iterator<B> {
    if (hasSetEpoch(this.loader.sampler)) this.loader.sampler.setEpoch(this.epoch);
    this.epoch += 1;
    const batches = this.loader[Symbol.iterator]();
    let current: { batch: B; drawnAfter: number } | null = null;
    try {
      for (;;) {
        const drawnAfter = this.keepBatches ? 0 : newestTensorId();
        const next = batches.next();
        if (next.done === true) return;
        current = { batch: next.value, drawnAfter };
        yield next.value;
        // The loop asked for the next batch: it is done with this one (freed before the next is built).
        this.release(current.batch, current.drawnAfter);
        current = null;
      }
    } finally {
      // The end of the data, a `break`, or an exception in the loop's body.
      if (current !== null) this.release(current.batch, current.drawnAfter);
      batches.return?.();
    }
  }
}

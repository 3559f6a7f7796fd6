import { DataLoader, DistributedSampler, type Strategy } from "@fulmen/core";

/** Options of {@link Fabric.setupDataloaders}. */
export interface SetupDataloadersOptions {
  /** Give each process its own shard of the data with a DistributedSampler when there are several (default true). */
  useDistributedSampler?: boolean;
}

function hasSetEpoch(sampler: unknown): sampler is { setEpoch(epoch: number): void } {
  return typeof (sampler as { setEpoch?: unknown })?.setEpoch === "function";
}

/**
 * A data loader as Fabric hands it back (Lightning's `_FabricDataLoader`): with several processes it reads
 * through a DistributedSampler (shuffling as the original loader did, seeded with `PL_GLOBAL_SEED`), and each
 * pass over it advances the sampler's epoch, so that shuffles differ between epochs and agree between ranks.
 */
export class FabricDataLoader<T, B> implements Iterable<B> {
  private epoch = 0;
  readonly loader: DataLoader<T, B>;

  constructor(original: DataLoader<T, B>, strategy: Strategy, options: SetupDataloadersOptions = {}) {
    const distribute =
      (options.useDistributedSampler ?? true) && strategy.worldSize > 1 && original.sampler === null;
    this.loader = distribute
      ? new DataLoader<T, B>(original.dataset, {
          batchSize: original.batchSize,
          dropLast: original.dropLast,
          collateFn: (samples: T[]) => original.collate(samples),
          sampler: new DistributedSampler(original.dataset.length, {
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

  [Symbol.iterator](): Iterator<B> {
    if (hasSetEpoch(this.loader.sampler)) this.loader.sampler.setEpoch(this.epoch);
    this.epoch += 1;
    return this.loader[Symbol.iterator]();
  }
}

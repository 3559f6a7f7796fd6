import { Generator } from "../random/generator";
import { FulmenError } from "../utils/errors";

/** Options of {@link DistributedSampler}, as in `torch.utils.data.DistributedSampler`. */
export interface DistributedSamplerOptions {
  /** The number of processes that share the dataset (the world size): a positive integer. */
  numReplicas: number;
  /** This process's rank among them, in `[0, numReplicas - 1]`. */
  rank: number;
  /** Shuffle the indices, with an order that changes at every `setEpoch` (default true). */
  shuffle?: boolean;
  /** The shuffle's seed, the same on every rank; each epoch shuffles with `seed + epoch` (default 0). */
  seed?: number;
  /**
   * Drop the dataset's last indices so that it splits evenly (default false: the list is padded by repeating
   * its first indices instead, so some samples are seen twice per epoch).
   */
  dropLast?: boolean;
}

/**
 * The indices one process sees, with PyTorch's partitioning: the (optionally shuffled, per epoch) index list is
 * padded by repeating its start (or truncated with `dropLast`) to a multiple of `numReplicas`, and rank r takes
 * every `numReplicas`-th index starting at r. Every rank gets the same number of samples.
 */
export class DistributedSampler implements Iterable<number> {
  /** The number of processes that share the dataset. */
  readonly numReplicas: number;
  /** This process's rank, in `[0, numReplicas - 1]`. */
  readonly rank: number;
  /** Whether the indices are shuffled, per epoch (default true). */
  readonly shuffle: boolean;
  /** The shuffle's base seed (default 0); epoch `e` shuffles with `seed + e`. */
  readonly seed: number;
  /** Whether the tail is dropped to split evenly rather than padded with repeated indices (default false). */
  readonly dropLast: boolean;
  /** Samples per replica. */
  readonly numSamples: number;
  private readonly totalSize: number;
  private epoch = 0;

  constructor(
    /** The number of items in the dataset being split. */
    readonly datasetLength: number,
    options: DistributedSamplerOptions,
  ) {
    const { numReplicas, rank } = options;
    if (!Number.isInteger(numReplicas) || numReplicas < 1) {
      throw new FulmenError(
        `DistributedSampler: numReplicas must be a positive integer, got ${numReplicas}.`,
      );
    }
    if (!Number.isInteger(rank) || rank < 0 || rank >= numReplicas) {
      throw new FulmenError(
        `DistributedSampler: invalid rank ${rank}; it must be in [0, ${numReplicas - 1}].`,
      );
    }
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    this.dropLast = options.dropLast ?? false;
    this.numSamples =
      this.dropLast && datasetLength % numReplicas !== 0
        ? Math.ceil((datasetLength - numReplicas) / numReplicas)
        : Math.ceil(datasetLength / numReplicas);
    this.totalSize = this.numSamples * numReplicas;
  }

  /** Sets the epoch, which changes the shuffle order identically on every rank. */
  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  /** This rank's indices for the current epoch. */
  indices(): number[] {
    let all = this.shuffle
      ? new Generator(this.seed + this.epoch).randperm(this.datasetLength)
      : Array.from({ length: this.datasetLength }, (_, i) => i);
    if (!this.dropLast) {
      const padding = this.totalSize - all.length;
      if (padding > 0) {
        const repeats = Math.ceil(padding / Math.max(all.length, 1));
        const extra = Array.from({ length: repeats }, () => all).flat();
        all = all.concat(extra.slice(0, padding));
      }
    } else {
      all = all.slice(0, this.totalSize);
    }
    const out: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) out.push(all[i]!);
    return out;
  }

  /** This rank's indices for the current epoch ({@link DistributedSampler.indices}). */
  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }

  /** Samples per replica. */
  get length(): number {
    return this.numSamples;
  }
}

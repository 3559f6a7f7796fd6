import { Generator } from "../random/generator";
import { FulmenError } from "../utils/errors";

/** Options of {@link DistributedSampler}, as in `torch.utils.data.DistributedSampler`. */
export interface DistributedSamplerOptions {
  numReplicas: number;
  rank: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
}

/**
 * The indices one process sees, with PyTorch's partitioning: the (optionally shuffled, per epoch) index list is
 * padded by repeating its start (or truncated with `dropLast`) to a multiple of `numReplicas`, and rank r takes
 * every `numReplicas`-th index starting at r. Every rank gets the same number of samples.
 */
export class DistributedSampler implements Iterable<number> {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Samples per replica. */
  readonly numSamples: number;
  private readonly totalSize: number;
  private epoch = 0;

  constructor(
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

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }

  /** Samples per replica. */
  get length(): number {
    return this.numSamples;
  }
}

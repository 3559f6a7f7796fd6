/**
 * A sampler, like `torch.utils.data.Sampler`: the dataset indices to visit, read again at every epoch (an array
 * works, as does a {@link DistributedSampler}); `length`, when known, is how many it yields.
 */
export type Sampler = Iterable<number> & {
  /** The number of indices one pass yields, when known; without it, they are counted by iterating. */
  readonly length?: number;
};

/** Indices 0…n-1 in order, like `torch.utils.data.SequentialSampler` (the loader's order without shuffle). */
export class SequentialSampler implements Iterable<number> {
  constructor(
    /** The dataset (or anything with a length) whose indices are visited, as PyTorch's `data_source`. */
    readonly dataSource: {
      /** The number of items; read at every pass, so a dataset that grows is followed. */
      readonly length: number;
    },
  ) {}

  /** The number of indices one pass yields: the data source's length. */
  get length(): number {
    return this.dataSource.length;
  }

  /** Indices `0` to `dataSource.length - 1`, in order. */
  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.dataSource.length; i++) yield i;
  }
}

/** How many indices a sampler yields: its `length` when it has one, otherwise counted by reading it. */
export function samplerLength(sampler: Sampler): number {
  return sampler.length ?? [...sampler].length;
}

/**
 * A sampler, like `torch.utils.data.Sampler`: the dataset indices to visit, read again at every epoch (an array
 * works, as does a {@link DistributedSampler}); `length`, when known, is how many it yields.
 */
export type Sampler = Iterable<number> & { readonly length?: number };

/** Indices 0…n-1 in order, like `torch.utils.data.SequentialSampler` (the loader's order without shuffle). */
export class SequentialSampler implements Iterable<number> {
  constructor(readonly dataSource: { readonly length: number }) {}

  get length(): number {
    return this.dataSource.length;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.dataSource.length; i++) yield i;
  }
}

/** How many indices a sampler yields: its `length` when it has one, otherwise counted by reading it. */
export function samplerLength(sampler: Sampler): number {
  return sampler.length ?? [...sampler].length;
}

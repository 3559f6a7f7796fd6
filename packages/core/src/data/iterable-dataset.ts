import { FulmenError } from "../utils/errors";

/**
 * An iterable-style dataset, like `torch.utils.data.IterableDataset`: a stream of items read in order (no
 * indices), for data that is generated or read sequentially. A DataLoader batches the stream as it comes; it
 * takes no sampler, batch sampler or shuffle for it (as in PyTorch). `length`, when known, is the number of
 * items, which gives the loader a length.
 */
export interface IterableDataset<T> extends Iterable<T> {
  /** The number of items the stream yields, when known; a DataLoader's `length` needs it. */
  readonly length?: number;
}

/**
 * Whether a dataset is iterable-style: it has `[Symbol.iterator]` and no `get` (a map-style dataset that also
 * iterates is still read by index).
 */
export function isIterableDataset(dataset: unknown): dataset is IterableDataset<unknown> {
  if (dataset === null || typeof dataset !== "object") return false;
  const d = dataset as { get?: unknown; [Symbol.iterator]?: unknown };
  return typeof d.get !== "function" && typeof d[Symbol.iterator] === "function";
}

/**
 * Iterable datasets one after another, like `torch.utils.data.ChainDataset`: iterating it iterates each dataset
 * in turn, lazily (each is only read when the previous one is exhausted). Its length is the sum of the lengths,
 * or undefined when one of them has none.
 */
export class ChainDataset<T> implements IterableDataset<T> {
  /** The iterable datasets, in the order they are read. */
  readonly datasets: readonly IterableDataset<T>[];

  constructor(datasets: Iterable<IterableDataset<T>>) {
    this.datasets = [...datasets];
    // Checked here rather than when iterated (PyTorch asserts lazily): a map-style dataset here is a mistake
    // that is cheaper to see at once.
    for (const [i, d] of this.datasets.entries()) {
      if (!isIterableDataset(d)) {
        throw new FulmenError(
          `ChainDataset only supports iterable datasets, but dataset ${i} is map-style (it has get); combine map-style datasets with ConcatDataset.`,
        );
      }
    }
  }

  /** The sum of the datasets' lengths, or undefined when one of them has none. */
  get length(): number | undefined {
    let total = 0;
    for (const d of this.datasets) {
      if (d.length === undefined) return undefined;
      total += d.length;
    }
    return total;
  }

  /** The items of every dataset in turn, each dataset read only once the previous one is exhausted. */
  *[Symbol.iterator](): Iterator<T> {
    for (const d of this.datasets) yield* d;
  }
}

import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { collateItems } from "./collate-items";
import type { Dataset } from "./dataset";
import { isIterableDataset } from "./iterable-dataset";
import { mergeBatches } from "./merge-batches";

/**
 * Several map-style datasets one after another, like `torch.utils.data.ConcatDataset`: index `i` falls in the
 * first dataset whose cumulative size exceeds it; negative indices count from the end (PyTorch's semantics).
 * Batches are built by each dataset's own `getBatch` (one call per dataset the batch touches) and joined.
 */
export class ConcatDataset<T> implements Dataset<T> {
  /** The datasets, in order (map-style ones only). */
  readonly datasets: readonly Dataset<T>[];
  /** Running totals of the datasets' lengths, as PyTorch's `cumulative_sizes`. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: Iterable<Dataset<T>>) {
    this.datasets = [...datasets];
    if (this.datasets.length === 0) {
      throw new FulmenError(
        "ConcatDataset: datasets should not be an empty iterable; pass at least one dataset.",
      );
    }
    for (const d of this.datasets) {
      if (isIterableDataset(d)) {
        throw new FulmenError(
          "ConcatDataset does not support IterableDataset; chain iterable datasets with ChainDataset instead.",
        );
      }
    }
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => {
      total += d.length;
      return total;
    });
  }

  /** The total number of items: the sum of the datasets' lengths. */
  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1]!;
  }

  /** Which dataset holds index `index` (negative counts from the end), and the index inside it. */
  locate(index: number): {
    /** The position in `datasets` of the dataset that holds the item. */
    datasetIndex: number;
    /** The item's index inside that dataset (never negative). */
    sampleIndex: number;
  } {
    const n = this.length;
    if (!Number.isInteger(index)) {
      throw new FulmenError(`ConcatDataset: index ${index} is not an integer; pass an integer index.`);
    }
    let i = index;
    if (i < 0) {
      if (-i > n) {
        throw new FulmenError(
          `ConcatDataset: absolute value of index ${index} should not exceed dataset length ${n}.`,
        );
      }
      i = n + i;
    }
    if (i >= n) throw new FulmenError(`ConcatDataset: index ${index} is out of range for ${n} items.`);
    // bisect_right: the first dataset whose cumulative size is greater than i.
    let lo = 0;
    let hi = this.cumulativeSizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulativeSizes[mid]! <= i) lo = mid + 1;
      else hi = mid;
    }
    return { datasetIndex: lo, sampleIndex: lo === 0 ? i : i - this.cumulativeSizes[lo - 1]! };
  }

  /** Item `index` (negative counts from the end), read from the dataset that holds it. */
  get(index: number): T {
    const { datasetIndex, sampleIndex } = this.locate(index);
    return this.datasets[datasetIndex]!.get(sampleIndex);
  }

  /**
   * The batch of the items at `indices`, as `defaultCollate` would build it: one `getBatch` per dataset the
   * batch touches (items collated where a dataset has none), joined and put back in the order of `indices`
   * (new tensors the caller owns).
   */
  getBatch(indices: readonly number[]): unknown {
    if (this.get !== ConcatDataset.prototype.get) return collateItems(() => indices.map((i) => this.get(i)));
    const located = indices.map((i) => this.locate(i));
    const groups = new Map<number, number[]>();
    for (const [k, { datasetIndex }] of located.entries()) {
      const group = groups.get(datasetIndex);
      if (group === undefined) groups.set(datasetIndex, [k]);
      else group.push(k);
    }
    const batchOf = (datasetIndex: number, positions: number[]): unknown => {
      const dataset = this.datasets[datasetIndex]!;
      const inner = positions.map((k) => located[k]!.sampleIndex);
      return typeof dataset.getBatch === "function"
        ? dataset.getBatch(inner)
        : collateItems(() => inner.map((i) => dataset.get(i)));
    };
    if (groups.size === 1) {
      const [[datasetIndex, positions]] = [...groups];
      return batchOf(datasetIndex, positions);
    }
    const entries = [...groups];
    const parts = entries.map(([d, positions]) => batchOf(d, positions));
    // Row k of the joined parts came from position joinedFrom[k]; the batch's row p is the joined row at order[p].
    const joinedFrom = entries.flatMap(([, positions]) => positions);
    const order = new Array<number>(indices.length);
    for (const [k, p] of joinedFrom.entries()) order[p] = k;
    const merged = mergeBatches(parts, order);
    tf.dispose(parts as tf.TensorContainer);
    return merged ?? collateItems(() => indices.map((i) => this.get(i)));
  }
}

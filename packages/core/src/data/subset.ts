import { FulmenError } from "../utils/errors";
import { collateItems } from "./collate-items";
import type { Dataset } from "./dataset";

/**
 * The position `index` names in a list of `length` items, with Python's negative indices (-1 is the last);
 * throws a FulmenError naming `owner` when it is out of range or not an integer.
 */
export function resolveIndex(owner: string, index: number, length: number): number {
  if (!Number.isInteger(index) || index < -length || index >= length) {
    throw new FulmenError(
      `${owner}: index ${index} is out of range for ${length} items; use an integer in [${-length}, ${length - 1}].`,
    );
  }
  return index < 0 ? length + index : index;
}

/**
 * A dataset at some indices of another, like `torch.utils.data.Subset`: item `i` is `dataset.get(indices[i])`
 * (negative `i` counts from the end, as in Python). When the dataset builds whole batches (`getBatch`), so does
 * the subset, with the indices mapped, so a DataLoader over a split keeps the batch-at-once path.
 */
export class Subset<T> implements Dataset<T> {
  /** The indices into {@link Subset.dataset}, as given. */
  readonly indices: readonly number[];

  constructor(
    /** The whole dataset the subset reads its items from. */
    readonly dataset: Dataset<T>,
    indices: Iterable<number>,
  ) {
    this.indices = [...indices];
    // Checked once here rather than per item: a bad index would otherwise surface mid-epoch.
    for (const i of this.indices) {
      if (!Number.isInteger(i)) {
        throw new FulmenError(`Subset: index ${i} is not an integer; pass integer indices into the dataset.`);
      }
    }
  }

  /** The number of items: the number of indices given (repeats count). */
  get length(): number {
    return this.indices.length;
  }

  /** The item of the dataset at `indices[index]`. */
  get(index: number): T {
    return this.dataset.get(this.indices[resolveIndex("Subset", index, this.indices.length)]!);
  }

  /**
   * The batch of the items at `indices`, as `defaultCollate` would build it (PyTorch's `Subset.__getitems__`):
   * the dataset's own `getBatch` with the mapped indices when it has one, one item at a time otherwise
   * (new tensors the caller owns).
   */
  getBatch(indices: readonly number[]): unknown {
    // A subclass that overrides `get` defines its items there, so its batches are built from them.
    if (this.get !== Subset.prototype.get) return collateItems(() => indices.map((i) => this.get(i)));
    const mapped = indices.map((i) => this.indices[resolveIndex("Subset", i, this.indices.length)]!);
    if (typeof this.dataset.getBatch === "function") return this.dataset.getBatch(mapped);
    return collateItems(() => mapped.map((i) => this.dataset.get(i)));
  }
}

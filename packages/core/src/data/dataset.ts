import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { type Collated, defaultCollate } from "./collate";
import { gatherRows } from "./gather-rows";

/** A map-style dataset, like `torch.utils.data.Dataset`: a length and an item per index. */
export interface Dataset<T> {
  /** The number of items (PyTorch's `__len__`); valid indices are `0` to `length - 1`. */
  readonly length: number;
  /** Item `index` (PyTorch's `__getitem__`); tensors in it are new ones the caller owns. */
  get(index: number): T;
  /**
   * Optional fast path, like PyTorch's `__getitems__`: the batch that `defaultCollate` would build from the items
   * at `indices` (a `Collated<T>`), made at once (new tensors the caller owns). The DataLoader uses it when its
   * collate function is the default one; per-item tensor work costs a kernel call per item, a gather costs one
   * per batch. (Typed `unknown` here so that a `Dataset<X>` stays a `Dataset<unknown>`; implementations return
   * the precise type.)
   */
  getBatch?(indices: readonly number[]): unknown;
}

/** The row type of a tensor: its type with the first dimension removed. */
export type Row<T extends tf.Tensor> = T extends tf.Tensor1D
  ? tf.Scalar
  : T extends tf.Tensor2D
    ? tf.Tensor1D
    : T extends tf.Tensor3D
      ? tf.Tensor2D
      : T extends tf.Tensor4D
        ? tf.Tensor3D
        : T extends tf.Tensor5D
          ? tf.Tensor4D
          : tf.Tensor;

/** One row of every tensor of a {@link TensorDataset}. */
export type Rows<T extends tf.Tensor[]> = { [K in keyof T]: T[K] extends tf.Tensor ? Row<T[K]> : never };

/**
 * Rows of tensors that share their first dimension, like `torch.utils.data.TensorDataset`: item `i` is row `i` of
 * every tensor, and a DataLoader builds a batch at once (see {@link TensorDataset.getBatch}).
 */
export class TensorDataset<T extends tf.Tensor[] = tf.Tensor[]> implements Dataset<Rows<T>> {
  /** The number of rows: the tensors' shared first dimension. */
  readonly length: number;
  private readonly tensors: T;

  constructor(...tensors: T) {
    if (tensors.length === 0) throw new FulmenError("TensorDataset needs at least one tensor.");
    const n = tensors[0]!.shape[0];
    if (n === undefined || tensors.some((t) => t.shape[0] !== n)) {
      throw new FulmenError(
        `TensorDataset: every tensor must have the same first dimension; got shapes ${tensors.map((t) => `[${t.shape}]`).join(", ")}.`,
      );
    }
    this.length = n;
    this.tensors = tensors;
  }

  /** Row `index` of every tensor (new tensors the caller owns). */
  get(index: number): Rows<T> {
    this.checkIndex(index);
    return this.tensors.map((t) => tf.tidy(() => tf.squeeze(tf.slice(t, [index], [1]), [0]))) as Rows<T>;
  }

  /**
   * Rows `indices` of every tensor, stacked: what `defaultCollate` makes of `indices.map(get)`, value for value,
   * with one gather per tensor (a copy of rows on tfjs's cpu backend) instead of a slice per row and a stack
   * (new tensors the caller owns).
   */
  getBatch(indices: readonly number[]): Collated<Rows<T>> {
    // A subclass that overrides `get` (a transform, an augmentation) defines its items there: its batches are
    // built from them, as the DataLoader would, so that the gather never bypasses the override.
    if (this.get !== TensorDataset.prototype.get)
      return tf.tidy(
        () => defaultCollate(indices.map((i) => this.get(i))) as unknown as tf.TensorContainer,
      ) as unknown as Collated<Rows<T>>;
    for (const index of indices) this.checkIndex(index);
    return this.tensors.map((t) => gatherRows(t, indices)) as unknown as Collated<Rows<T>>;
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new FulmenError(`TensorDataset: index ${index} is out of range for ${this.length} rows.`);
    }
  }
}

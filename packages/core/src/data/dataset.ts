import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";

/** A map-style dataset, like `torch.utils.data.Dataset`: a length and an item per index. */
export interface Dataset<T> {
  readonly length: number;
  get(index: number): T;
}

/** Rows of tensors that share their first dimension, like `torch.utils.data.TensorDataset`. */
export class TensorDataset implements Dataset<tf.Tensor[]> {
  readonly length: number;
  private readonly tensors: tf.Tensor[];

  constructor(...tensors: tf.Tensor[]) {
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
  get(index: number): tf.Tensor[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new FulmenError(`TensorDataset: index ${index} is out of range for ${this.length} rows.`);
    }
    return this.tensors.map((t) => tf.tidy(() => tf.squeeze(tf.slice(t, [index], [1]), [0])));
  }
}

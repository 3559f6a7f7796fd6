import { tf } from "../../runtime/tfjs";

/**
 * Applies a linear map along one axis of `x`: `y[..., i, ...] = Σ_j M[i, j] · x[..., j, ...]` with `M` given as
 * `[out, in]` rows. Resampling and adaptive average pooling are such maps per spatial axis; a matrix product
 * has an exact gradient on every backend and runs fast where the backend multiplies matrices fast.
 */
export function applyAlongAxis(x: tf.Tensor, axis: number, rows: Float32Array, out: number): tf.Tensor {
  const rank = x.rank;
  const length = x.shape[axis]!;
  const last = axis === rank - 1;
  const perm = x.shape.map((_, i) => i);
  perm[axis] = rank - 1;
  perm[rank - 1] = axis;
  const moved = last ? x : tf.transpose(x, perm);
  const lead = moved.shape.slice(0, -1);
  const flat = tf.reshape(moved, [-1, length]) as tf.Tensor2D;
  const m = tf.tensor2d(rows, [out, length]);
  const y = tf.reshape(tf.matMul(flat, m, false, true), [...lead, out]);
  return last ? y : tf.transpose(y, perm);
}

/** A dense `[out, in]` matrix from its non-zero entries `[row, column, weight]` (repeated entries add up). */
export function sparseRows(
  out: number,
  length: number,
  entries: Iterable<[number, number, number]>,
): Float32Array {
  const rows = new Float32Array(out * length);
  for (const [i, j, w] of entries) rows[i * length + j] = (rows[i * length + j] ?? 0) + w;
  return rows;
}

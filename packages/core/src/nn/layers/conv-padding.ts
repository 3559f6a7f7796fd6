import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";

/** How a convolution fills its padding, as PyTorch's `padding_mode`. */
export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

/** The padding modes, for option checks. */
export const PADDING_MODES: readonly PaddingMode[] = ["zeros", "reflect", "replicate", "circular"];

/** Padding of the two spatial dimensions: `[[top, bottom], [left, right]]`. */
export type SpatialPadding = [[number, number], [number, number]];

/**
 * The padding a convolution adds around its input, as PyTorch computes it: "valid" none; "same" a total of
 * `dilation·(kernel − 1)` per dimension, the odd one at the end; a pair that many on both sides.
 */
export function spatialPadding(
  padding: [number, number] | "valid" | "same",
  kernelSize: [number, number],
  dilation: [number, number],
): SpatialPadding {
  if (padding === "valid") {
    return [
      [0, 0],
      [0, 0],
    ];
  }
  if (padding === "same") {
    const side = (axis: 0 | 1): [number, number] => {
      const total = dilation[axis] * (kernelSize[axis] - 1);
      const before = Math.floor(total / 2);
      return [before, total - before];
    };
    return [side(0), side(1)];
  }
  return [
    [padding[0], padding[0]],
    [padding[1], padding[1]],
  ];
}

/** The `count` rows of `x` along `axis` that pad its start (or end) in `mode`. */
function edge(
  x: tf.Tensor,
  axis: number,
  count: number,
  atEnd: boolean,
  mode: Exclude<PaddingMode, "zeros">,
): tf.Tensor {
  const size = x.shape[axis]!;
  const begin = x.shape.map(() => 0);
  const extent = [...x.shape];
  if (mode === "reflect") {
    // the rows next to the edge, mirrored, the edge row itself left out
    begin[axis] = atEnd ? size - 1 - count : 1;
    extent[axis] = count;
    return tf.reverse(tf.slice(x, begin, extent), axis);
  }
  if (mode === "replicate") {
    begin[axis] = atEnd ? size - 1 : 0;
    extent[axis] = 1;
    // a broadcasting product rather than tile (or broadcastTo, which is tile): tfjs has no gradient for tile
    // above 4 dimensions (ReplicationPad3d); ×1 is exact
    const padded = x.shape.map((s, i) => (i === axis ? count : s));
    return tf.mul(tf.slice(x, begin, extent), tf.ones(padded, x.dtype));
  }
  // circular: the end wraps around to pad the start and vice versa
  begin[axis] = atEnd ? 0 : size - count;
  extent[axis] = count;
  return tf.slice(x, begin, extent);
}

/** Padding of one axis: the axis and how many entries go before and after it. */
export type AxisPadding = readonly [axis: number, before: number, after: number];

/**
 * Pads axes of a tensor with a non-zero padding mode, as `torch.nn.functional.pad` does (reflect: mirror
 * without the edge; replicate: repeat the edge; circular: wrap around), the axes in the order given (PyTorch
 * pads the last dimension first, which matters for the corners of circular and reflect padding only in
 * which entries they copy, not in their values). Built from slices, reversals and concatenations, whose
 * gradients are exact on every backend (tfjs's MirrorPad gradient drops the mirrored rows' share).
 */
export function padAxes(
  x: tf.Tensor,
  pads: readonly AxisPadding[],
  mode: Exclude<PaddingMode, "zeros">,
  owner = "pad",
): tf.Tensor {
  // PyTorch's limits: reflect pads less than the size (the edge is not repeated), circular at most the size.
  for (const [axis, before, after] of pads) {
    const size = x.shape[axis]!;
    const most = mode === "reflect" ? size - 1 : mode === "circular" ? size : Number.POSITIVE_INFINITY;
    if (Math.min(before, after) < 0) {
      throw new FulmenError(
        `${owner}: ${mode} padding cannot be negative (got [${before}, ${after}] on dimension ${axis}); crop with constant padding or a slice instead.`,
      );
    }
    if (Math.max(before, after) > most || (mode === "replicate" && size === 0)) {
      throw new FulmenError(
        `${owner}: ${mode} padding of ${Math.max(before, after)} is too large for a dimension of size ${size} (input shape [${x.shape}]); it must be at most ${most}. Use less padding or constant (zeros) padding.`,
      );
    }
  }
  let out: tf.Tensor = x;
  for (const [axis, before, after] of pads) {
    const parts: tf.Tensor[] = [];
    if (before > 0) parts.push(edge(out, axis, before, false, mode));
    parts.push(out);
    if (after > 0) parts.push(edge(out, axis, after, true, mode));
    if (parts.length > 1) out = tf.concat(parts, axis);
  }
  return out;
}

/**
 * Pads the spatial dimensions of an NCHW tensor with a non-zero padding mode, as a convolution's
 * `padding_mode` does (see {@link padAxes}).
 */
export function padSpatial(
  x: tf.Tensor4D,
  pad: SpatialPadding,
  mode: Exclude<PaddingMode, "zeros">,
  owner = "Conv2d",
): tf.Tensor4D {
  return padAxes(
    x,
    [
      [2, ...pad[0]],
      [3, ...pad[1]],
    ],
    mode,
    owner,
  ) as tf.Tensor4D;
}

/**
 * `x` with `factor − 1` zeros between consecutive entries along each of `axes`: an axis of length n becomes
 * `(n − 1)·factor + 1`. A dilated filter, or a strided transposed convolution's spread-out input, built from
 * ops that all have gradients on every tfjs backend.
 */
export function spreadAxes(x: tf.Tensor, axes: readonly number[], factors: readonly number[]): tf.Tensor {
  let out: tf.Tensor = x;
  axes.forEach((axis, i) => {
    const d = factors[i]!;
    if (d === 1) return;
    const shape = out.shape;
    const k = shape[axis]!;
    // [.., k, 1, ..] next to [.., k, d − 1, ..] zeros → [.., k·d, ..] → drop the zeros after the last entry.
    const taps = tf.expandDims(out, axis + 1);
    const zeros = tf.zeros([...shape.slice(0, axis + 1), d - 1, ...shape.slice(axis + 1)], out.dtype);
    const spread = tf.reshape(tf.concat([taps, zeros], axis + 1), [
      ...shape.slice(0, axis),
      k * d,
      ...shape.slice(axis + 1),
    ]);
    const extent = [...shape];
    extent[axis] = (k - 1) * d + 1;
    out = tf.slice(
      spread,
      shape.map(() => 0),
      extent,
    );
  });
  return out;
}

/**
 * A filter `[kH, kW, in, out]` with `dilation − 1` zeros between its taps: `[(kH − 1)·dH + 1, (kW − 1)·dW + 1,
 * in, out]`. Convolving with it at dilation 1 is the dilated convolution, built from ops that all have
 * gradients on every tfjs backend (tfjs's own dilated Conv2D has none, and refuses stride > 1 with it).
 */
export function dilateFilter(filter: tf.Tensor4D, dilation: [number, number]): tf.Tensor4D {
  return spreadAxes(filter, [0, 1], dilation) as tf.Tensor4D;
}

import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";

/** tfjs's SplitV attributes. */
export interface SplitAttrs {
  numOrSizeSplits: number | number[];
  axis: number;
}

/**
 * SplitV on memory: the input seen as `outer` rows of `row` elements, each output taking `width` elements of
 * every row from column `offset` (plain block copies on either engine).
 */
export function splitPlan(
  x: TensorInfo,
  attrs: SplitAttrs,
): { outer: number; row: number; pieces: Array<{ shape: number[]; offset: number; width: number }> } {
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits, axis);
  const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
  let offset = 0;
  const pieces = sizes.map((size) => {
    const piece = { shape: x.shape.map((d, i) => (i === axis ? size : d)), offset, width: size * inner };
    offset += piece.width;
    return piece;
  });
  return { outer: tf.util.sizeFromShape(x.shape.slice(0, axis)), row: x.shape[axis]! * inner, pieces };
}

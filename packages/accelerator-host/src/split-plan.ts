import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";

/** tfjs's SplitV attributes. */
export interface SplitAttrs {
  /**
   * How to split: a number of equal pieces (it must divide the axis), or the pieces' sizes along the axis
   * (one of them may be -1: what the others leave).
   */
  numOrSizeSplits: number | number[];
  /** The axis to split along (negative counts from the end). */
  axis: number;
}

/**
 * SplitV on memory: the input seen as `outer` rows of `row` elements, each output taking `width` elements of
 * every row from column `offset` (plain block copies on either engine).
 */
export function splitPlan(
  x: TensorInfo,
  attrs: SplitAttrs,
): {
  /** How many rows: the product of the dimensions before the split axis. */
  outer: number;
  /** The elements in each row: the split axis's size times the product of the dimensions after it. */
  row: number;
  /** The outputs, in order. */
  pieces: Array<{
    /** The output's shape: the input's, with this piece's size along the split axis. */
    shape: number[];
    /** Where the piece's elements start in each row. */
    offset: number;
    /** How many elements of each row the piece takes. */
    width: number;
  }>;
} {
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

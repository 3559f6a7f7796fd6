import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";

/** tfjs's pooling attributes. */
export interface PoolAttrs {
  /** The window's height and width (one number for both). */
  filterSize: number | [number, number];
  /** The stride along height and width (one number for both). */
  strides: number | [number, number];
  /**
   * tfjs's padding: `"valid"`, `"same"`, a number for every side, or `[before, after]` pairs per dimension.
   */
  pad: Parameters<typeof tf.backend_util.computePool2DInfo>[4];
  /** How output sizes that are not whole are rounded, with a numeric `pad` (tfjs's default: truncation). */
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** tfjs's description of a 2-D pooling of the NHWC tensor `x`. */
export function poolInfo(x: TensorInfo, attrs: PoolAttrs) {
  return tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** The engine's shape record (native/pool.h's Pool2DShape, in order). */
export function poolShape(c: ReturnType<typeof poolInfo>): number[] {
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.effectiveFilterHeight,
    c.effectiveFilterWidth,
    c.strideHeight,
    c.strideWidth,
    c.padInfo.top,
    c.padInfo.left,
  ];
}

/** tfjs's rule: a 1×1 pool that keeps the shape is the identity, whatever the padding says. */
export function poolIsIdentity(info: ReturnType<typeof poolInfo>): boolean {
  return (
    info.filterWidth === 1 && info.filterHeight === 1 && tf.util.arraysEqual(info.inShape, info.outShape)
  );
}

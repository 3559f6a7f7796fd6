/**
 * What another engine's kernels share with the host engine's (as tfjs-core's `backend_util` serves backend
 * authors): the op codes the native element-wise kernels take, shape and plan computations for products,
 * convolutions, pooling and reductions, the fused optimizer updates' specifications, and `Range`'s values.
 * The GPU engine (`@fulmen/accelerator-cuda`) builds its kernels on them, so both engines read a model alike.
 */
export { type GemmShape, gemmShapeOf } from "./batch-mat-mul";
export { type ConvAttrs, type ConvPlan, convPlan } from "./conv-shapes";
export { type OneHotAttrs, type RangeAttrs, rangeValues } from "./data-kernels";
export { BINARY, COMPARE, UNARY } from "./op-codes";
export { UPDATE_SPECS, type UpdateSpec } from "./optimizer-updates";
export { type PoolAttrs, poolInfo, poolIsIdentity, poolShape } from "./pool-shapes";
export {
  type ReducedBlock,
  type ReductionAttrs,
  reducedBlock,
  reducedShape,
  reduceInRuns,
  reductionAxes,
} from "./reduced-block";
export { type SplitAttrs, splitPlan } from "./split-plan";

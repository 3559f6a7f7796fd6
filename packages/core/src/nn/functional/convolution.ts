/**
 * The convolution family of `nn.functional`: convolutions and transposed convolutions, max/average and
 * adaptive pooling, padding and interpolation.
 */
export * from "./adaptive-pool";
export {
  type ConvOptions,
  type ConvTransposeOptions,
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
} from "./conv";
export { type InterpolateMode, type InterpolateOptions, interpolate } from "./interpolate";
export type { MaxUnpoolOptions } from "./max-indices";
export { maxUnpool1d, maxUnpool2d, maxUnpool3d } from "./max-unpool";
export { type PadMode, type PadOptions, pad } from "./pad";
export {
  type AvgPoolOptions,
  avgPool1d,
  avgPool2d,
  type MaxPoolOptions,
  maxPool1d,
  maxPool2d,
  type PoolOptions,
} from "./pool";
export { avgPool3d, maxPool3d } from "./pool3d";
export type { IntTuple } from "./tuples";

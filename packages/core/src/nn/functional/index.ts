/**
 * `nn.functional`: PyTorch's functional forms, one file per family (losses, activations, convolution and pooling,
 * normalisation, attention), gathered here. The files' shared checks and building blocks stay internal.
 */
export {
  type DimOptions,
  type EluOptions,
  elu,
  type GeluOptions,
  gelu,
  glu,
  type HardtanhOptions,
  hardsigmoid,
  hardswish,
  hardtanh,
  type LeakyReluOptions,
  leakyRelu,
  logSoftmax,
  mish,
  prelu,
  relu,
  type SoftplusOptions,
  selu,
  sigmoid,
  silu,
  softmax,
  softplus,
  tanh,
} from "./activations";
export * from "./attention";
export * from "./bilinear";
export {
  type AdaptiveMaxPoolOptions,
  type AdaptiveSize,
  type AvgPoolOptions,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  type ConvOptions,
  type ConvTransposeOptions,
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
  type InterpolateMode,
  type InterpolateOptions,
  type IntTuple,
  interpolate,
  type MaxPoolOptions,
  type MaxUnpoolOptions,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  maxUnpool1d,
  maxUnpool2d,
  maxUnpool3d,
  type PadMode,
  type PadOptions,
  type PoolOptions,
  pad,
} from "./convolution";
export * from "./distance";
export * from "./dropout";
export { type EmbeddingFunctionOptions, embedding, type OneHotOptions, oneHot } from "./embedding";
export * from "./embedding-bag";
export * from "./fold";
export * from "./grid-sample";
export * from "./linear";
export * from "./local-response-norm";
export * from "./losses";
export {
  type BatchNormFunctionOptions,
  batchNorm,
  type GroupNormFunctionOptions,
  groupNorm,
  type InstanceNormFunctionOptions,
  instanceNorm,
  type LayerNormFunctionOptions,
  layerNorm,
  type RmsNormFunctionOptions,
  rmsNorm,
} from "./normalization";
export { gruCell, lstmCell, type RecurrentMode, rnnReluCell, rnnTanhCell } from "./recurrent";
export {
  type ChannelShuffleOptions,
  channelShuffle,
  type PixelShuffleOptions,
  type PixelUnshuffleOptions,
  pixelShuffle,
  pixelUnshuffle,
} from "./shuffle";
export {
  type CeluOptions,
  celu,
  logsigmoid,
  type RreluOptions,
  rrelu,
  softmin,
  softsign,
  tanhshrink,
} from "./smooth-activations";
export {
  hardshrink,
  relu6,
  type ShrinkOptions,
  softshrink,
  type ThresholdOptions,
  threshold,
} from "./threshold-activations";

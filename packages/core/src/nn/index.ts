export { Parameter } from "../autograd/parameter";
export * as functional from "./functional/index";
export {
  type BCEWithLogitsOptions,
  binaryCrossEntropyWithLogits,
  type CrossEntropyOptions,
  crossEntropy,
  mseLoss,
  type Reduction,
} from "./functional/losses";
export * as init from "./init";
export {
  Flatten,
  GELU,
  Hardsigmoid,
  Hardswish,
  Identity,
  LogSigmoid,
  Mish,
  ReLU,
  ReLU6,
  SELU,
  Sigmoid,
  SiLU,
  Softsign,
  Tanh,
  Tanhshrink,
} from "./layers/activations";
export {
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AdaptiveAvgPool3d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  AdaptiveMaxPool3d,
} from "./layers/adaptive-pool";
export { BatchNorm1d, BatchNorm2d, BatchNorm3d, type BatchNormOptions } from "./layers/batch-norm";
export { Bilinear, type BilinearOptions } from "./layers/bilinear";
export { ModuleList, Sequential, type UnaryModule } from "./layers/containers";
export type { ConvNdOptions } from "./layers/conv-nd";
export type { PaddingMode } from "./layers/conv-padding";
export {
  ConvTranspose1d,
  ConvTranspose2d,
  ConvTranspose3d,
  type ConvTransposeForwardOptions,
  type ConvTransposeModuleOptions,
} from "./layers/conv-transpose";
export { Conv1d, type Conv1dOptions, type Size1d } from "./layers/conv1d";
export { Conv2d, type Conv2dOptions, type Size2d } from "./layers/conv2d";
export { Conv3d, type Conv3dOptions, type Size3d } from "./layers/conv3d";
export { CosineSimilarity, PairwiseDistance } from "./layers/distance";
export {
  AlphaDropout,
  Dropout,
  Dropout1d,
  Dropout2d,
  Dropout3d,
  FeatureAlphaDropout,
} from "./layers/dropout";
export { Embedding, type EmbeddingOptions } from "./layers/embedding";
export { EmbeddingBag, type EmbeddingBagModuleOptions } from "./layers/embedding-bag";
export { Fold, Unfold } from "./layers/fold";
export { GroupNorm, type GroupNormOptions } from "./layers/group-norm";
export {
  InstanceNorm1d,
  InstanceNorm2d,
  InstanceNorm3d,
  type InstanceNormOptions,
} from "./layers/instance-norm";
export {
  type KeyedEntries,
  ModuleDict,
  ParameterDict,
  type ParameterLike,
  ParameterList,
} from "./layers/keyed-containers";
export { LayerNorm, type LayerNormOptions } from "./layers/layer-norm";
export { Linear, type LinearOptions } from "./layers/linear";
export { LocalResponseNorm } from "./layers/local-response-norm";
export {
  BCELoss,
  BCEWithLogitsLoss,
  CosineEmbeddingLoss,
  CrossEntropyLoss,
  CTCLoss,
  GaussianNLLLoss,
  HingeEmbeddingLoss,
  HuberLoss,
  KLDivLoss,
  L1Loss,
  MarginRankingLoss,
  MSELoss,
  MultiLabelMarginLoss,
  MultiLabelSoftMarginLoss,
  MultiMarginLoss,
  NLLLoss,
  PoissonNLLLoss,
  SmoothL1Loss,
  SoftMarginLoss,
  TripletMarginLoss,
  TripletMarginWithDistanceLoss,
} from "./layers/losses";
export { MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, type MaxUnpoolModuleOptions } from "./layers/max-unpool";
export {
  generateSquareSubsequentMask,
  MultiheadAttention,
  type MultiheadAttentionForwardOptions,
  type MultiheadAttentionOptions,
} from "./layers/multihead-attention";
export {
  CircularPad1d,
  CircularPad2d,
  CircularPad3d,
  ConstantPad1d,
  ConstantPad2d,
  ConstantPad3d,
  type PaddingSize,
  ReflectionPad1d,
  ReflectionPad2d,
  ReflectionPad3d,
  ReplicationPad1d,
  ReplicationPad2d,
  ReplicationPad3d,
  ZeroPad1d,
  ZeroPad2d,
  ZeroPad3d,
} from "./layers/padding";
export {
  CELU,
  ELU,
  Hardshrink,
  Hardtanh,
  LeakyReLU,
  RReLU,
  Softplus,
  Softshrink,
  Threshold,
} from "./layers/parametrized-activations";
export {
  AvgPool1d,
  type AvgPool1dOptions,
  AvgPool2d,
  type AvgPool2dOptions,
  MaxPool1d,
  MaxPool2d,
  type MaxPool2dOptions,
  type Pool2dOptions,
  type PoolResult,
} from "./layers/pooling";
export { AvgPool3d, MaxPool3d } from "./layers/pooling3d";
export { PReLU } from "./layers/prelu";
export { RMSNorm, type RMSNormOptions } from "./layers/rms-norm";
export {
  GRU,
  type GRUOptions,
  LSTM,
  type LSTMOptions,
  type RecurrentRun,
  RNN,
  type RNNBaseOptions,
  type RNNOptions,
} from "./layers/rnn";
export {
  GRUCell,
  LSTMCell,
  RNNCell,
  type RNNCellBaseOptions,
  type RNNCellOptions,
} from "./layers/rnn-cell";
export { ChannelShuffle, PixelShuffle, PixelUnshuffle } from "./layers/shuffle";
export { GLU, LogSoftmax, Softmax, Softmax2d, Softmin } from "./layers/softmax";
export {
  Transformer,
  type TransformerForwardOptions,
  type TransformerOptions,
} from "./layers/transformer";
export { deepCopyModule, type TransformerActivation } from "./layers/transformer-common";
export {
  TransformerDecoder,
  type TransformerDecoderForwardOptions,
  TransformerDecoderLayer,
  type TransformerDecoderOptions,
} from "./layers/transformer-decoder";
export {
  TransformerEncoder,
  type TransformerEncoderForwardOptions,
  TransformerEncoderLayer,
  type TransformerEncoderLayerForwardOptions,
  type TransformerEncoderOptions,
  type TransformerLayerOptions,
} from "./layers/transformer-encoder";
export { Unflatten } from "./layers/unflatten";
export { Upsample } from "./layers/upsample";
export {
  type BufferOptions,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  type StateDict,
} from "./module";
export * as utils from "./utils/index";

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
export { Flatten, GELU, Identity, ReLU, Sigmoid, Tanh } from "./layers/activations";
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from "./layers/batch-norm";
export { ModuleList, Sequential, type UnaryModule } from "./layers/containers";
export type { PaddingMode } from "./layers/conv-padding";
export { Conv2d, type Conv2dOptions } from "./layers/conv2d";
export { Dropout } from "./layers/dropout";
export { Embedding, type EmbeddingOptions } from "./layers/embedding";
export { LayerNorm, type LayerNormOptions } from "./layers/layer-norm";
export { Linear, type LinearOptions } from "./layers/linear";
export { BCEWithLogitsLoss, CrossEntropyLoss, MSELoss } from "./layers/losses";
export {
  AvgPool2d,
  type AvgPool2dOptions,
  MaxPool2d,
  type MaxPool2dOptions,
  type Pool2dOptions,
} from "./layers/pooling";
export {
  type BufferOptions,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  type StateDict,
} from "./module";

export { Module, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from "./module";
export { Parameter } from "../autograd/parameter";
export { Linear, type LinearOptions } from "./layers/linear";
export { Conv2d, type Conv2dOptions } from "./layers/conv2d";
export { Embedding, type EmbeddingOptions } from "./layers/embedding";
export { LayerNorm, type LayerNormOptions } from "./layers/layer-norm";
export { Dropout } from "./layers/dropout";
export { ReLU, Tanh, Sigmoid, GELU, Identity, Flatten } from "./layers/activations";
export { Sequential, ModuleList, type UnaryModule } from "./layers/containers";
export { CrossEntropyLoss, MSELoss, BCEWithLogitsLoss } from "./layers/losses";
export * as init from "./init";
export * as functional from "./functional/losses";
export {
  crossEntropy,
  mseLoss,
  binaryCrossEntropyWithLogits,
  type Reduction,
  type CrossEntropyOptions,
  type BCEWithLogitsOptions,
} from "./functional/losses";

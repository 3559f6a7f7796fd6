/**
 * @fulmen/core: PyTorch-exact modules, optimizers, LR schedulers and clipping on TensorFlow.js, and the
 * interfaces that every Fulmen plugin implements.
 */

export { castToHalf, type HalfDtype, type HalfFormat } from "./amp/autocast";
export { bfloat16, float16, halfFormat } from "./amp/half-formats";
export {
  decodeHalf,
  encodeHalf,
  float16Bits,
  float16FromBits,
  roundBfloat16,
  roundBfloat16Array,
  roundFloat16,
  roundFloat16Array,
} from "./amp/half-rounding";
export { backward, type ParameterSource, toParameterList } from "./autograd/backward";
export { type CheckpointOptions, checkpoint, isRecomputing } from "./autograd/checkpoint";
export { deferParameterInit, Parameter, type ParameterOptions } from "./autograd/parameter";
export {
  type CheckpointContents,
  type CheckpointFile,
  type CheckpointFileSystem,
  type CheckpointIO,
  copyFileAtomic,
  nodeFileSystem,
  readCheckpointFile,
  SafetensorsCheckpointIO,
  type SafetensorsCheckpointIOOptions,
  writeFileAtomic,
} from "./checkpoint/checkpoint-io";
export { type ExportedWeights, type ExportWeightsOptions, exportWeights } from "./checkpoint/export-weights";
export {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsFile,
} from "./checkpoint/safetensors";
export { isShardedCheckpoint } from "./checkpoint/sharded-checkpoint";
export { BatchSampler } from "./data/batch-sampler";
export {
  type Collated,
  type CollatedTree,
  defaultCollate,
  type FloatArray,
  type IntegerArray,
  type Stacked,
} from "./data/collate";
export { ConcatDataset } from "./data/concat-dataset";
export type { BatchSamplerLike } from "./data/data-loader";
export { type CollateFn, DataLoader, type DataLoaderOptions } from "./data/data-loader";
export { type Dataset, type Row, type Rows, TensorDataset } from "./data/dataset";
export { DistributedSampler, type DistributedSamplerOptions } from "./data/distributed-sampler";
export { ChainDataset, type IterableDataset, isIterableDataset } from "./data/iterable-dataset";
export { randomSplit } from "./data/random-split";
export { type Sampler, SequentialSampler } from "./data/sampler";
export { Subset } from "./data/subset";
export { WeightedRandomSampler, type WeightedRandomSamplerOptions } from "./data/weighted-random-sampler";
export * as nn from "./nn/index";
export { type LoadStateDictOptions, type LoadStateDictResult, Module, type StateDict } from "./nn/module";
export { Adadelta, type AdadeltaOptions } from "./optim/adadelta";
export { Adagrad, type AdagradOptions } from "./optim/adagrad";
export { Adam, type AdamOptions, AdamW } from "./optim/adam";
export { Adamax, type AdamaxOptions } from "./optim/adamax";
export { type ClipGradNormOptions, clipGradNorm_, clipGradValue_ } from "./optim/clip-grad";
export { LBFGS, type LBFGSLoss, type LBFGSOptions } from "./optim/lbfgs";
export * from "./optim/lr-scheduler/index";
export { NAdam, type NAdamOptions } from "./optim/nadam";
export {
  type BaseOptimizerOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type ParamsInput,
} from "./optim/optimizer";
export { RAdam, type RAdamOptions } from "./optim/radam";
export { RMSprop, type RMSpropOptions } from "./optim/rmsprop";
export { SGD, type SGDOptions } from "./optim/sgd";
export type { Accelerator } from "./plugins/accelerator";
export { type ClusterEnvironment, LightningEnvironment } from "./plugins/cluster-environment";
export {
  type Collective,
  type CollectiveData,
  type CollectiveFactory,
  type CollectiveOptions,
  type HalfBits,
  type ReduceOptions,
  type ReducibleData,
  SingleProcessCollective,
  type StartedCollective,
  type TensorReducer,
} from "./plugins/collective";
export type { Logger, RunStatus } from "./plugins/logger";
export { Precision } from "./plugins/precision";
export { type ReduceOp, Strategy } from "./plugins/strategy";
export { Generator, type GeneratorState } from "./random/generator";
export { drawSeed, getDefaultGenerator, manualSeed, seedEverything } from "./random/seed";
export { tf } from "./runtime/tfjs";
export { FulmenError } from "./utils/errors";

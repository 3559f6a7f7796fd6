/**
 * @fulmen/core: PyTorch-exact modules, optimizers, LR schedulers and clipping on TensorFlow.js, and the
 * interfaces that every Fulmen plugin implements.
 */

export {
  type AutocastState,
  castToHalf,
  currentAutocast,
  type Differentiable,
  followInputOp,
  type HalfDtype,
  type HalfFormat,
  halfFormatOf,
  halfOp,
  lowerPrecisionOp,
  markHalf,
  toFloat32,
  withAutocast,
} from "./amp/autocast";
export { currentBufferFormat, withBufferFormat } from "./amp/buffer-format";
export { bfloat16, float16, halfFormat } from "./amp/half-formats";
export {
  decodeHalf,
  encodeHalf,
  float16Bits,
  float16FromBits,
  ROUND_BFLOAT16_KERNEL,
  ROUND_FLOAT16_KERNEL,
  roundBfloat16,
  roundBfloat16Array,
  roundFloat16,
  roundFloat16Array,
} from "./amp/half-rounding";
export { ensureRoundingKernels, ROUND_KERNELS } from "./amp/rounding-kernels";
export { backward, type ParameterSource, toParameterList } from "./autograd/backward";
export { type CheckpointOptions, checkpoint, isRecomputing } from "./autograd/checkpoint";
export { deferParameterInit, Parameter, type ParameterOptions } from "./autograd/parameter";
export { replaceTensorLeaves, tensorLeaves } from "./autograd/tensor-tree";
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
export {
  copyShardedCheckpoint,
  isShardedCheckpoint,
  readShardedCheckpoint,
  readShardedMetadata,
  removeOtherGenerations,
  SHARDED_METADATA_FILE,
  type ShardedChunk,
  type ShardedMetadata,
  type ShardedTensor,
  shardFileName,
  writeShardedMetadata,
} from "./checkpoint/sharded-checkpoint";
export {
  decodeSkeleton,
  disposeDecoded,
  encodeState,
  isStateful,
  restoreState,
  type Skeleton,
  type StateFilter,
  type Stateful,
} from "./checkpoint/state-codec";
export { decodeTensor, encodeTensor, type StorageDtype } from "./checkpoint/tensor-codec";
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
export {
  hasDeferredParameters,
  isMaterializing,
  materializeDeferred,
  materializeOwn,
  materializing,
} from "./nn/deferred-init";
export {
  backendHasKernels,
  fusedGelu,
  fusedLayerNorm,
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
} from "./nn/fused-kernels";
export * as nn from "./nn/index";
export { type LoadStateDictOptions, type LoadStateDictResult, Module, type StateDict } from "./nn/module";
export { Adadelta, type AdadeltaOptions } from "./optim/adadelta";
export { ADAGRAD_UPDATE_KERNEL, Adagrad, type AdagradOptions } from "./optim/adagrad";
export { ADAM_UPDATE_KERNEL, Adam, type AdamOptions, AdamW } from "./optim/adam";
export { Adamax, type AdamaxOptions } from "./optim/adamax";
export { type ClipGradNormOptions, clipGradNorm_, clipGradValue_ } from "./optim/clip-grad";
export { type HeldGradients, heldGradientsOf, setHeldGradients } from "./optim/held-gradients";
export { LBFGS, type LBFGSLoss, type LBFGSOptions } from "./optim/lbfgs";
export * from "./optim/lr-scheduler/index";
export { NAdam, type NAdamOptions } from "./optim/nadam";
export {
  type BaseOptimizerOptions,
  numberParamGroups,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type ParamsInput,
} from "./optim/optimizer";
export { RAdam, type RAdamOptions } from "./optim/radam";
export { RMSPROP_UPDATE_KERNEL, RMSprop, type RMSpropOptions } from "./optim/rmsprop";
export { SGD, SGD_UPDATE_KERNEL, type SGDOptions } from "./optim/sgd";
export type { Accelerator } from "./plugins/accelerator";
export { type ClusterEnvironment, LightningEnvironment } from "./plugins/cluster-environment";
export {
  type Collective,
  type CollectiveData,
  type CollectiveFactory,
  type CollectiveOptions,
  collectiveRegistry,
  type HalfBits,
  type ReduceOptions,
  type ReducibleData,
  SingleProcessCollective,
  type StartedCollective,
  type TensorReducer,
} from "./plugins/collective";
export type { Logger, RunStatus } from "./plugins/logger";
export { locateNativeAddon, prebuildPlatform } from "./plugins/native-addon";
export { Precision } from "./plugins/precision";
export {
  acceleratorRegistry,
  type KnownElsewhere,
  type PluginEntry,
  type PluginInfo,
  PluginRegistry,
  type PluginRegistryStore,
  precisionRegistry,
  strategyRegistry,
} from "./plugins/registry";
export { type ReduceOp, Strategy } from "./plugins/strategy";
export { Generator, type GeneratorState } from "./random/generator";
export { drawSeed, getDefaultGenerator, manualSeed, seedEverything } from "./random/seed";
export {
  type BackendFeatures,
  backendFeatures,
  declareBackendFeatures,
} from "./runtime/backend-features";
export { forgetFreedStorage, freeTensorStorage, refillTensorStorage } from "./runtime/tensor-storage";
export { tf } from "./runtime/tfjs";
export { FulmenError } from "./utils/errors";
export { checkNumber, checkOptionNames, describeValue, toCamelCase } from "./utils/options";

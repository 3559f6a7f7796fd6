/**
 * @fulmen/core/plugin: what plugin authors need beside the user API of `@fulmen/core`, as tfjs-core's
 * `backend_util` is for backend authors — the kernels an engine may register by name (fused updates, rounding,
 * GELU, layer norm) and the backend features it declares, the plugin registries, the state codecs and sharded
 * checkpoint files strategies write, the half-precision machinery precision plugins drive, the storage and
 * parameter hooks sharded strategies use, and option checking. The contracts a plugin implements (`Accelerator`,
 * `Strategy`, `Precision`, `Collective`, `ClusterEnvironment`, `CheckpointIO`, `Logger`) are exported here too,
 * so a plugin imports from one place.
 */

export {
  type AutocastState,
  currentAutocast,
  type Differentiable,
  followInputOp,
  halfFormatOf,
  halfOp,
  lowerPrecisionOp,
  markHalf,
  toFloat32,
  withAutocast,
} from "./amp/autocast";
export { currentBufferFormat, withBufferFormat } from "./amp/buffer-format";
export { ROUND_BFLOAT16_KERNEL, ROUND_FLOAT16_KERNEL } from "./amp/half-rounding";
export { ensureRoundingKernels, ROUND_KERNELS } from "./amp/rounding-kernels";
export { replaceTensorLeaves, tensorLeaves } from "./autograd/tensor-tree";
export type { CheckpointContents, CheckpointFile, CheckpointIO } from "./checkpoint/checkpoint-io";
export {
  copyShardedCheckpoint,
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
export {
  hasDeferredParameters,
  isMaterializing,
  materializeDeferred,
  materializeOwn,
  materializing,
} from "./nn/deferred-init";
export {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  type AttentionBiasLayout,
  attentionBiasLayout,
  type FusedAttentionResult,
  fusedAttention,
} from "./nn/fused-attention-kernels";
export {
  backendHasKernels,
  fusedGelu,
  fusedGruCell,
  fusedLayerNorm,
  fusedLstmCell,
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  GRU_CELL_GRAD_KERNEL,
  GRU_CELL_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  LSTM_CELL_GRAD_KERNEL,
  LSTM_CELL_KERNEL,
} from "./nn/fused-kernels";
export {
  type FusedSequenceResult,
  fusedGruSequence,
  fusedLstmSequence,
  GRU_SEQUENCE_GRAD_KERNEL,
  GRU_SEQUENCE_KERNEL,
  LSTM_SEQUENCE_GRAD_KERNEL,
  LSTM_SEQUENCE_KERNEL,
} from "./nn/fused-sequence-kernels";
export { ADAGRAD_UPDATE_KERNEL } from "./optim/adagrad";
export { ADAM_UPDATE_KERNEL } from "./optim/adam";
export { type HeldGradients, heldGradientsOf, setHeldGradients } from "./optim/held-gradients";
export { numberParamGroups } from "./optim/optimizer";
export { RMSPROP_UPDATE_KERNEL } from "./optim/rmsprop";
export { SGD_UPDATE_KERNEL } from "./optim/sgd";
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
export { type BackendFeatures, backendFeatures, declareBackendFeatures } from "./runtime/backend-features";
export { forgetFreedStorage, freeTensorStorage, refillTensorStorage } from "./runtime/tensor-storage";
export { checkNumber, checkOptionNames, describeValue, toCamelCase } from "./utils/options";

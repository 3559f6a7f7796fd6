/** @fulmen/fabric: Lightning Fabric for TypeScript. */

/** Seeds every random source (Lightning's `lightning.fabric.seed_everything`): core's function, re-exported. */
export { seedEverything } from "@fulmen/core";
export { CpuAccelerator } from "./accelerators/cpu-accelerator";
export { registerWasmKernels } from "./accelerators/wasm/register-kernels";
export { WasmAccelerator } from "./accelerators/wasm/wasm-accelerator";
export { CONSOLIDATE_USAGE, consolidateCommand } from "./cli/consolidate-command";
export { parseRunArgs, RUN_USAGE, type RunPlan, rankEnvironment, runCommand } from "./cli/run-command";
export {
  applyCliOverrides,
  type Connection,
  type ConnectorOptions,
  connect,
  type PrecisionInput,
} from "./connector/connector";
export { FabricDataLoader, type SetupDataloadersOptions } from "./data/fabric-data-loader";
export { detectClusterEnvironment } from "./environments/detect-environment";
export { KubeflowEnvironment } from "./environments/kubeflow-environment";
export { LSFEnvironment } from "./environments/lsf-environment";
export { MPIEnvironment } from "./environments/mpi-environment";
export { SLURMEnvironment } from "./environments/slurm-environment";
export { expandSlurmHostList } from "./environments/slurm-hostlist";
export { TorchElasticEnvironment } from "./environments/torchelastic-environment";
export type { NoBackwardSyncOptions, RankZeroFirstOptions } from "./fabric";
export {
  type ClipGradientsOptions,
  Fabric,
  type FabricOptions,
  type FabricPlugin,
  type InitModuleOptions,
  type LoadOptions,
  type SaveOptions,
  type SetupResult,
} from "./fabric";
export { findFreePort } from "./launcher/free-port";
export { type LocalLaunchOptions, launchLocalRanks } from "./launcher/subprocess-launcher";
export {
  CSVLogger,
  type CSVLoggerOptions,
  EventFileWriter,
  maskedCrc32c,
  TensorBoardLogger,
  type TensorBoardLoggerOptions,
  tensorboardTypes,
  tfRecord,
} from "./loggers/index";
export { DDPStrategy, type DDPStrategyOptions } from "./strategies/ddp/ddp-strategy";
export { type GradientCompression, GradientReducer } from "./strategies/ddp/gradient-reducer";
export {
  ParallelStrategy,
  type ParallelStrategyOptions,
} from "./strategies/parallel/parallel-strategy";
export { destroyProcessGroup } from "./strategies/parallel/process-group";
export { FlatParameter } from "./strategies/sharded/flat-parameter";
export { FlatShard, type ShardPiece } from "./strategies/sharded/flat-shard";
export { ShardedOptimizer } from "./strategies/sharded/sharded-optimizer";
export {
  type ShardedDtypes,
  ShardedStrategy,
  type ShardingPlan,
  type StateDictType,
} from "./strategies/sharded/sharded-strategy";
export { assignParameters, type UnitAssignment } from "./strategies/sharded/unit-assignment";
export { SingleDeviceStrategy } from "./strategies/single-device-strategy";
export { mapTensorTree, type TensorTree, type TensorTreeResult } from "./tensor-tree";

/** @fulmen/fabric: Lightning Fabric for TypeScript. */

export { CpuAccelerator } from "./accelerators/cpu-accelerator";
export { registerWasmKernels } from "./accelerators/wasm/register-kernels";
export { WasmAccelerator } from "./accelerators/wasm/wasm-accelerator";
export { type Connection, type ConnectorOptions, connect, type PrecisionInput } from "./connector/connector";
export { FabricDataLoader, type SetupDataloadersOptions } from "./data/fabric-data-loader";
export {
  type ClipGradientsOptions,
  Fabric,
  type FabricOptions,
  type FabricPlugin,
  type LoadOptions,
  type SaveOptions,
} from "./fabric";
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
export { SingleDeviceStrategy } from "./strategies/single-device-strategy";

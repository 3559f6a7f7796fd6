export type { PooledArrayConstructor } from "./buffer-pool";
export { HostAccelerator } from "./host-accelerator";
export { HostEngineBackend } from "./host-backend";
export * as kernelUtil from "./kernel-util";
export {
  type AttentionShapeArgs,
  configureOpenBlas,
  isEngineAvailable,
  loadEngine,
  type NativeEngine,
} from "./native-engine";
export { HOST_BACKEND, registerHostBackend } from "./register-host-backend";

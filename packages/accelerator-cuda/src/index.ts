export {
  CUDA_BACKEND,
  CUDA_EMULATE_ENV,
  CUDA_UNVERIFIED_ENV,
  CudaAccelerator,
  type CudaProbe,
  probeCuda,
} from "./cuda-accelerator";
export {
  CUDA_EMULATION_ADDON_ENV,
  type CudaEngineAddon,
  loadCudaEmulation,
  loadCudaEngine,
} from "./cuda-engine";
export { DeviceBackend, type DeviceBackendMemory } from "./device/device-backend";
export type { DeviceMemoryStats, NativeDevice } from "./device/native-device";
export { registerDeviceBackend } from "./device/register-device-backend";

export {
  CUDA_BACKEND,
  CUDA_EMULATE_ENV,
  CUDA_UNVERIFIED_ENV,
  CudaAccelerator,
  type CudaProbe,
  probeCuda,
} from "./cuda-accelerator";
export { type CudaEngineAddon, type HostMemoryDeviceAddon, loadCudaEngine } from "./cuda-engine";
export {
  CUDA_EMULATION_BACKEND,
  isCudaEmulationAvailable,
  registerCudaEmulationBackend,
} from "./device/cuda-emulation";
export { DeviceBackend, type DeviceBackendMemory } from "./device/device-backend";
export { HOST_MEMORY_DEVICE_BACKEND, registerHostMemoryDeviceBackend } from "./device/host-memory-device";
export type { DeviceMemoryStats, NativeDevice } from "./device/native-device";
export { registerDeviceBackend } from "./device/register-device-backend";

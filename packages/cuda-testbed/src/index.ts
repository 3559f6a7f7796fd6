export {
  CUDA_EMULATION_BACKEND,
  emulatedCudaEnvironment,
  isCudaEmulationAvailable,
  registerCudaEmulationBackend,
} from "./cuda-emulation";
export { HOST_MEMORY_DEVICE_BACKEND, registerHostMemoryDeviceBackend } from "./host-memory-device";
export { isTestbedBuilt, loadTestbed, TESTBED_ADDON, type TestbedAddon } from "./testbed-addon";

export { CudaAccelerator, type CudaProbe, probeCuda } from "./cuda-accelerator";
export { HostAccelerator } from "./host-accelerator";
export { HostEngineBackend } from "./host-backend";
export { isEngineAvailable, loadEngine, type NativeEngine } from "./native-engine";
export { HOST_BACKEND, registerHostBackend } from "./register-host-backend";

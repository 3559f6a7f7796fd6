// N-API surface of the GPU build: createCudaDevice(ordinal) → a device engine on that GPU (device/device_napi.h).
// Built only where the CUDA toolkit (nvcc) is installed; the runtime is linked statically, so the addon loads on
// machines without any CUDA library and says why it cannot run instead of crashing.
#include <napi.h>

#include "cuda/cuda_engine_napi.h"

static Napi::Object initCudaEngine(Napi::Env env, Napi::Object exports) {
  exports.Set("createCudaDevice", Napi::Function::New(env, fulmen::createCudaDevice));
  return exports;
}

NODE_API_MODULE(fulmen_cuda_engine, initCudaEngine)

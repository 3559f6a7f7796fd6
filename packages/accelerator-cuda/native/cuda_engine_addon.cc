// N-API surface of the GPU build: createCudaDevice(ordinal) → a device engine on that GPU (device/device_napi.h).
// Built only where the CUDA toolkit (nvcc) is installed; the runtime is linked statically, so the addon loads on
// machines without any CUDA library and says why it cannot run instead of crashing.
#include <napi.h>

#include <stdexcept>

#include "cuda/cuda_engine.h"
#include "device/device_napi.h"

namespace {

Napi::Value createCudaDevice(const Napi::CallbackInfo& info) {
  const int ordinal = info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : 0;
  try {
    return fulmen::wrapDeviceEngine(info.Env(), fulmen::makeCudaEngine(ordinal));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("cuda:") + std::to_string(ordinal) + ": " + e.what());
  }
}

}  // namespace

static Napi::Object initCudaEngine(Napi::Env env, Napi::Object exports) {
  exports.Set("createCudaDevice", Napi::Function::New(env, createCudaDevice));
  return exports;
}

#if defined(FULMEN_CUDA_EMULATION)
NODE_API_MODULE(fulmen_cuda_emulation, initCudaEngine)
#else
NODE_API_MODULE(fulmen_cuda_engine, initCudaEngine)
#endif

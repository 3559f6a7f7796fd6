// N-API surface of the repository's GPU test bed, one addon: createCudaDevice(ordinal) → the GPU engine's own code
// (@fulmen/accelerator-cuda's engine and kernels) on the host CUDA emulator; createHostMemoryDevice() → the device
// backend over host memory, with the host build's kernels (@fulmen/accelerator-host's) behind it.
#include <napi.h>

#include "cuda/cuda_engine_napi.h"
#include "device/device_napi.h"
#include "device/host_memory_engine.h"

namespace {

Napi::Value createHostMemoryDevice(const Napi::CallbackInfo& info) {
  return fulmen::wrapDeviceEngine(info.Env(), fulmen::makeHostMemoryEngine());
}

}  // namespace

static Napi::Object initTestbed(Napi::Env env, Napi::Object exports) {
  exports.Set("createCudaDevice", Napi::Function::New(env, fulmen::createCudaDevice));
  exports.Set("createHostMemoryDevice", Napi::Function::New(env, createHostMemoryDevice));
  return exports;
}

NODE_API_MODULE(fulmen_cuda_testbed, initTestbed)

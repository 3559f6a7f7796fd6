// N-API surface of the device backend over host memory: createHostMemoryDevice() → the GPU engine's device
// backend with the host build's kernels behind it (device/host_memory_engine.h), CI's stand-in for a GPU.
#include <napi.h>

#include "device_napi.h"
#include "host_memory_engine.h"

namespace {

Napi::Value createHostMemoryDevice(const Napi::CallbackInfo& info) {
  return fulmen::wrapDeviceEngine(info.Env(), fulmen::makeHostMemoryEngine());
}

}  // namespace

static Napi::Object initHostMemoryDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("createHostMemoryDevice", Napi::Function::New(env, createHostMemoryDevice));
  return exports;
}

NODE_API_MODULE(fulmen_host_memory_device, initHostMemoryDevice)

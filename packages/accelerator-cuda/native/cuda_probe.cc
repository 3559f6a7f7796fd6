// Finds NVIDIA GPUs through the CUDA runtime, linked statically so the addon loads on machines without any
// CUDA library; where there is no driver or no GPU, says why instead of crashing.
#include <cuda_runtime_api.h>
#include <napi.h>

#include <string>

#include "cuda/cublas_loader.h"

namespace {

// { loaded, library } or { loaded: false, error }: whether GEMMs would run on cuBLAS or the engine's tiled kernel.
Napi::Object cublasStatus(Napi::Env env) {
  const fulmen::CublasApi& api = fulmen::cublas();
  auto status = Napi::Object::New(env);
  status.Set("loaded", api.available());
  if (!api.library.empty()) status.Set("library", api.library);
  if (!api.available()) status.Set("error", api.error);
  return status;
}

// probe() → { count, devices: [{ name, memoryBytes, major, minor }], cublas } or { count: 0, error, cublas }
Napi::Value probe(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto result = Napi::Object::New(env);
  result.Set("cublas", cublasStatus(env));
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    result.Set("count", 0);
    result.Set("error", std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status));
    return result;
  }
  auto devices = Napi::Array::New(env, count);
  for (int i = 0; i < count; i++) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    auto d = Napi::Object::New(env);
    d.Set("name", prop.name);
    d.Set("memoryBytes", static_cast<double>(prop.totalGlobalMem));
    d.Set("major", prop.major);
    d.Set("minor", prop.minor);
    devices.Set(i, d);
  }
  result.Set("count", count);
  result.Set("devices", devices);
  return result;
}

}  // namespace

static Napi::Object initProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, probe));
  return exports;
}

NODE_API_MODULE(fulmen_cuda_probe, initProbe)

#include "cublas_loader.h"

#if defined(FULMEN_CUDA_EMULATION)
#include "emulation/cublas_emulation.h"  // the emulator's, in @fulmen/cuda-testbed
#endif

#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace fulmen {

namespace {

template <typename F>
bool resolve(void* library, const char* name, F& entry, std::string& error) {
  entry = reinterpret_cast<F>(dlsym(library, name));
  if (entry == nullptr && error.empty()) error = std::string("cuBLAS has no ") + name;
  return entry != nullptr;
}

CublasApi load() {
  CublasApi api;
#if defined(FULMEN_CUDA_EMULATION)
  // The emulator's "device" memory is host memory, which a real cuBLAS must never be given; its emulated
  // cuBLAS is used on request (FULMEN_CUDA_EMULATE_CUBLAS=1), else the engine's tiled GEMM kernel.
  if (const char* flag = std::getenv("FULMEN_CUDA_EMULATE_CUBLAS"); flag != nullptr && std::string(flag) == "1")
    emulatedCublas(api);
  else
    api.error = "cuBLAS is not used by the CUDA emulator (FULMEN_CUDA_EMULATE_CUBLAS=1 emulates it)";
  return api;
#endif
  void* library = nullptr;
  std::string tried;
  // FULMEN_CUBLAS_PATH first: a cuBLAS outside the loader's path (PyTorch's pip wheels keep theirs in
  // site-packages/nvidia/cublas/lib).
  std::vector<std::string> names;
  if (const char* path = std::getenv("FULMEN_CUBLAS_PATH"); path != nullptr && *path != '\0') names.emplace_back(path);
  for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) names.emplace_back(name);
  for (const std::string& name : names) {
    library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library != nullptr) {
      api.library = name;
      break;
    }
    const char* why = dlerror();
    if (tried.empty()) tried = why != nullptr ? why : name;
  }
  if (library == nullptr) {
    api.error = "cuBLAS is not installed (" + tried + ")";
    return api;
  }
  resolve(library, "cublasCreate_v2", api.create, api.error);
  resolve(library, "cublasDestroy_v2", api.destroy, api.error);
  resolve(library, "cublasSetStream_v2", api.setStream, api.error);
  resolve(library, "cublasSgemmStridedBatched", api.sgemmStridedBatched, api.error);
  resolve(library, "cublasGemmStridedBatchedEx", api.gemmStridedBatchedEx, api.error);
  return api;
}

}  // namespace

const CublasApi& cublas() {
  static const CublasApi api = load();
  return api;
}

}  // namespace fulmen

#include "cublas_loader.h"

#include <dlfcn.h>

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
  // The emulator's "device" memory is host memory, which cuBLAS must never be given.
  api.error = "cuBLAS is not used by the CUDA emulator";
  return api;
#endif
  void* library = nullptr;
  std::string tried;
  for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
    library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
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

// cuBLAS's C ABI, emulated on host memory from the library's documented semantics (column-major, op(A) per
// transa, strided batches, alpha/beta): with FULMEN_CUDA_EMULATE_CUBLAS=1 the emulated engine's GEMMs go through
// its cuBLAS calls, so CI checks the arguments the GPU build passes — sizes, leading dimensions, strides, data
// and compute types — which the tiled kernel path never exercises.
#pragma once

#include "cuda/cublas_loader.h"

namespace fulmen {

/** The emulated entry points, as the loader would resolve them from libcublas. */
void emulatedCublas(CublasApi& api);

}  // namespace fulmen

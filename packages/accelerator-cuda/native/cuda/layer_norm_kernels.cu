// The GPU build of the fused layer norm and its gradient: a thread per row (per column for the parameters'
// gradients) running layer_norm_ops.h, the host build's own arithmetic, so both give the same bits.
#include "cuda_api.h"

#include <cstdint>

#include "layer_norm_ops.h"
#include "device_kernels.h"

namespace fulmen {
namespace gpu {

// A thread per row (or column): 128 to a block, as many blocks as rows need (no grid stride).
constexpr int kRowThreads = 128;

inline unsigned rowBlocksFor(int64_t n) { return static_cast<unsigned>((n + kRowThreads - 1) / kRowThreads); }

__global__ void layerNormKernel(const float* x, const float* weight, const float* bias, float* y, float* mean,
                                float* rstd, int64_t rows, int64_t cols, double eps) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r < rows) layerNormRow(x + r * cols, weight, bias, y + r * cols, mean + r, rstd + r, cols, eps);
}

__global__ void layerNormGradKernel(const float* dy, const float* x, const float* mean, const float* rstd,
                                    const float* weight, float* dx, int64_t rows, int64_t cols) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r < rows) layerNormGradRow(dy + r * cols, x + r * cols, mean[r], rstd[r], weight, dx + r * cols, cols);
}

__global__ void layerNormParamGradKernel(const float* dy, const float* x, const float* mean, const float* rstd,
                                         float* dWeight, float* dBias, int64_t rows, int64_t cols) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c < cols) layerNormParamGradColumn(dy, x, mean, rstd, dWeight, dBias, rows, cols, c);
}

}  // namespace gpu

cudaError_t deviceLayerNorm(const float* x, const float* weight, const float* bias, float* y, float* mean,
                            float* rstd, int64_t rows, int64_t cols, double eps, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::rowBlocksFor(rows), gpu::kRowThreads, stream, gpu::layerNormKernel)(x, weight, bias, y, mean, rstd, rows, cols,
                                                                          eps);
  return cudaGetLastError();
}

cudaError_t deviceLayerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd,
                                const float* weight, float* dx, float* dWeight, float* dBias, int64_t rows,
                                int64_t cols, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::rowBlocksFor(rows), gpu::kRowThreads, stream, gpu::layerNormGradKernel)(dy, x, mean, rstd, weight, dx, rows,
                                                                              cols);
  if (const cudaError_t error = cudaGetLastError(); error != cudaSuccess) return error;
  if (dWeight == nullptr && dBias == nullptr) return cudaSuccess;
  FULMEN_LAUNCH(gpu::rowBlocksFor(cols), gpu::kRowThreads, stream, gpu::layerNormParamGradKernel)(dy, x, mean, rstd, dWeight, dBias,
                                                                                   rows, cols);
  return cudaGetLastError();
}

}  // namespace fulmen

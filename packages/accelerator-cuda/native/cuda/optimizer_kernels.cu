// The GPU build's fused optimizer updates: one thread per element running optimizer_ops.h, the host build's own
// per-element update, with the options as run-time flags.
#include "cuda_api.h"

#include <cstdint>

#include "optimizer_ops.h"
#include "device_kernels.h"
#include "launch.h"

namespace fulmen {
namespace gpu {

__global__ void adamKernel(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                           const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut,
                           int64_t n, AdamStep h, AdamScalars k) {
  FULMEN_GRID_LOOP(i, n)
  adamElement(h.maximize, h.weightDecay != 0, h.decoupled, h.amsgrad, i, param, grad, expAvgPrev, expAvgSqPrev,
              maxPrev, paramOut, expAvgOut, expAvgSqOut, maxOut, k);
}

__global__ void sgdKernel(const float* param, const float* grad, const float* bufferPrev, float* paramOut,
                          float* bufferOut, int64_t n, SgdStep h) {
  FULMEN_GRID_LOOP(i, n) sgdElement(i, param, grad, bufferPrev, paramOut, bufferOut, h);
}

__global__ void rmspropKernel(const float* param, const float* grad, const float* squareAvgPrev,
                              const float* gradAvgPrev, const float* bufferPrev, float* paramOut, float* squareAvgOut,
                              float* gradAvgOut, float* bufferOut, int64_t n, RmspropStep h, RmspropScalars k) {
  FULMEN_GRID_LOOP(i, n)
  rmspropElement(h.maximize, h.weightDecay != 0, h.centered, h.momentum > 0, i, param, grad, squareAvgPrev,
                 gradAvgPrev, bufferPrev, paramOut, squareAvgOut, gradAvgOut, bufferOut, k);
}

__global__ void adagradKernel(const float* param, const float* grad, const float* sumPrev, float* paramOut,
                              float* sumOut, int64_t n, AdagradStep h) {
  const float decay = static_cast<float>(h.weightDecay), eps = static_cast<float>(h.eps);
  const float clr = static_cast<float>(h.clr);
  FULMEN_GRID_LOOP(i, n)
  adagradElement(h.maximize, h.weightDecay != 0, i, param, grad, sumPrev, paramOut, sumOut, decay, eps, clr);
}

}  // namespace gpu

cudaError_t deviceAdamUpdate(const float* param, const float* grad, const float* expAvgPrev,
                             const float* expAvgSqPrev, const float* maxPrev, float* paramOut, float* expAvgOut,
                             float* expAvgSqOut, float* maxOut, int64_t n, const AdamStep& h, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::adamKernel)(param, grad, expAvgPrev, expAvgSqPrev, maxPrev,
                                                                  paramOut, expAvgOut, expAvgSqOut, maxOut, n, h,
                                                                  adamScalarsOf(h));
  return cudaGetLastError();
}

cudaError_t deviceSgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut,
                            float* bufferOut, int64_t n, const SgdStep& h, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::sgdKernel)(param, grad, bufferPrev, paramOut, bufferOut, n, h);
  return cudaGetLastError();
}

cudaError_t deviceRmspropUpdate(const float* param, const float* grad, const float* squareAvgPrev,
                                const float* gradAvgPrev, const float* bufferPrev, float* paramOut,
                                float* squareAvgOut, float* gradAvgOut, float* bufferOut, int64_t n,
                                const RmspropStep& h, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::rmspropKernel)(param, grad, squareAvgPrev, gradAvgPrev,
                                                                     bufferPrev, paramOut, squareAvgOut, gradAvgOut,
                                                                     bufferOut, n, h, rmspropScalarsOf(h));
  return cudaGetLastError();
}

cudaError_t deviceAdagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut,
                                float* sumOut, int64_t n, const AdagradStep& h, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::adagradKernel)(param, grad, sumPrev, paramOut, sumOut, n, h);
  return cudaGetLastError();
}

}  // namespace fulmen

// The GPU build's kernel launchers: device pointers in, work enqueued on `stream`. Compiled by nvcc wherever it
// is installed (test/device-code.test.ts) and, with nvcc, built into the GPU engine (cuda/cuda_engine.cc).
#pragma once

#include "cuda_api.h"

#include <cstdint>
#include <vector>

#include "conv.h"
#include "data_ops.h"
#include "optimizer.h"
#include "pool.h"
#include "elementwise.h"
#include "half_ops.h"

namespace fulmen {

cudaError_t deviceBinary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                         const std::vector<int64_t>& bShape, float* out, const std::vector<int64_t>& outShape,
                         cudaStream_t stream);
cudaError_t deviceCompare(CompareOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                          const std::vector<int64_t>& bShape, uint8_t* out, const std::vector<int64_t>& outShape,
                          cudaStream_t stream);
cudaError_t deviceUnary(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream);
cudaError_t deviceRoundHalf(HalfFormat format, const float* x, float* out, int64_t n, cudaStream_t stream);
cudaError_t deviceToHalf(HalfFormat format, const float* x, uint16_t* out, int64_t n, cudaStream_t stream);
cudaError_t deviceFromHalf(HalfFormat format, const uint16_t* x, float* out, int64_t n, cudaStream_t stream);
cudaError_t deviceGelu(const float* x, float* y, int64_t n, cudaStream_t stream);
cudaError_t deviceGeluGrad(const float* dy, const float* x, float* dx, int64_t n, cudaStream_t stream);
cudaError_t deviceSoftmax(const float* x, float* out, int64_t rows, int64_t cols, cudaStream_t stream);
cudaError_t deviceReduceMiddle(ReduceKind kind, const float* x, float* out, int64_t outer, int64_t reduce,
                               int64_t inner, cudaStream_t stream);
cudaError_t deviceCast(const void* x, ElementType from, void* out, ElementType to, int64_t n, cudaStream_t stream);
cudaError_t deviceFill(void* out, ElementType type, double value, int64_t n, cudaStream_t stream);
cudaError_t deviceOneHot(const int32_t* indices, void* out, ElementType type, int64_t n, int64_t depth, double on,
                         double off, cudaStream_t stream);
cudaError_t deviceStep(const float* x, float* out, int64_t n, float alpha, cudaStream_t stream);
cudaError_t deviceSelect(const uint8_t* condition, const float* t, const float* e, float* out, int64_t n,
                         cudaStream_t stream);
cudaError_t deviceClip(const float* x, float* out, int64_t n, double lo, double hi, cudaStream_t stream);
/** out = x with axes permuted (4-byte elements, rank ≤ 8). */
cudaError_t deviceTranspose(const void* x, void* out, const std::vector<int64_t>& shape,
                            const std::vector<int64_t>& perm, cudaStream_t stream);
cudaError_t deviceLayerNorm(const float* x, const float* weight, const float* bias, float* y, float* mean,
                            float* rstd, int64_t rows, int64_t cols, double eps, cudaStream_t stream);
cudaError_t deviceLayerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd,
                                const float* weight, float* dx, float* dWeight, float* dBias, int64_t rows,
                                int64_t cols, cudaStream_t stream);
/** out[o, i, k] = x[o, indices[i], k] (indices already checked to lie in [0, axisDim)); 1- or 4-byte elements. */
cudaError_t deviceGather(const void* x, const int32_t* indices, void* out, int64_t outer, int64_t axisDim,
                         int64_t inner, int64_t n, int elementBytes, cudaStream_t stream);
/** out[s] = Σ x[i] over rows i with ids[i] = s, in order, in double; ids outside [0, numSegments) dropped. */
cudaError_t deviceSegmentSum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                             int64_t numSegments, cudaStream_t stream);
/** dst[r·dstStride + dstOffset + c] = src[r·srcStride + srcOffset + c] for r < rows, c < cols. */
cudaError_t deviceCopy2d(const void* src, int64_t srcStride, int64_t srcOffset, void* dst, int64_t dstStride,
                         int64_t dstOffset, int64_t rows, int64_t cols, int elementBytes, cudaStream_t stream);
/** The block of x (of `shape`) starting at `begin` of `size` (rank ≤ 8). */
cudaError_t deviceSlice(const void* x, void* out, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& begin, const std::vector<int64_t>& size, int elementBytes,
                        cudaStream_t stream);
/** The mirror of deviceSlice: x (of `size`) written into out (of `outShape`) at `begin`. */
cudaError_t deviceInsert(const void* x, void* out, const std::vector<int64_t>& outShape,
                         const std::vector<int64_t>& begin, const std::vector<int64_t>& size, int elementBytes,
                         cudaStream_t stream);
/**
 * Every image's column matrix, one after another: [(b, oy, ox), (fy, fx, c)] channels last, [b, (fy, fx, c),
 * (oy, ox)] channels first.
 */
cudaError_t deviceIm2col(const float* x, float* cols, const Conv2DShape& s, cudaStream_t stream);
/** The adjoint of deviceIm2col, gathered per input pixel. */
cudaError_t deviceCol2im(const float* cols, float* dx, const Conv2DShape& s, cudaStream_t stream);
/** Max (kind 0, with the winners' window positions when `positions` is non-null) or average (kind 1) pooling. */
cudaError_t devicePool(int kind, const float* x, float* out, int32_t* positions, const Pool2DShape& s,
                       cudaStream_t stream);
/** The gradient of max (kind 0, from the positions) or average (kind 1) pooling. */
cudaError_t devicePoolGrad(int kind, const float* dy, const int32_t* positions, float* dx, const Pool2DShape& s,
                           cudaStream_t stream);
cudaError_t deviceAdamUpdate(const float* param, const float* grad, const float* expAvgPrev,
                             const float* expAvgSqPrev, const float* maxPrev, float* paramOut, float* expAvgOut,
                             float* expAvgSqOut, float* maxOut, int64_t n, const AdamStep& h, cudaStream_t stream);
cudaError_t deviceSgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut,
                            float* bufferOut, int64_t n, const SgdStep& h, cudaStream_t stream);
cudaError_t deviceRmspropUpdate(const float* param, const float* grad, const float* squareAvgPrev,
                                const float* gradAvgPrev, const float* bufferPrev, float* paramOut,
                                float* squareAvgOut, float* gradAvgOut, float* bufferOut, int64_t n,
                                const RmspropStep& h, cudaStream_t stream);
cudaError_t deviceAdagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut,
                                float* sumOut, int64_t n, const AdagradStep& h, cudaStream_t stream);
cudaError_t deviceBatchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K,
                              bool transA, bool transB, cudaStream_t stream);

}  // namespace fulmen

// What the device backend drives: memory that JavaScript never touches (it holds only addresses), copies in and
// out of it, and kernels over it, enqueued in order. The GPU build implements it over CUDA (cuda/cuda_engine.cu);
// the host build implements it over host memory (host_memory_engine.cc), so that the backend's bookkeeping —
// allocation, reference counts, moves, fallbacks — runs in CI exactly as it will on a GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "conv.h"
#include "../cuda/caching_allocator.h"
#include "pool.h"
#include "data_ops.h"
#include "elementwise.h"
#include "half_ops.h"
#include "optimizer.h"

namespace fulmen {

class DeviceEngine {
 public:
  virtual ~DeviceEngine() = default;

  /** What the memory is ("cuda:0 NVIDIA H100 ..." or "host memory"). */
  virtual std::string describe() const = 0;

  /** A block of at least `bytes`; throws std::bad_alloc when the device is full even after emptying the cache. */
  virtual void* allocate(size_t bytes) = 0;
  /** Gives a block back once the work already enqueued on it is done (stream order). */
  virtual void release(void* block) = 0;
  /** Whether `block` is a live block of at least `bytes` (every address from JavaScript is checked). */
  virtual bool holds(const void* block, size_t bytes) const = 0;
  virtual AllocatorStats memoryStats() const = 0;
  virtual void emptyCache() = 0;

  /** Host → device; `source` may be reused when it returns. */
  virtual void upload(void* block, const void* source, size_t bytes) = 0;
  /** Device → host, after every kernel enqueued before it. */
  virtual void download(void* target, const void* block, size_t bytes) = 0;
  /** Device → device, in stream order. */
  virtual void copy(void* target, const void* source, size_t bytes) = 0;
  /** Waits for every enqueued kernel; throws what a kernel failed with. */
  virtual void synchronize() = 0;

  virtual void binary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                      const std::vector<int64_t>& bShape, float* out, const std::vector<int64_t>& outShape) = 0;
  virtual void compare(CompareOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                       const std::vector<int64_t>& bShape, uint8_t* out, const std::vector<int64_t>& outShape) = 0;
  virtual void unary(UnaryOp op, const float* x, float* out, int64_t n) = 0;
  /** x rounded to float16 or bfloat16 values (kept as float32). */
  virtual void roundHalf(HalfFormat format, const float* x, float* out, int64_t n) = 0;
  /** x rounded to `format` and stored in 2 bytes a value (half storage). */
  virtual void toHalf(HalfFormat format, const float* x, uint16_t* out, int64_t n) = 0;
  /** Half storage's float32 values. */
  virtual void fromHalf(HalfFormat format, const uint16_t* x, float* out, int64_t n) = 0;
  virtual void gelu(const float* x, float* y, int64_t n) = 0;
  virtual void geluGrad(const float* dy, const float* x, float* dx, int64_t n) = 0;
  virtual void softmax(const float* x, float* out, int64_t rows, int64_t cols) = 0;
  /** Layer norm over rows of `cols` (weight, bias may be null); mean and rstd per row for the backward pass. */
  virtual void layerNorm(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                         int64_t rows, int64_t cols, double eps) = 0;
  /** Its gradients: dx always, dWeight and dBias when non-null. */
  virtual void layerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd,
                             const float* weight, float* dx, float* dWeight, float* dBias, int64_t rows,
                             int64_t cols) = 0;
  /** Sum, mean, max or min over the middle of [outer, reduce, inner] (data_ops.h's rules). */
  virtual void reduceMiddle(ReduceKind kind, const float* x, float* out, int64_t outer, int64_t reduce,
                            int64_t inner) = 0;
  /** n elements converted from one element type to another (tfjs's Cast). */
  virtual void cast(const void* x, ElementType from, void* out, ElementType to, int64_t n) = 0;
  /** n elements of `type` set to `value` (converted as a cast would). */
  virtual void fill(void* out, ElementType type, double value, int64_t n) = 0;
  /** Rows of `depth`: `on` at each row's index, `off` elsewhere (indices outside [0, depth) give all-off rows). */
  virtual void oneHot(const int32_t* indices, void* out, ElementType type, int64_t n, int64_t depth, double on,
                      double off) = 0;
  virtual void step(const float* x, float* out, int64_t n, float alpha) = 0;
  virtual void select(const uint8_t* condition, const float* t, const float* e, float* out, int64_t n) = 0;
  virtual void clip(const float* x, float* out, int64_t n, double lo, double hi) = 0;
  /** out = x with axes permuted: out's axis d is x's axis perm[d]; 4-byte elements. */
  virtual void transpose(const void* x, void* out, const std::vector<int64_t>& shape,
                         const std::vector<int64_t>& perm) = 0;
  /** out[o, i, k] = x[o, indices[i], k]; indices in [0, axisDim) (checked by the caller). */
  virtual void gather(const void* x, const int32_t* indices, void* out, int64_t outer, int64_t axisDim,
                      int64_t inner, int64_t n, int elementBytes) = 0;
  /** tfjs's UnsortedSegmentSum over rows of `inner` floats. */
  virtual void segmentSum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                          int64_t numSegments) = 0;
  /** A block of rows × cols elements between two row-major matrices (concatenation, splitting). */
  virtual void copy2d(const void* src, int64_t srcStride, int64_t srcOffset, void* dst, int64_t dstStride,
                      int64_t dstOffset, int64_t rows, int64_t cols, int elementBytes) = 0;
  /** The block of x (of `shape`) starting at `begin` of `size`. */
  virtual void slice(const void* x, void* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& begin,
                     const std::vector<int64_t>& size, int elementBytes) = 0;
  /** The mirror of slice: x (of `size`) written into out (of `outShape`) at `begin` (padding's interior). */
  virtual void insert(const void* x, void* out, const std::vector<int64_t>& outShape, const std::vector<int64_t>& begin,
                      const std::vector<int64_t>& size, int elementBytes) = 0;
  /** Convolution (kind 0), its input gradient (1: first = dy, second = filter) or filter gradient (2: x, dy). */
  virtual void conv2d(int kind, const float* first, const float* second, float* out, const Conv2DShape& s) = 0;
  /** Max (kind 0) or average (kind 1) pooling. */
  virtual void pool(int kind, const float* x, float* out, const Pool2DShape& s) = 0;
  /** Their gradients (max pooling reads x to find each window's winner; average pooling does not use x). */
  virtual void poolGrad(int kind, const float* dy, const float* x, float* dx, const Pool2DShape& s) = 0;
  /** The fused optimizer updates (optimizer.h); optional state pointers are null when the options leave it out. */
  virtual void adamUpdate(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                          const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut,
                          int64_t n, const AdamStep& h) = 0;
  virtual void sgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut,
                         float* bufferOut, int64_t n, const SgdStep& h) = 0;
  virtual void rmspropUpdate(const float* param, const float* grad, const float* squareAvgPrev,
                             const float* gradAvgPrev, const float* bufferPrev, float* paramOut, float* squareAvgOut,
                             float* gradAvgOut, float* bufferOut, int64_t n, const RmspropStep& h) = 0;
  virtual void adagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut,
                             float* sumOut, int64_t n, const AdagradStep& h) = 0;
  /**
   * batchMatMul of two half-stored operands of one format, accumulated in float32 (tensor cores on a GPU):
   * every product of two half values is exact in float32, so this is the float32 GEMM of their values.
   */
  virtual void batchMatMulHalf(HalfFormat format, const uint16_t* a, const uint16_t* b, float* c, int batchA,
                               int batchB, int M, int N, int K, bool transA, bool transB) = 0;
  /** Row-major C = op(A)·op(B), batched; an operand whose batch is 1 is shared. */
  virtual void batchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K,
                           bool transA, bool transB) = 0;
};

}  // namespace fulmen

// The device engine over host memory: the same allocator policy the GPU gets (one stream), plain copies, and the
// host build's kernels. It exists so that the device backend runs in CI without a GPU.
#include "host_memory_engine.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "conv.h"
#include "fused_layers.h"
#include "gemm.h"
#include "half_ops.h"
#include "pool.h"
#include "transpose.h"
#include "rows.h"

namespace fulmen {

namespace {

class HostRawMemory : public RawMemory {
 public:
  void* allocate(size_t bytes) override { return std::aligned_alloc(64, (bytes + 63) / 64 * 64); }
  void release(void* pointer) override { std::free(pointer); }
};

class HostMemoryEngine : public DeviceEngine {
 public:
  std::string describe() const override { return "host memory"; }

  void* allocate(size_t bytes) override { return allocator_.allocate(bytes, 0); }
  void release(void* block) override { allocator_.free(block); }
  bool holds(const void* block, size_t bytes) const override { return allocator_.holds(block, bytes); }
  AllocatorStats memoryStats() const override { return allocator_.stats(); }
  void emptyCache() override { allocator_.emptyCache(); }

  void upload(void* block, const void* source, size_t bytes) override { std::memcpy(block, source, bytes); }
  void download(void* target, const void* block, size_t bytes) override { std::memcpy(target, block, bytes); }
  void copy(void* target, const void* source, size_t bytes) override { std::memmove(target, source, bytes); }
  void synchronize() override {}

  void binary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
              const std::vector<int64_t>& bShape, float* out, const std::vector<int64_t>& outShape) override {
    hostBinary(op, a, aShape, b, bShape, out, outShape);
  }
  void compare(CompareOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
               const std::vector<int64_t>& bShape, uint8_t* out, const std::vector<int64_t>& outShape) override {
    hostCompare(op, a, aShape, b, bShape, out, outShape);
  }
  void unary(UnaryOp op, const float* x, float* out, int64_t n) override {
    hostUnary(op, x, out, static_cast<size_t>(n));
  }
  void roundHalf(HalfFormat format, const float* x, float* out, int64_t n) override {
    hostRoundHalf(static_cast<int32_t>(format), x, out, static_cast<size_t>(n));
  }
  void toHalf(HalfFormat format, const float* x, uint16_t* out, int64_t n) override {
    for (int64_t i = 0; i < n; i++) out[i] = halfBitsOf(format, x[i]);
  }
  void fromHalf(HalfFormat format, const uint16_t* x, float* out, int64_t n) override {
    for (int64_t i = 0; i < n; i++) out[i] = halfValue(format, x[i]);
  }
  void gelu(const float* x, float* y, int64_t n) override { hostGelu(x, y, n); }
  void geluGrad(const float* dy, const float* x, float* dx, int64_t n) override { hostGeluGrad(dy, x, dx, n); }
  void softmax(const float* x, float* out, int64_t rows, int64_t cols) override {
    hostSoftmax(x, out, rows, cols);
  }
  void layerNorm(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                 int64_t rows, int64_t cols, double eps) override {
    hostLayerNorm(x, weight, bias, y, mean, rstd, rows, cols, eps);
  }
  void layerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd, const float* weight,
                     float* dx, float* dWeight, float* dBias, int64_t rows, int64_t cols) override {
    hostLayerNormGrad(dy, x, mean, rstd, weight, dx, dWeight, dBias, rows, cols);
  }
  void reduceMiddle(ReduceKind kind, const float* x, float* out, int64_t outer, int64_t reduce,
                    int64_t inner) override {
    if (kind == ReduceKind::Sum) hostSumMiddle(x, out, outer, reduce, inner);
    else if (kind == ReduceKind::Mean) hostMeanMiddle(x, out, outer, reduce, inner);
    else hostExtremumMiddle(x, out, outer, reduce, inner, kind == ReduceKind::Max);
  }
  void cast(const void* x, ElementType from, void* out, ElementType to, int64_t n) override {
    for (int64_t i = 0; i < n; i++) storeConverted(out, to, i, loadAsDouble(x, from, i));
  }
  void fill(void* out, ElementType type, double value, int64_t n) override {
    for (int64_t i = 0; i < n; i++) storeConverted(out, type, i, value);
  }
  void oneHot(const int32_t* indices, void* out, ElementType type, int64_t n, int64_t depth, double on,
              double off) override {
    for (int64_t j = 0; j < n * depth; j++) storeConverted(out, type, j, indices[j / depth] == j % depth ? on : off);
  }
  void step(const float* x, float* out, int64_t n, float alpha) override {
    hostStep(x, out, static_cast<size_t>(n), alpha);
  }
  void select(const uint8_t* condition, const float* t, const float* e, float* out, int64_t n) override {
    hostSelect(condition, t, e, out, static_cast<size_t>(n));
  }
  void clip(const float* x, float* out, int64_t n, double lo, double hi) override {
    hostClip(x, out, static_cast<size_t>(n), lo, hi);
  }
  void transpose(const void* x, void* out, const std::vector<int64_t>& shape,
                 const std::vector<int64_t>& perm) override {
    hostTranspose(static_cast<const uint32_t*>(x), shape, perm, static_cast<uint32_t*>(out));
  }
  void gather(const void* x, const int32_t* indices, void* out, int64_t outer, int64_t axisDim, int64_t inner,
              int64_t n, int elementBytes) override {
    const size_t row = static_cast<size_t>(inner) * elementBytes;
    auto src = static_cast<const uint8_t*>(x);
    auto dst = static_cast<uint8_t*>(out);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < n; i++, dst += row) std::memcpy(dst, src + (o * axisDim + indices[i]) * row, row);
  }
  void segmentSum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                  int64_t numSegments) override {
    hostUnsortedSegmentSum(x, ids, out, n, inner, numSegments);
  }
  void copy2d(const void* src, int64_t srcStride, int64_t srcOffset, void* dst, int64_t dstStride, int64_t dstOffset,
              int64_t rows, int64_t cols, int elementBytes) override {
    auto from = static_cast<const uint8_t*>(src);
    auto to = static_cast<uint8_t*>(dst);
    for (int64_t r = 0; r < rows; r++)
      std::memcpy(to + (r * dstStride + dstOffset) * elementBytes, from + (r * srcStride + srcOffset) * elementBytes,
                  static_cast<size_t>(cols) * elementBytes);
  }
  // Slices and inserts copy row by row over the last axis, an odometer walking the outer indices.
  void slice(const void* x, void* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& begin,
             const std::vector<int64_t>& size, int elementBytes) override {
    blockRows(shape, begin, size, elementBytes, [&](size_t bigOffset, size_t smallOffset, size_t bytes) {
      std::memcpy(static_cast<uint8_t*>(out) + smallOffset, static_cast<const uint8_t*>(x) + bigOffset, bytes);
    });
  }
  void insert(const void* x, void* out, const std::vector<int64_t>& outShape, const std::vector<int64_t>& begin,
              const std::vector<int64_t>& size, int elementBytes) override {
    blockRows(outShape, begin, size, elementBytes, [&](size_t bigOffset, size_t smallOffset, size_t bytes) {
      std::memcpy(static_cast<uint8_t*>(out) + bigOffset, static_cast<const uint8_t*>(x) + smallOffset, bytes);
    });
  }
  void conv2d(int kind, const float* first, const float* second, float* out, const Conv2DShape& s) override {
    if (kind == 0) hostConv2D(first, second, out, s);
    else if (kind == 1) hostConv2DBackpropInput(first, second, out, s);
    else hostConv2DBackpropFilter(first, second, out, s);
  }
  void pool(int kind, const float* x, float* out, const Pool2DShape& s) override {
    if (kind == 0) hostMaxPool(x, out, s);
    else hostAvgPool(x, out, s);
  }
  void poolGrad(int kind, const float* dy, const float* x, float* dx, const Pool2DShape& s) override {
    if (kind == 0) hostMaxPoolGrad(dy, x, dx, s);
    else hostAvgPoolGrad(dy, dx, s);
  }
  void adamUpdate(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                  const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut, int64_t n,
                  const AdamStep& h) override {
    hostAdamUpdate(param, grad, expAvgPrev, expAvgSqPrev, maxPrev, paramOut, expAvgOut, expAvgSqOut, maxOut,
                   static_cast<size_t>(n), h);
  }
  void sgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut, float* bufferOut,
                 int64_t n, const SgdStep& h) override {
    hostSgdUpdate(param, grad, bufferPrev, paramOut, bufferOut, static_cast<size_t>(n), h);
  }
  void rmspropUpdate(const float* param, const float* grad, const float* squareAvgPrev, const float* gradAvgPrev,
                     const float* bufferPrev, float* paramOut, float* squareAvgOut, float* gradAvgOut, float* bufferOut,
                     int64_t n, const RmspropStep& h) override {
    hostRmspropUpdate(param, grad, squareAvgPrev, gradAvgPrev, bufferPrev, paramOut, squareAvgOut, gradAvgOut,
                      bufferOut, static_cast<size_t>(n), h);
  }
  void adagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut, float* sumOut,
                     int64_t n, const AdagradStep& h) override {
    hostAdagradUpdate(param, grad, sumPrev, paramOut, sumOut, static_cast<size_t>(n), h);
  }
  // The operands' float32 values, then the float32 GEMM: what a GPU's half GEMM computes, up to summation order.
  void batchMatMulHalf(HalfFormat format, const uint16_t* a, const uint16_t* b, float* c, int batchA, int batchB,
                       int M, int N, int K, bool transA, bool transB) override {
    std::vector<float> wideA(static_cast<size_t>(batchA) * M * K), wideB(static_cast<size_t>(batchB) * K * N);
    fromHalf(format, a, wideA.data(), static_cast<int64_t>(wideA.size()));
    fromHalf(format, b, wideB.data(), static_cast<int64_t>(wideB.size()));
    hostBatchMatMul(wideA.data(), wideB.data(), c, batchA, batchB, M, N, K, transA, transB);
  }
  void batchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K,
                   bool transA, bool transB) override {
    hostBatchMatMul(a, b, c, batchA, batchB, M, N, K, transA, transB);
  }

 private:
  // Calls row(offset in the big tensor, offset in the block, bytes) for each last-axis row of the block of `size`
  // at `begin` inside a tensor of `shape` (byte offsets).
  template <typename F>
  static void blockRows(const std::vector<int64_t>& shape, const std::vector<int64_t>& begin,
                        const std::vector<int64_t>& size, int elementBytes, F row) {
    const size_t rank = shape.size();
    int64_t total = 1;
    for (auto d : size) total *= d;
    if (total == 0) return;
    if (rank == 0) {
      row(0, 0, elementBytes);
      return;
    }
    std::vector<int64_t> stride(rank, 1), index(rank, 0);
    for (size_t d = rank - 1; d > 0; d--) stride[d - 1] = stride[d] * shape[d];
    const int64_t rowLength = size[rank - 1];
    for (int64_t produced = 0; produced < total; produced += rowLength) {
      int64_t offset = 0;
      for (size_t d = 0; d < rank; d++) offset += (begin[d] + index[d]) * stride[d];
      row(static_cast<size_t>(offset) * elementBytes, static_cast<size_t>(produced) * elementBytes,
          static_cast<size_t>(rowLength) * elementBytes);
      for (size_t d = rank - 1; d-- > 0;) {
        if (++index[d] < size[d]) break;
        index[d] = 0;
      }
    }
  }

  HostRawMemory raw_;
  CachingAllocator allocator_{raw_};
};

}  // namespace

std::unique_ptr<DeviceEngine> makeHostMemoryEngine() { return std::make_unique<HostMemoryEngine>(); }

}  // namespace fulmen

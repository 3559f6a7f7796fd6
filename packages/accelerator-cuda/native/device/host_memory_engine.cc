// The device engine over host memory: the same allocator policy the GPU gets (one stream), plain copies, and the
// host build's kernels. It exists so that the device backend runs in CI without a GPU.
#include "host_memory_engine.h"

#include <cstdlib>
#include <cstring>

#include "../fused_layers.h"
#include "../gemm.h"
#include "../pool_transpose.h"
#include "../rows.h"

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
  void gelu(const float* x, float* y, int64_t n) override { hostGelu(x, y, n); }
  void geluGrad(const float* dy, const float* x, float* dx, int64_t n) override { hostGeluGrad(dy, x, dx, n); }
  void softmax(const float* x, float* out, int64_t rows, int64_t cols) override {
    hostSoftmax(x, out, rows, cols);
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
  void batchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K,
                   bool transA, bool transB) override {
    hostBatchMatMul(a, b, c, batchA, batchB, M, N, K, transA, transB);
  }

 private:
  HostRawMemory raw_;
  CachingAllocator allocator_{raw_};
};

}  // namespace

std::unique_ptr<DeviceEngine> makeHostMemoryEngine() { return std::make_unique<HostMemoryEngine>(); }

}  // namespace fulmen

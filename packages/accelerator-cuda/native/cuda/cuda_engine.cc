// The GPU build's DeviceEngine: what the device backend drives on an NVIDIA GPU. Host code only (g++ against the
// CUDA runtime, or against the host emulator's); the kernels it enqueues are the .cu files beside it.
#include "cuda_engine.h"

#include "cuda_api.h"

#include <memory>
#include <stdexcept>
#include <string>

#include "gemm.h"
#include "cublas_loader.h"
#include "device_kernels.h"
#include "pinned_staging.h"

namespace fulmen {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorName(status) + " (" +
                             cudaGetErrorString(status) + ")");
}

class CudaRawMemory : public RawMemory {
 public:
  void* allocate(size_t bytes) override {
    void* pointer = nullptr;
    if (cudaMalloc(&pointer, bytes) != cudaSuccess) {
      cudaGetLastError();  // an out-of-memory error is not sticky: clear it so the allocator can retry
      return nullptr;
    }
    return pointer;
  }
  void release(void* pointer) override { cudaFree(pointer); }
};

class CudaEngine : public DeviceEngine {
 public:
  explicit CudaEngine(int ordinal) : ordinal_(ordinal) {
    int count = 0;
    check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
    if (ordinal < 0 || ordinal >= count)
      throw std::runtime_error("no CUDA device " + std::to_string(ordinal) + " (this machine has " +
                               std::to_string(count) + ")");
    check(cudaSetDevice(ordinal), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties");
    name_ = prop.name;
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    staging_ = std::make_unique<PinnedStaging>(stream_);
    const CublasApi& api = cublas();
    if (api.available()) {
      if (api.create(&cublas_) != 0) throw std::runtime_error("cublasCreate failed on cuda:" + std::to_string(ordinal));
      api.setStream(cublas_, stream_);
    }
  }

  ~CudaEngine() override {
    cudaStreamSynchronize(stream_);
    staging_.reset();
    allocator_.emptyCache();
    if (cublas_ != nullptr) cublas().destroy(cublas_);
    cudaStreamDestroy(stream_);
  }

  std::string describe() const override {
    return "cuda:" + std::to_string(ordinal_) + " " + name_ + (cublas_ != nullptr ? " (cuBLAS)" : " (tiled GEMM)");
  }

  void* allocate(size_t bytes) override { return allocator_.allocate(bytes, reinterpret_cast<uintptr_t>(stream_)); }
  void release(void* block) override { allocator_.free(block); }
  bool holds(const void* block, size_t bytes) const override { return allocator_.holds(block, bytes); }
  AllocatorStats memoryStats() const override { return allocator_.stats(); }
  void emptyCache() override {
    synchronize();
    allocator_.emptyCache();
  }

  // Small sources go through pinned staging without waiting; a large one is pageable JavaScript memory that may
  // change once this returns, so its copy is waited for.
  void upload(void* block, const void* source, size_t bytes) override {
    if (staging_->fits(bytes)) {
      staging_->upload(block, source, bytes);
      return;
    }
    check(cudaMemcpyAsync(block, source, bytes, cudaMemcpyHostToDevice, stream_), "upload (cudaMemcpyAsync)");
    check(cudaStreamSynchronize(stream_), "upload (cudaStreamSynchronize)");
  }
  void download(void* target, const void* block, size_t bytes) override {
    check(cudaMemcpyAsync(target, block, bytes, cudaMemcpyDeviceToHost, stream_), "download (cudaMemcpyAsync)");
    check(cudaStreamSynchronize(stream_), "download: a kernel enqueued before it");
  }
  void copy(void* target, const void* source, size_t bytes) override {
    check(cudaMemcpyAsync(target, source, bytes, cudaMemcpyDeviceToDevice, stream_), "copy (cudaMemcpyAsync)");
  }
  void synchronize() override { check(cudaStreamSynchronize(stream_), "synchronize: a kernel enqueued before it"); }

  void binary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
              const std::vector<int64_t>& bShape, float* out, const std::vector<int64_t>& outShape) override {
    check(deviceBinary(op, a, aShape, b, bShape, out, outShape, stream_), "binary kernel launch");
  }
  void compare(CompareOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
               const std::vector<int64_t>& bShape, uint8_t* out, const std::vector<int64_t>& outShape) override {
    check(deviceCompare(op, a, aShape, b, bShape, out, outShape, stream_), "compare kernel launch");
  }
  void unary(UnaryOp op, const float* x, float* out, int64_t n) override {
    check(deviceUnary(op, x, out, n, stream_), "unary kernel launch");
  }
  void roundHalf(HalfFormat format, const float* x, float* out, int64_t n) override {
    check(deviceRoundHalf(format, x, out, n, stream_), "roundHalf kernel launch");
  }
  void toHalf(HalfFormat format, const float* x, uint16_t* out, int64_t n) override {
    check(deviceToHalf(format, x, out, n, stream_), "toHalf kernel launch");
  }
  void fromHalf(HalfFormat format, const uint16_t* x, float* out, int64_t n) override {
    check(deviceFromHalf(format, x, out, n, stream_), "fromHalf kernel launch");
  }
  void gelu(const float* x, float* y, int64_t n) override { check(deviceGelu(x, y, n, stream_), "gelu kernel launch"); }
  void geluGrad(const float* dy, const float* x, float* dx, int64_t n) override {
    check(deviceGeluGrad(dy, x, dx, n, stream_), "geluGrad kernel launch");
  }
  void softmax(const float* x, float* out, int64_t rows, int64_t cols) override {
    check(deviceSoftmax(x, out, rows, cols, stream_), "softmax kernel launch");
  }

  void layerNorm(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                 int64_t rows, int64_t cols, double eps) override {
    check(deviceLayerNorm(x, weight, bias, y, mean, rstd, rows, cols, eps, stream_), "layerNorm kernel launch");
  }
  void layerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd, const float* weight,
                     float* dx, float* dWeight, float* dBias, int64_t rows, int64_t cols) override {
    check(deviceLayerNormGrad(dy, x, mean, rstd, weight, dx, dWeight, dBias, rows, cols, stream_),
          "layerNormGrad kernel launch");
  }
  void reduceMiddle(ReduceKind kind, const float* x, float* out, int64_t outer, int64_t reduce,
                    int64_t inner) override {
    check(deviceReduceMiddle(kind, x, out, outer, reduce, inner, stream_), "reduction kernel launch");
  }
  void cast(const void* x, ElementType from, void* out, ElementType to, int64_t n) override {
    check(deviceCast(x, from, out, to, n, stream_), "cast kernel launch");
  }
  void fill(void* out, ElementType type, double value, int64_t n) override {
    check(deviceFill(out, type, value, n, stream_), "fill kernel launch");
  }
  void oneHot(const int32_t* indices, void* out, ElementType type, int64_t n, int64_t depth, double on,
              double off) override {
    check(deviceOneHot(indices, out, type, n, depth, on, off, stream_), "oneHot kernel launch");
  }
  void step(const float* x, float* out, int64_t n, float alpha) override {
    check(deviceStep(x, out, n, alpha, stream_), "step kernel launch");
  }
  void select(const uint8_t* condition, const float* t, const float* e, float* out, int64_t n) override {
    check(deviceSelect(condition, t, e, out, n, stream_), "select kernel launch");
  }
  void clip(const float* x, float* out, int64_t n, double lo, double hi) override {
    check(deviceClip(x, out, n, lo, hi, stream_), "clip kernel launch");
  }
  void transpose(const void* x, void* out, const std::vector<int64_t>& shape,
                 const std::vector<int64_t>& perm) override {
    check(deviceTranspose(x, out, shape, perm, stream_), "transpose kernel launch");
  }

  void gather(const void* x, const int32_t* indices, void* out, int64_t outer, int64_t axisDim, int64_t inner,
              int64_t n, int elementBytes) override {
    check(deviceGather(x, indices, out, outer, axisDim, inner, n, elementBytes, stream_), "gather kernel launch");
  }
  void segmentSum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                  int64_t numSegments) override {
    check(deviceSegmentSum(x, ids, out, n, inner, numSegments, stream_), "segmentSum kernel launch");
  }
  void copy2d(const void* src, int64_t srcStride, int64_t srcOffset, void* dst, int64_t dstStride, int64_t dstOffset,
              int64_t rows, int64_t cols, int elementBytes) override {
    check(deviceCopy2d(src, srcStride, srcOffset, dst, dstStride, dstOffset, rows, cols, elementBytes, stream_),
          "copy2d kernel launch");
  }
  void slice(const void* x, void* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& begin,
             const std::vector<int64_t>& size, int elementBytes) override {
    check(deviceSlice(x, out, shape, begin, size, elementBytes, stream_), "slice kernel launch");
  }

  void insert(const void* x, void* out, const std::vector<int64_t>& outShape, const std::vector<int64_t>& begin,
              const std::vector<int64_t>& size, int elementBytes) override {
    check(deviceInsert(x, out, outShape, begin, size, elementBytes, stream_), "insert kernel launch");
  }

  // im2col + GEMMs over the whole batch (the column matrix is scratch from the allocator: its release is
  // stream-ordered, so the GEMM reading it runs first).
  void conv2d(int kind, const float* first, const float* second, float* out, const Conv2DShape& s) override {
    const int64_t rows = s.batch * s.outH * s.outW, k = s.fH * s.fW * s.inC;
    if (rows == 0 || k == 0 || s.outC == 0) {
      const int64_t size = kind == 0 ? rows * s.outC : kind == 1 ? s.batch * s.inH * s.inW * s.inC : k * s.outC;
      check(cudaMemsetAsync(out, 0, sizeof(float) * size, stream_), "conv2d (empty)");
      return;
    }
    float* cols = static_cast<float*>(allocate(sizeof(float) * rows * k));
    if (s.channelsFirst) conv2dChannelsFirst(kind, first, second, out, cols, s);
    else conv2dChannelsLast(kind, first, second, out, cols, s);
    release(cols);
  }

  // One GEMM over the batch's stacked column matrices [(b, oy, ox), k].
  void conv2dChannelsLast(int kind, const float* first, const float* second, float* out, float* cols,
                          const Conv2DShape& s) {
    const int rows = static_cast<int>(s.batch * s.outH * s.outW), k = static_cast<int>(s.fH * s.fW * s.inC);
    const int outC = static_cast<int>(s.outC);
    if (kind == 0) {
      check(deviceIm2col(first, cols, s, stream_), "im2col kernel launch");
      batchMatMul(cols, second, out, 1, 1, rows, outC, k, false, false);
    } else if (kind == 1) {
      // dcols[rows, k] = dy[rows, outC] · filterᵀ, then each pixel gathers its taps.
      batchMatMul(first, second, cols, 1, 1, rows, k, outC, false, true);
      check(deviceCol2im(cols, out, s, stream_), "col2im kernel launch");
    } else {
      // dFilter[k, outC] = colsᵀ · dy
      check(deviceIm2col(first, cols, s, stream_), "im2col kernel launch");
      batchMatMul(cols, second, out, 1, 1, k, outC, rows, true, false);
    }
  }

  // Per-image products with the filter shared ([b, k, (oy, ox)] column matrices), so activations stay NCHW; the
  // filter gradient sums the images' products in order.
  void conv2dChannelsFirst(int kind, const float* first, const float* second, float* out, float* cols,
                           const Conv2DShape& s) {
    const int batch = static_cast<int>(s.batch), pixels = static_cast<int>(s.outH * s.outW);
    const int k = static_cast<int>(s.fH * s.fW * s.inC), outC = static_cast<int>(s.outC);
    if (kind == 0) {
      // out[b] [outC, pixels] = filterᵀ [outC, k] · cols[b] [k, pixels]
      check(deviceIm2col(first, cols, s, stream_), "im2col kernel launch");
      batchMatMul(second, cols, out, 1, batch, outC, pixels, k, true, false);
    } else if (kind == 1) {
      // dcols[b] [k, pixels] = filter [k, outC] · dy[b] [outC, pixels]
      batchMatMul(second, first, cols, 1, batch, k, pixels, outC, false, false);
      check(deviceCol2im(cols, out, s, stream_), "col2im kernel launch");
    } else {
      // per image: cols[b] [k, pixels] · dy[b]ᵀ [pixels, outC], then the sum over images
      check(deviceIm2col(first, cols, s, stream_), "im2col kernel launch");
      float* products = static_cast<float*>(allocate(sizeof(float) * s.batch * k * outC));
      batchMatMul(cols, second, products, batch, batch, k, outC, pixels, false, true);
      check(deviceReduceMiddle(ReduceKind::Sum, products, out, 1, s.batch, static_cast<int64_t>(k) * outC, stream_),
            "reduction kernel launch");
      release(products);
    }
  }

  void pool(int kind, const float* x, float* out, const Pool2DShape& s) override {
    check(devicePool(kind, x, out, nullptr, s, stream_), "pool kernel launch");
  }
  void poolGrad(int kind, const float* dy, const float* x, float* dx, const Pool2DShape& s) override {
    if (kind == 1) {
      check(devicePoolGrad(1, dy, nullptr, dx, s, stream_), "avgPoolGrad kernel launch");
      return;
    }
    const int64_t cells = s.batch * s.outH * s.outW * s.channels;
    auto positions = static_cast<int32_t*>(allocate(sizeof(int32_t) * (cells > 0 ? cells : 1)));
    check(devicePool(0, x, nullptr, positions, s, stream_), "maxPool positions kernel launch");
    check(devicePoolGrad(0, dy, positions, dx, s, stream_), "maxPoolGrad kernel launch");
    release(positions);
  }

  void adamUpdate(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                  const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut, int64_t n,
                  const AdamStep& h) override {
    check(deviceAdamUpdate(param, grad, expAvgPrev, expAvgSqPrev, maxPrev, paramOut, expAvgOut, expAvgSqOut, maxOut, n,
                           h, stream_),
          "adam kernel launch");
  }
  void sgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut, float* bufferOut,
                 int64_t n, const SgdStep& h) override {
    check(deviceSgdUpdate(param, grad, bufferPrev, paramOut, bufferOut, n, h, stream_), "sgd kernel launch");
  }
  void rmspropUpdate(const float* param, const float* grad, const float* squareAvgPrev, const float* gradAvgPrev,
                     const float* bufferPrev, float* paramOut, float* squareAvgOut, float* gradAvgOut, float* bufferOut,
                     int64_t n, const RmspropStep& h) override {
    check(deviceRmspropUpdate(param, grad, squareAvgPrev, gradAvgPrev, bufferPrev, paramOut, squareAvgOut, gradAvgOut,
                              bufferOut, n, h, stream_),
          "rmsprop kernel launch");
  }
  void adagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut, float* sumOut,
                     int64_t n, const AdagradStep& h) override {
    check(deviceAdagradUpdate(param, grad, sumPrev, paramOut, sumOut, n, h, stream_), "adagrad kernel launch");
  }

  // cuBLAS's GemmEx on the half operands (tensor cores, float32 accumulation); without cuBLAS, their float32
  // values through the tiled GEMM (scratch from the allocator, released in stream order).
  void batchMatMulHalf(HalfFormat format, const uint16_t* a, const uint16_t* b, float* c, int batchA, int batchB,
                       int M, int N, int K, bool transA, bool transB) override {
    const int batch = batchA > batchB ? batchA : batchB;
    if (M == 0 || N == 0 || batch == 0) return;
    if (cublas_ == nullptr || K == 0) {
      const int64_t sizeA = static_cast<int64_t>(batchA) * M * K, sizeB = static_cast<int64_t>(batchB) * K * N;
      auto wideA = static_cast<float*>(allocate(sizeof(float) * (sizeA > 0 ? sizeA : 1)));
      auto wideB = static_cast<float*>(allocate(sizeof(float) * (sizeB > 0 ? sizeB : 1)));
      fromHalf(format, a, wideA, sizeA);
      fromHalf(format, b, wideB, sizeB);
      batchMatMul(wideA, wideB, c, batchA, batchB, M, N, K, transA, transB);
      release(wideA);
      release(wideB);
      return;
    }
    const GemmArgs g = columnMajorGemm(M, N, K, transA, transB);
    const float one = 1.0f, zero = 0.0f;
    const int type = format == HalfFormat::Float16 ? 2 : 14;  // CUDA_R_16F, CUDA_R_16BF
    const long long strideA = batchA == 1 ? 0 : static_cast<long long>(M) * K;
    const long long strideB = batchB == 1 ? 0 : static_cast<long long>(K) * N;
    const int status = cublas().gemmStridedBatchedEx(
        cublas_, g.transFirst ? 1 : 0, g.transSecond ? 1 : 0, g.m, g.n, g.k, &one, b, type, g.ldFirst, strideB, a, type,
        g.ldSecond, strideA, &zero, c, 0 /* CUDA_R_32F */, g.ldResult, static_cast<long long>(M) * N, batch,
        68 /* CUBLAS_COMPUTE_32F */, -1 /* CUBLAS_GEMM_DEFAULT */);
    if (status != 0) throw std::runtime_error("cublasGemmStridedBatchedEx failed with status " + std::to_string(status));
  }

  // cuBLAS is column-major: the row-major product runs as Cᵀ = Bᵀ·Aᵀ (gemm.h, the mapping the host build shares).
  void batchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K,
                   bool transA, bool transB) override {
    if (cublas_ == nullptr) {
      check(deviceBatchMatMul(a, b, c, batchA, batchB, M, N, K, transA, transB, stream_), "tiled GEMM launch");
      return;
    }
    if (M == 0 || N == 0) return;
    const int batch = batchA > batchB ? batchA : batchB;
    if (K == 0) {
      check(cudaMemsetAsync(c, 0, sizeof(float) * static_cast<size_t>(batch) * M * N, stream_), "GEMM (K = 0)");
      return;
    }
    const GemmArgs g = columnMajorGemm(M, N, K, transA, transB);
    const float one = 1.0f, zero = 0.0f;
    const long long strideA = batchA == 1 ? 0 : static_cast<long long>(M) * K;
    const long long strideB = batchB == 1 ? 0 : static_cast<long long>(K) * N;
    const int status = cublas().sgemmStridedBatched(cublas_, g.transFirst ? 1 : 0, g.transSecond ? 1 : 0, g.m, g.n,
                                                    g.k, &one, b, g.ldFirst, strideB, a, g.ldSecond, strideA, &zero,
                                                    c, g.ldResult, static_cast<long long>(M) * N, batch);
    if (status != 0) throw std::runtime_error("cublasSgemmStridedBatched failed with status " + std::to_string(status));
  }

 private:
  int ordinal_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<PinnedStaging> staging_;
  CublasApi::Handle cublas_ = nullptr;
  CudaRawMemory raw_;
  CachingAllocator allocator_{raw_};
};

}  // namespace

std::unique_ptr<DeviceEngine> makeCudaEngine(int ordinal) { return std::make_unique<CudaEngine>(ordinal); }

}  // namespace fulmen

// The GPU build's data movement: gathers (embedding lookups), sums by segment (their gradient), block copies
// (concatenation and splitting) and strided slices. Each output element is written by one thread, and a segment
// sum adds its rows in order in double, as the host build does: no atomics, the same result every run.
#include "cuda_api.h"

#include <cstdint>
#include <vector>

#include "device_kernels.h"
#include "launch.h"

namespace fulmen {
namespace gpu {

template <typename T>
__global__ void gatherKernel(const T* x, const int32_t* indices, T* out, int64_t outer, int64_t axisDim,
                             int64_t inner, int64_t n) {
  FULMEN_GRID_LOOP(j, outer * n * inner) {
    const int64_t k = j % inner, i = (j / inner) % n, o = j / (inner * n);
    out[j] = x[(o * axisDim + indices[i]) * inner + k];
  }
}

__global__ void segmentSumKernel(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                                 int64_t numSegments) {
  FULMEN_GRID_LOOP(j, numSegments * inner) {
    const int64_t segment = j / inner, k = j % inner;
    double acc = 0;
    for (int64_t i = 0; i < n; i++)
      if (ids[i] == segment) acc += x[i * inner + k];
    out[j] = static_cast<float>(acc);
  }
}

template <typename T>
__global__ void copy2dKernel(const T* src, int64_t srcStride, int64_t srcOffset, T* dst, int64_t dstStride,
                             int64_t dstOffset, int64_t rows, int64_t cols) {
  FULMEN_GRID_LOOP(j, rows * cols) {
    const int64_t r = j / cols, c = j % cols;
    dst[r * dstStride + dstOffset + c] = src[r * srcStride + srcOffset + c];
  }
}

struct Strided {
  int rank;
  int64_t base;
  int64_t outShape[kMaxRank];
  int64_t inStride[kMaxRank];
};

template <typename T>
__global__ void stridedKernel(const T* x, T* out, int64_t n, Strided s) {
  FULMEN_GRID_LOOP(j, n) {
    int64_t rest = j, offset = s.base;
    for (int d = s.rank - 1; d >= 0; d--) {
      offset += (rest % s.outShape[d]) * s.inStride[d];
      rest /= s.outShape[d];
    }
    out[j] = x[offset];
  }
}

// The mirror of stridedKernel: x's element j goes to out at `base` + its strided offset (padding's interior).
template <typename T>
__global__ void insertKernel(const T* x, T* out, int64_t n, Strided s) {
  FULMEN_GRID_LOOP(j, n) {
    int64_t rest = j, offset = s.base;
    for (int d = s.rank - 1; d >= 0; d--) {
      offset += (rest % s.outShape[d]) * s.inStride[d];
      rest /= s.outShape[d];
    }
    out[offset] = x[j];
  }
}

}  // namespace gpu

cudaError_t deviceGather(const void* x, const int32_t* indices, void* out, int64_t outer, int64_t axisDim,
                         int64_t inner, int64_t n, int elementBytes, cudaStream_t stream) {
  const int64_t total = outer * n * inner;
  if (total == 0) return cudaSuccess;
  if (elementBytes == 4)
    FULMEN_LAUNCH(gpu::blocksFor(total), gpu::kThreads, stream, gpu::gatherKernel<uint32_t>)(
        static_cast<const uint32_t*>(x), indices, static_cast<uint32_t*>(out), outer, axisDim, inner, n);
  else
    FULMEN_LAUNCH(gpu::blocksFor(total), gpu::kThreads, stream, gpu::gatherKernel<uint8_t>)(
        static_cast<const uint8_t*>(x), indices, static_cast<uint8_t*>(out), outer, axisDim, inner, n);
  return cudaGetLastError();
}

cudaError_t deviceSegmentSum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                             int64_t numSegments, cudaStream_t stream) {
  if (numSegments * inner == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(numSegments * inner), gpu::kThreads, stream, gpu::segmentSumKernel)(x, ids, out, n, inner,
                                                                                          numSegments);
  return cudaGetLastError();
}

cudaError_t deviceCopy2d(const void* src, int64_t srcStride, int64_t srcOffset, void* dst, int64_t dstStride,
                         int64_t dstOffset, int64_t rows, int64_t cols, int elementBytes, cudaStream_t stream) {
  if (rows * cols == 0) return cudaSuccess;
  if (elementBytes == 4)
    FULMEN_LAUNCH(gpu::blocksFor(rows * cols), gpu::kThreads, stream, gpu::copy2dKernel<uint32_t>)(
        static_cast<const uint32_t*>(src), srcStride, srcOffset, static_cast<uint32_t*>(dst), dstStride, dstOffset,
        rows, cols);
  else
    FULMEN_LAUNCH(gpu::blocksFor(rows * cols), gpu::kThreads, stream, gpu::copy2dKernel<uint8_t>)(
        static_cast<const uint8_t*>(src), srcStride, srcOffset, static_cast<uint8_t*>(dst), dstStride, dstOffset,
        rows, cols);
  return cudaGetLastError();
}

cudaError_t deviceSlice(const void* x, void* out, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& begin, const std::vector<int64_t>& size, int elementBytes,
                        cudaStream_t stream) {
  const int rank = static_cast<int>(shape.size());
  if (rank > gpu::kMaxRank || begin.size() != shape.size() || size.size() != shape.size())
    return cudaErrorInvalidValue;
  gpu::Strided s{};
  s.rank = rank;
  int64_t stride = 1, n = 1;
  for (int d = rank - 1; d >= 0; d--) {
    s.outShape[d] = size[d];
    s.inStride[d] = stride;
    s.base += begin[d] * stride;
    stride *= shape[d];
    n *= size[d];
  }
  if (n == 0) return cudaSuccess;
  if (elementBytes == 4)
    FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::stridedKernel<uint32_t>)(
        static_cast<const uint32_t*>(x), static_cast<uint32_t*>(out), n, s);
  else
    FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::stridedKernel<uint8_t>)(
        static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), n, s);
  return cudaGetLastError();
}

cudaError_t deviceInsert(const void* x, void* out, const std::vector<int64_t>& outShape,
                         const std::vector<int64_t>& begin, const std::vector<int64_t>& size, int elementBytes,
                         cudaStream_t stream) {
  const int rank = static_cast<int>(outShape.size());
  if (rank > gpu::kMaxRank || begin.size() != outShape.size() || size.size() != outShape.size())
    return cudaErrorInvalidValue;
  gpu::Strided s{};
  s.rank = rank;
  int64_t stride = 1, n = 1;
  for (int d = rank - 1; d >= 0; d--) {
    s.outShape[d] = size[d];  // the walk is over x's elements; strides are out's
    s.inStride[d] = stride;
    s.base += begin[d] * stride;
    stride *= outShape[d];
    n *= size[d];
  }
  if (n == 0) return cudaSuccess;
  if (elementBytes == 4)
    FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::insertKernel<uint32_t>)(
        static_cast<const uint32_t*>(x), static_cast<uint32_t*>(out), n, s);
  else
    FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::insertKernel<uint8_t>)(
        static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), n, s);
  return cudaGetLastError();
}

}  // namespace fulmen

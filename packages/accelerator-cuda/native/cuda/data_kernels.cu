// The GPU build's data kernels: reductions over a contiguous block of axes, casts, fills, one-hot, selection,
// clipping, relu's step and transposes. The per-element rules are data_ops.h's, shared with the host build.
#include "cuda_api.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "data_ops.h"
#include "device_kernels.h"
#include "launch.h"

namespace fulmen {
namespace gpu {

// One thread per output: the reduced values in order, sums in double (as the host build and tfjs's cpu), the
// mean dividing each value first; max/min with tfjs's rules (NaN wins, the first of equals stays).
__global__ void reduceMiddleKernel(ReduceKind kind, const float* x, float* out, int64_t outer, int64_t reduce,
                                   int64_t inner) {
  FULMEN_GRID_LOOP(j, outer * inner) {
    const int64_t o = j / inner, i = j % inner;
    const float* src = x + o * reduce * inner + i;
    if (kind == ReduceKind::Max || kind == ReduceKind::Min) {
      float best = src[0];
      for (int64_t r = 1; r < reduce; r++) {
        const float v = src[r * inner];
        if (v != v || (kind == ReduceKind::Max ? v > best : v < best)) best = v;
      }
      out[j] = best;
    } else {
      const double count = static_cast<double>(static_cast<float>(reduce));
      double acc = 0;
      for (int64_t r = 0; r < reduce; r++) {
        const double v = src[r * inner];
        acc += kind == ReduceKind::Mean ? static_cast<double>(static_cast<float>(v / count)) : v;
      }
      out[j] = static_cast<float>(acc);
    }
  }
}

constexpr int kReduceThreads = 256;

// Few outputs over long rows (a loss, a gradient norm's sum of squares): a block per output, its threads taking
// every 256th value and combining in a fixed tree (deterministic; sums in double as the one-thread kernel, but
// added in another order). Max/min keep the first winner by index, as the sequential rule does.
__global__ void reduceBlockKernel(ReduceKind kind, const float* x, float* out, int64_t reduce, int64_t inner) {
  __shared__ double sums[kReduceThreads];
  __shared__ float best[kReduceThreads];
  __shared__ int64_t where[kReduceThreads];
  const int64_t j = blockIdx.x, o = j / inner, i = j % inner;
  const float* src = x + o * reduce * inner + i;
  const int t = threadIdx.x;
  if (kind == ReduceKind::Sum || kind == ReduceKind::Mean) {
    const double count = static_cast<double>(static_cast<float>(reduce));
    double acc = 0;
    for (int64_t r = t; r < reduce; r += kReduceThreads) {
      const double v = src[r * inner];
      acc += kind == ReduceKind::Mean ? static_cast<double>(static_cast<float>(v / count)) : v;
    }
    sums[t] = acc;
    __syncthreads();
    for (int step = kReduceThreads / 2; step > 0; step >>= 1) {
      if (t < step) sums[t] += sums[t + step];
      __syncthreads();
    }
    if (t == 0) out[j] = static_cast<float>(sums[0]);
    return;
  }
  const bool max = kind == ReduceKind::Max;
  float b = 0;
  int64_t w = -1;
  for (int64_t r = t; r < reduce; r += kReduceThreads) {
    const float v = src[r * inner];
    if (w < 0 || v != v || (b == b && (max ? v > b : v < b))) {
      if (!(w >= 0 && b != b)) {  // a NaN already held stays (the first NaN wins)
        b = v;
        w = r;
      }
    }
  }
  best[t] = b;
  where[t] = w;
  __syncthreads();
  for (int step = kReduceThreads / 2; step > 0; step >>= 1) {
    if (t < step && where[t + step] >= 0) {
      const float other = best[t + step];
      const int64_t at = where[t + step];
      const float mine = best[t];
      bool take;
      if (where[t] < 0) take = true;
      else if (mine != mine || other != other)  // NaN wins; between NaNs, the first
        take = (other != other) && (mine == mine || at < where[t]);
      else if (max ? other > mine : other < mine) take = true;
      else take = other == mine && at < where[t];
      if (take) {
        best[t] = other;
        where[t] = at;
      }
    }
    __syncthreads();
  }
  if (t == 0) out[j] = best[0];
}

__global__ void castKernel(const void* x, ElementType from, void* out, ElementType to, int64_t n) {
  FULMEN_GRID_LOOP(i, n) storeConverted(out, to, i, loadAsDouble(x, from, i));
}

__global__ void fill32Kernel(uint32_t* out, uint32_t bits, int64_t n) {
  FULMEN_GRID_LOOP(i, n) out[i] = bits;
}

__global__ void fill8Kernel(uint8_t* out, uint8_t value, int64_t n) {
  FULMEN_GRID_LOOP(i, n) out[i] = value;
}

__global__ void oneHotKernel(const int32_t* indices, void* out, ElementType type, int64_t n, int64_t depth,
                             double on, double off) {
  FULMEN_GRID_LOOP(j, n * depth) storeConverted(out, type, j, indices[j / depth] == j % depth ? on : off);
}

__global__ void stepKernel(const float* x, float* out, int64_t n, float alpha) {
  FULMEN_GRID_LOOP(i, n) out[i] = stepValue(x[i], alpha);
}

__global__ void selectKernel(const uint8_t* condition, const float* t, const float* e, float* out, int64_t n) {
  FULMEN_GRID_LOOP(i, n) out[i] = condition[i] == 1 ? t[i] : e[i];
}

__global__ void clipKernel(const float* x, float* out, int64_t n, double lo, double hi) {
  FULMEN_GRID_LOOP(i, n) out[i] = clipValue(x[i], lo, hi);
}

struct Permutation {
  int rank;
  int64_t outShape[kMaxRank];
  int64_t inStride[kMaxRank];  // x's stride along the axis that becomes out's axis d
};

__global__ void transposeKernel(const uint32_t* x, uint32_t* out, int64_t n, Permutation p) {
  FULMEN_GRID_LOOP(j, n) {
    int64_t rest = j, offset = 0;
    for (int d = p.rank - 1; d >= 0; d--) {
      offset += (rest % p.outShape[d]) * p.inStride[d];
      rest /= p.outShape[d];
    }
    out[j] = x[offset];
  }
}

}  // namespace gpu

cudaError_t deviceReduceMiddle(ReduceKind kind, const float* x, float* out, int64_t outer, int64_t reduce,
                               int64_t inner, cudaStream_t stream) {
  const int64_t n = outer * inner;
  if (n == 0) return cudaSuccess;
  if (n <= 1024 && reduce >= 2048) {
    FULMEN_LAUNCH_BLOCK_SYNC(static_cast<unsigned>(n), gpu::kReduceThreads, stream, gpu::reduceBlockKernel)(kind, x, out, reduce, inner);
    return cudaGetLastError();
  }
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::reduceMiddleKernel)(kind, x, out, outer, reduce, inner);
  return cudaGetLastError();
}

cudaError_t deviceCast(const void* x, ElementType from, void* out, ElementType to, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::castKernel)(x, from, out, to, n);
  return cudaGetLastError();
}

cudaError_t deviceFill(void* out, ElementType type, double value, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (type == ElementType::Bool) {
    FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::fill8Kernel)(static_cast<uint8_t*>(out), value != 0, n);
  } else {
    uint32_t bits;
    if (type == ElementType::Float32) {
      const float f = static_cast<float>(value);
      memcpy(&bits, &f, 4);
    } else {
      bits = static_cast<uint32_t>(toInt32(value));
    }
    FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::fill32Kernel)(static_cast<uint32_t*>(out), bits, n);
  }
  return cudaGetLastError();
}

cudaError_t deviceOneHot(const int32_t* indices, void* out, ElementType type, int64_t n, int64_t depth, double on,
                         double off, cudaStream_t stream) {
  if (n * depth == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n * depth), gpu::kThreads, stream, gpu::oneHotKernel)(indices, out, type, n, depth, on, off);
  return cudaGetLastError();
}

cudaError_t deviceStep(const float* x, float* out, int64_t n, float alpha, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::stepKernel)(x, out, n, alpha);
  return cudaGetLastError();
}

cudaError_t deviceSelect(const uint8_t* condition, const float* t, const float* e, float* out, int64_t n,
                         cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::selectKernel)(condition, t, e, out, n);
  return cudaGetLastError();
}

cudaError_t deviceClip(const float* x, float* out, int64_t n, double lo, double hi, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::clipKernel)(x, out, n, lo, hi);
  return cudaGetLastError();
}

cudaError_t deviceTranspose(const void* x, void* out, const std::vector<int64_t>& shape,
                            const std::vector<int64_t>& perm, cudaStream_t stream) {
  const int rank = static_cast<int>(shape.size());
  if (rank > gpu::kMaxRank || perm.size() != shape.size()) return cudaErrorInvalidValue;
  gpu::Permutation p{};
  p.rank = rank;
  std::vector<int64_t> stride(rank, 1);
  for (int d = rank - 2; d >= 0; d--) stride[d] = stride[d + 1] * shape[d + 1];
  int64_t n = 1;
  for (int d = 0; d < rank; d++) {
    p.outShape[d] = shape[perm[d]];
    p.inStride[d] = stride[perm[d]];
    n *= shape[d];
  }
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::transposeKernel)(static_cast<const uint32_t*>(x),
                                                                        static_cast<uint32_t*>(out), n, p);
  return cudaGetLastError();
}

}  // namespace fulmen

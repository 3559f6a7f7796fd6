// The GPU build of the element-wise, GELU and softmax kernels: the per-element arithmetic is the host build's
// (elementwise_ops.h), compiled by nvcc with --fmad=false so that every step rounds as on the host and in tfjs.
#include "cuda_api.h"

#include <cstdint>
#include <vector>

#include "elementwise_ops.h"
#include "half_ops.h"
#include "device_kernels.h"
#include "launch.h"

namespace fulmen {
namespace gpu {

__global__ void roundHalfKernel(HalfFormat format, const float* x, float* out, int64_t n) {
  FULMEN_GRID_LOOP(i, n)
    out[i] = roundToHalf(format, x[i]);
}

__global__ void toHalfKernel(HalfFormat format, const float* x, uint16_t* out, int64_t n) {
  FULMEN_GRID_LOOP(i, n)
    out[i] = halfBitsOf(format, x[i]);
}

__global__ void fromHalfKernel(HalfFormat format, const uint16_t* x, float* out, int64_t n) {
  FULMEN_GRID_LOOP(i, n)
    out[i] = halfValue(format, x[i]);
}

/** Output shape and each operand's strides aligned to it (0 along broadcast dimensions). */
struct Broadcast {
  int rank;
  int64_t outShape[kMaxRank];
  int64_t aStride[kMaxRank];
  int64_t bStride[kMaxRank];
};

/** The strides NumPy broadcasting gives a and b against out's shape (ranks up to kMaxRank). */
inline bool broadcastOf(const std::vector<int64_t>& aShape, const std::vector<int64_t>& bShape,
                        const std::vector<int64_t>& outShape, Broadcast& g) {
  const int rank = static_cast<int>(outShape.size());
  if (rank > kMaxRank) return false;
  g.rank = rank;
  int64_t sa = 1, sb = 1;
  for (int k = 0; k < rank; k++) {
    const int axis = rank - 1 - k;
    const int64_t ad = k < static_cast<int>(aShape.size()) ? aShape[aShape.size() - 1 - k] : 1;
    const int64_t bd = k < static_cast<int>(bShape.size()) ? bShape[bShape.size() - 1 - k] : 1;
    g.outShape[axis] = outShape[axis];
    g.aStride[axis] = ad == 1 ? 0 : sa;
    g.bStride[axis] = bd == 1 ? 0 : sb;
    sa *= ad;
    sb *= bd;
  }
  return true;
}

__device__ inline void offsetsOf(int64_t i, const Broadcast& g, int64_t& offA, int64_t& offB) {
  offA = 0;
  offB = 0;
  for (int d = g.rank - 1; d >= 0; d--) {
    const int64_t index = i % g.outShape[d];
    i /= g.outShape[d];
    offA += index * g.aStride[d];
    offB += index * g.bStride[d];
  }
}

template <BinaryOp Op>
__global__ void binaryKernel(const float* a, const float* b, float* out, int64_t n, Broadcast g) {
  FULMEN_GRID_LOOP(i, n) {
    int64_t offA, offB;
    offsetsOf(i, g, offA, offB);
    out[i] = binaryOp<Op>(a[offA], b[offB]);
  }
}

template <CompareOp Op>
__global__ void compareKernel(const float* a, const float* b, uint8_t* out, int64_t n, Broadcast g) {
  FULMEN_GRID_LOOP(i, n) {
    int64_t offA, offB;
    offsetsOf(i, g, offA, offB);
    out[i] = compareOp<Op>(a[offA], b[offB]);
  }
}

template <UnaryOp Op>
__global__ void unaryKernel(const float* x, float* out, int64_t n) {
  FULMEN_GRID_LOOP(i, n)
    out[i] = unaryOp<Op>(x[i]);
}

__global__ void geluKernel(const float* x, float* y, int64_t n) {
  FULMEN_GRID_LOOP(i, n)
    y[i] = geluValue(x[i]);
}

__global__ void geluGradKernel(const float* dy, const float* x, float* dx, int64_t n) {
  FULMEN_GRID_LOOP(i, n)
    dx[i] = geluGradValue(dy[i], x[i]);
}

// One thread per row: the row's sum runs in order, as on the host and in tfjs.
__global__ void softmaxKernel(const float* x, float* out, int64_t rows, int64_t cols) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  const float* in = x + r * cols;
  float* o = out + r * cols;
  float max = in[0];
  for (int64_t c = 1; c < cols; c++)
    if (in[c] != in[c] || in[c] > max) max = in[c];
  double sum = 0;
  for (int64_t c = 0; c < cols; c++) {
    const float shifted = static_cast<float>(static_cast<double>(in[c]) - max);
    o[c] = static_cast<float>(expForFloat(static_cast<double>(shifted)));
    sum += o[c];
  }
  const double total = static_cast<float>(sum);
  for (int64_t c = 0; c < cols; c++) o[c] = static_cast<float>(o[c] / total);
}

/** The strides and element count of a broadcast; invalid when out's rank is beyond kMaxRank. */
inline cudaError_t prepare(const std::vector<int64_t>& aShape, const std::vector<int64_t>& bShape,
                           const std::vector<int64_t>& outShape, Broadcast& g, int64_t& n) {
  if (!broadcastOf(aShape, bShape, outShape, g)) return cudaErrorInvalidValue;
  n = 1;
  for (auto d : outShape) n *= d;
  return cudaSuccess;
}

template <BinaryOp Op>
cudaError_t launchBinaryOp(const float* a, const float* b, float* out, int64_t n, const Broadcast& g,
                           cudaStream_t stream) {
  FULMEN_LAUNCH(blocksFor(n), kThreads, stream, binaryKernel<Op>)(a, b, out, n, g);
  return cudaGetLastError();
}

template <CompareOp Op>
cudaError_t launchCompareOp(const float* a, const float* b, uint8_t* out, int64_t n, const Broadcast& g,
                            cudaStream_t stream) {
  FULMEN_LAUNCH(blocksFor(n), kThreads, stream, compareKernel<Op>)(a, b, out, n, g);
  return cudaGetLastError();
}

template <UnaryOp Op>
cudaError_t launchUnaryOp(const float* x, float* out, int64_t n, cudaStream_t stream) {
  FULMEN_LAUNCH(blocksFor(n), kThreads, stream, unaryKernel<Op>)(x, out, n);
  return cudaGetLastError();
}

}  // namespace gpu

/** out = a (op) b on the device, a and b broadcast to out's shape; enqueued on `stream`. */
cudaError_t deviceBinary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                         const std::vector<int64_t>& bShape, float* out, const std::vector<int64_t>& outShape,
                         cudaStream_t stream) {
  gpu::Broadcast g{};
  int64_t n = 0;
  if (const cudaError_t error = gpu::prepare(aShape, bShape, outShape, g, n); error != cudaSuccess || n == 0)
    return error;
  switch (op) {
    case BinaryOp::Add: return gpu::launchBinaryOp<BinaryOp::Add>(a, b, out, n, g, stream);
    case BinaryOp::Sub: return gpu::launchBinaryOp<BinaryOp::Sub>(a, b, out, n, g, stream);
    case BinaryOp::Mul: return gpu::launchBinaryOp<BinaryOp::Mul>(a, b, out, n, g, stream);
    case BinaryOp::Div: return gpu::launchBinaryOp<BinaryOp::Div>(a, b, out, n, g, stream);
    case BinaryOp::Max: return gpu::launchBinaryOp<BinaryOp::Max>(a, b, out, n, g, stream);
    case BinaryOp::Min: return gpu::launchBinaryOp<BinaryOp::Min>(a, b, out, n, g, stream);
    case BinaryOp::SquaredDifference: return gpu::launchBinaryOp<BinaryOp::SquaredDifference>(a, b, out, n, g, stream);
  }
  return cudaErrorInvalidValue;
}

/** out = a (op) b as 1 or 0 bytes on the device. */
cudaError_t deviceCompare(CompareOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                          const std::vector<int64_t>& bShape, uint8_t* out, const std::vector<int64_t>& outShape,
                          cudaStream_t stream) {
  gpu::Broadcast g{};
  int64_t n = 0;
  if (const cudaError_t error = gpu::prepare(aShape, bShape, outShape, g, n); error != cudaSuccess || n == 0)
    return error;
  switch (op) {
    case CompareOp::Greater: return gpu::launchCompareOp<CompareOp::Greater>(a, b, out, n, g, stream);
    case CompareOp::GreaterEqual: return gpu::launchCompareOp<CompareOp::GreaterEqual>(a, b, out, n, g, stream);
    case CompareOp::Less: return gpu::launchCompareOp<CompareOp::Less>(a, b, out, n, g, stream);
    case CompareOp::LessEqual: return gpu::launchCompareOp<CompareOp::LessEqual>(a, b, out, n, g, stream);
    case CompareOp::Equal: return gpu::launchCompareOp<CompareOp::Equal>(a, b, out, n, g, stream);
    case CompareOp::NotEqual: return gpu::launchCompareOp<CompareOp::NotEqual>(a, b, out, n, g, stream);
  }
  return cudaErrorInvalidValue;
}

/** out = op(x) for n elements on the device. */
cudaError_t deviceUnary(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (op) {
    case UnaryOp::Sqrt: return gpu::launchUnaryOp<UnaryOp::Sqrt>(x, out, n, stream);
    case UnaryOp::Relu: return gpu::launchUnaryOp<UnaryOp::Relu>(x, out, n, stream);
    case UnaryOp::Exp: return gpu::launchUnaryOp<UnaryOp::Exp>(x, out, n, stream);
    case UnaryOp::Log: return gpu::launchUnaryOp<UnaryOp::Log>(x, out, n, stream);
    case UnaryOp::Neg: return gpu::launchUnaryOp<UnaryOp::Neg>(x, out, n, stream);
    case UnaryOp::Square: return gpu::launchUnaryOp<UnaryOp::Square>(x, out, n, stream);
    case UnaryOp::Abs: return gpu::launchUnaryOp<UnaryOp::Abs>(x, out, n, stream);
    case UnaryOp::Tanh: return gpu::launchUnaryOp<UnaryOp::Tanh>(x, out, n, stream);
    case UnaryOp::Sigmoid: return gpu::launchUnaryOp<UnaryOp::Sigmoid>(x, out, n, stream);
    case UnaryOp::Rsqrt: return gpu::launchUnaryOp<UnaryOp::Rsqrt>(x, out, n, stream);
    case UnaryOp::Erf: return gpu::launchUnaryOp<UnaryOp::Erf>(x, out, n, stream);
  }
  return cudaErrorInvalidValue;
}

/** x rounded to float16 or bfloat16 values (the precision plugins' rounding kernels). */
cudaError_t deviceRoundHalf(HalfFormat format, const float* x, float* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::roundHalfKernel)(format, x, out, n);
  return cudaGetLastError();
}

/** Half storage: x rounded and packed into 2 bytes a value, and back to float32. */
cudaError_t deviceToHalf(HalfFormat format, const float* x, uint16_t* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::toHalfKernel)(format, x, out, n);
  return cudaGetLastError();
}

cudaError_t deviceFromHalf(HalfFormat format, const uint16_t* x, float* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::fromHalfKernel)(format, x, out, n);
  return cudaGetLastError();
}

/** GELU and its gradient on the device (core's GELU_KERNEL pair). */
cudaError_t deviceGelu(const float* x, float* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::geluKernel)(x, y, n);
  return cudaGetLastError();
}

cudaError_t deviceGeluGrad(const float* dy, const float* x, float* dx, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::geluGradKernel)(dy, x, dx, n);
  return cudaGetLastError();
}

/** Softmax over the last dimension, one row per thread. */
cudaError_t deviceSoftmax(const float* x, float* out, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(rows), gpu::kThreads, stream, gpu::softmaxKernel)(x, out, rows, cols);
  return cudaGetLastError();
}

}  // namespace fulmen

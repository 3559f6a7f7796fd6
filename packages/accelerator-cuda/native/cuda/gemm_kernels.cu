// The GPU engine's own GEMM, for machines without cuBLAS (the runtime loads libcublas when it is there):
// a 16×16 shared-memory tiled product, batched over blockIdx.z, row-major as the host build's API.
#include "cuda_api.h"

#include <cstdint>

#include "device_kernels.h"

namespace fulmen {
namespace gpu {

constexpr int kTile = 16;

// C[M,N] = op(A)·op(B): A is [M,K] ([K,M] when TransA), B is [K,N] ([N,K] when TransB); an operand whose batch
// is 1 (stride 0) is shared by every product.
template <bool TransA, bool TransB>
__global__ void tiledGemm(const float* a, const float* b, float* c, int M, int N, int K, int64_t strideA,
                          int64_t strideB, int64_t strideC) {
  __shared__ float tileA[kTile][kTile];
  __shared__ float tileB[kTile][kTile + 1];  // +1: no bank conflicts on the column reads
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty, col = blockIdx.x * kTile + tx;
  const float* A = a + blockIdx.z * strideA;
  const float* B = b + blockIdx.z * strideB;
  float acc = 0.0f;
  for (int t = 0; t < K; t += kTile) {
    const int ka = t + tx, kb = t + ty;
    tileA[ty][tx] = (row < M && ka < K) ? (TransA ? A[static_cast<int64_t>(ka) * M + row]
                                                   : A[static_cast<int64_t>(row) * K + ka])
                                        : 0.0f;
    tileB[ty][tx] = (kb < K && col < N) ? (TransB ? B[static_cast<int64_t>(col) * K + kb]
                                                   : B[static_cast<int64_t>(kb) * N + col])
                                        : 0.0f;
    __syncthreads();
    for (int k = 0; k < kTile; k++) acc += tileA[ty][k] * tileB[k][tx];
    __syncthreads();
  }
  if (row < M && col < N) c[blockIdx.z * strideC + static_cast<int64_t>(row) * N + col] = acc;
}

template <bool TransA, bool TransB>
cudaError_t launchGemm(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K,
                       cudaStream_t stream) {
  const int batch = batchA > batchB ? batchA : batchB;
  const dim3 threads(kTile, kTile);
  const dim3 blocks((N + kTile - 1) / kTile, (M + kTile - 1) / kTile, batch);
  FULMEN_LAUNCH_BLOCK_SYNC(blocks, threads, stream, tiledGemm<TransA, TransB>)(
      a, b, c, M, N, K, batchA == 1 ? 0 : static_cast<int64_t>(M) * K, batchB == 1 ? 0 : static_cast<int64_t>(K) * N,
      static_cast<int64_t>(M) * N);
  return cudaGetLastError();
}

}  // namespace gpu

cudaError_t deviceBatchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K,
                              bool transA, bool transB, cudaStream_t stream) {
  if (M == 0 || N == 0 || batchA == 0 || batchB == 0) return cudaSuccess;
  if (transA) {
    return transB ? gpu::launchGemm<true, true>(a, b, c, batchA, batchB, M, N, K, stream)
                  : gpu::launchGemm<true, false>(a, b, c, batchA, batchB, M, N, K, stream);
  }
  return transB ? gpu::launchGemm<false, true>(a, b, c, batchA, batchB, M, N, K, stream)
                : gpu::launchGemm<false, false>(a, b, c, batchA, batchB, M, N, K, stream);
}

}  // namespace fulmen

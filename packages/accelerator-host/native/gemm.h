// The GEMM argument mapping shared by the GPU (cuBLAS) and host (OpenBLAS) builds: tensors are row-major, both
// BLAS libraries are driven in column-major mode, so C = A·B is computed as Cᵀ = Bᵀ·Aᵀ with the operands
// swapped. CI exercises on the host exactly the mapping the GPU gets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fulmen {

struct GemmArgs {
  bool transFirst;   // op on the first column-major operand (B)
  bool transSecond;  // op on the second column-major operand (A)
  int m, n, k;       // column-major sizes: (n × m) result
  int ldFirst, ldSecond, ldResult;
};

/** Row-major C[M,N] = op(A)·op(B) with A [M,K] (or [K,M] when transA) and B [K,N] (or [N,K] when transB). */
inline GemmArgs columnMajorGemm(int M, int N, int K, bool transA, bool transB) {
  GemmArgs g{};
  g.transFirst = transB;
  g.transSecond = transA;
  g.m = N;
  g.n = M;
  g.k = K;
  g.ldFirst = transB ? K : N;
  g.ldSecond = transA ? M : K;
  g.ldResult = N;
  return g;
}

/**
 * Batched row-major matmul on the host: `batch` products; an operand whose batch is 1 is shared by all.
 * Implemented with OpenBLAS's cblas_sgemm in column-major mode.
 */
void hostBatchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K, bool transA,
                     bool transB);

/** Sets OpenBLAS's threads for one product of these sizes: all of this process's share for large ones, else 1. */
void gemmThreadsFor(int64_t m, int64_t n, int64_t k);

/** Whether one product of `work` multiply-adds runs on OpenBLAS's threads (gemmThreadsFor gives it all of them). */
bool gemmUsesBlasThreads(int64_t work);

/**
 * Whether `work` multiply-adds of independent one-thread products (below OpenBLAS's own threading) are worth
 * splitting over the engine's threads.
 */
bool engineSplitPays(int64_t work);

/** Threads OpenBLAS may use (never more than this process's share of the cores). */
void hostSetThreads(int threads);
int hostThreads();

}  // namespace fulmen

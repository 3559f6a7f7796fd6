#include <cblas.h>

#include <algorithm>

#include "gemm.h"

namespace fulmen {

void hostBatchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K, bool transA,
                     bool transB) {
  const GemmArgs g = columnMajorGemm(M, N, K, transA, transB);
  const int batch = std::max(batchA, batchB);
  const size_t strideA = static_cast<size_t>(M) * K;
  const size_t strideB = static_cast<size_t>(K) * N;
  const size_t strideC = static_cast<size_t>(M) * N;
  for (int i = 0; i < batch; i++) {
    const float* ai = a + (batchA == 1 ? 0 : i * strideA);
    const float* bi = b + (batchB == 1 ? 0 : i * strideB);
    cblas_sgemm(CblasColMajor, g.transFirst ? CblasTrans : CblasNoTrans, g.transSecond ? CblasTrans : CblasNoTrans,
                g.m, g.n, g.k, 1.0f, bi, g.ldFirst, ai, g.ldSecond, 0.0f, c + i * strideC, g.ldResult);
  }
}

void hostSetThreads(int threads) { openblas_set_num_threads(std::max(1, threads)); }

int hostThreads() { return openblas_get_num_threads(); }

}  // namespace fulmen

#include <cblas.h>

#include <algorithm>
#include <cstdint>

#include "gemm.h"
#include "parallel.h"

namespace fulmen {

namespace {
int maxThreads = 1;

// Products above 2^24 multiply-adds go to OpenBLAS's own threads. Below that they cost more than they save (on 2
// cores: 1024×256×64 = 2^24 took 0.38 ms on one thread and 0.48 on two; 2^25, 0.67 and 0.39), so from 2^23 the
// engine splits the rows of the result over its own threads, each running a one-thread product.
constexpr int64_t kBlasThreadsFrom = int64_t{1} << 24;
constexpr int64_t kRowSplitFrom = int64_t{1} << 23;

void product(const GemmArgs& g, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasColMajor, g.transFirst ? CblasTrans : CblasNoTrans, g.transSecond ? CblasTrans : CblasNoTrans,
              g.m, g.n, g.k, 1.0f, b, g.ldFirst, a, g.ldSecond, 0.0f, c, g.ldResult);
}

// Rows [begin, end) of the row-major result: the same product on a slice of A's rows (columns when transposed).
void productRows(int M, int N, int K, bool transA, bool transB, const float* a, const float* b, float* c,
                 int64_t begin, int64_t end) {
  GemmArgs g = columnMajorGemm(M, N, K, transA, transB);
  g.n = static_cast<int>(end - begin);
  product(g, a + (transA ? begin : begin * K), b, c + begin * N);
}
}  // namespace

bool gemmUsesBlasThreads(int64_t work) { return work > kBlasThreadsFrom; }

void gemmThreadsFor(int64_t m, int64_t n, int64_t k) {
  openblas_set_num_threads(gemmUsesBlasThreads(m * n * k) ? maxThreads : 1);
}

bool engineSplitPays(int64_t work) { return maxThreads > 1 && work >= kRowSplitFrom; }

void hostBatchMatMul(const float* a, const float* b, float* c, int batchA, int batchB, int M, int N, int K, bool transA,
                     bool transB) {
  const GemmArgs g = columnMajorGemm(M, N, K, transA, transB);
  const int batch = std::max(batchA, batchB);
  const int64_t work = static_cast<int64_t>(M) * N * K;
  gemmThreadsFor(M, N, K);
  const size_t strideA = static_cast<size_t>(M) * K;
  const size_t strideB = static_cast<size_t>(K) * N;
  const size_t strideC = static_cast<size_t>(M) * N;
  for (int i = 0; i < batch; i++) {
    const float* ai = a + (batchA == 1 ? 0 : i * strideA);
    const float* bi = b + (batchB == 1 ? 0 : i * strideB);
    float* ci = c + i * strideC;
    if (work > kBlasThreadsFrom || work < kRowSplitFrom || maxThreads == 1) {
      product(g, ai, bi, ci);
    } else {
      // Whole rows per thread, at least 16 (a few of OpenBLAS's register tiles).
      parallelFor(M, std::max<int64_t>(16, M / maxThreads),
                  [&](int64_t begin, int64_t end) { productRows(M, N, K, transA, transB, ai, bi, ci, begin, end); });
    }
  }
}

void hostSetThreads(int threads) {
  maxThreads = std::max(1, threads);
  openblas_set_num_threads(maxThreads);
  setParallelThreads(maxThreads);
}

int hostThreads() { return maxThreads; }

}  // namespace fulmen

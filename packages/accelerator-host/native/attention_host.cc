#include <cmath>
#include <cstring>
#include <vector>

#include "attention.h"
#include "gemm.h"
#include "parallel.h"
#include "rows.h"
#include "scratch.h"
#include "vector_clones.h"

namespace fulmen {

namespace {
// out = x·scale, rounded to float32 as the element-wise multiply rounds it.
FULMEN_VECTOR_CLONES void scaled(const float* x, float scale, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<float>(double{x[i]} * double{scale});
}

// The mask's offset for product n (outer o, inner i).
int64_t biasOffset(const AttentionShape& s, int64_t n) {
  return (n / s.inner) * s.strideOuter + (n % s.inner) * s.strideInner;
}

// scores[n] += bias (double additions rounded to float32, as the op-by-op addition).
void addBias(float* scores, const float* bias, const AttentionShape& s, int64_t products) {
  for (int64_t n = 0; n < products; n++) {
    const float* b = bias + biasOffset(s, n);
    float* row = scores + n * s.L * s.S;
    for (int64_t l = 0; l < s.L; l++)
      for (int64_t c = 0; c < s.S; c++) {
        float& x = row[l * s.S + c];
        x = static_cast<float>(double{x} + double{b[l * s.strideRow + c * s.strideCol]});
      }
  }
}

// Softmax's gradient row by row: (dW - Σ dW·W)·W, tfjs's order (the product, its row sum, the difference, the
// product).
FULMEN_VECTOR_CLONES void softmaxGradRows(const float* dW, const float* w, float* dS, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* g = dW + r * cols;
    const float* y = w + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) sum += static_cast<float>(g[c] * y[c]);
    const float total = static_cast<float>(sum);
    float* o = dS + r * cols;
    for (int64_t c = 0; c < cols; c++) o[c] = (g[c] - total) * y[c];
  }
}

// −∞ where a key lies after its query (x + −∞ is what adding a 0/−∞ causal mask gives; x + 0 is x).
void maskFuture(float* scores, const AttentionShape& s, int64_t products) {
  for (int64_t n = 0; n < products; n++)
    for (int64_t l = 0; l < s.L; l++)
      for (int64_t c = l + 1; c < s.S; c++) scores[(n * s.L + l) * s.S + c] = -INFINITY;
}

FULMEN_VECTOR_CLONES void addInPlace(float* out, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] += x[i];
}
}  // namespace

void hostAttention(const float* q, const float* k, const float* v, const float* bias, float* output, float* weights,
                   const AttentionShape& s) {
  const int64_t N = s.outer * s.inner;
  const ScratchFloats scaledQ(0, static_cast<size_t>(N * s.L * s.E));
  float* qs = scaledQ.data();
  scaled(q, s.scale, qs, N * s.L * s.E);
  const int n = static_cast<int>(N);
  hostBatchMatMul(qs, k, weights, n, n, static_cast<int>(s.L), static_cast<int>(s.S), static_cast<int>(s.E),
                  false, true);
  if (bias != nullptr) addBias(weights, bias, s, N);
  if (s.causal) maskFuture(weights, s, N);
  hostSoftmax(weights, weights, N * s.L, s.S);
  hostBatchMatMul(weights, v, output, n, n, static_cast<int>(s.L), static_cast<int>(s.Ev), static_cast<int>(s.S),
                  false, false);
}

void hostAttentionGrad(const float* dOutput, const float* dWeights, const float* q, const float* k, const float* v,
                       const float* weights, float* dq, float* dk, float* dv, float* dBias,
                       const AttentionShape& s) {
  const int64_t N = s.outer * s.inner, block = s.L * s.S;
  const int n = static_cast<int>(N), L = static_cast<int>(s.L), S = static_cast<int>(s.S),
            E = static_cast<int>(s.E), Ev = static_cast<int>(s.Ev);
  // dv = weightsᵀ·dOutput; the weights' gradient dO·vᵀ (plus what reached them directly).
  hostBatchMatMul(weights, dOutput, dv, n, n, S, Ev, L, true, false);
  const ScratchFloats weightsGrad(0, static_cast<size_t>(N * block)), scoresGrad(1, static_cast<size_t>(N * block));
  float* dW = weightsGrad.data();
  float* dS = scoresGrad.data();
  hostBatchMatMul(dOutput, v, dW, n, n, L, S, Ev, false, true);
  if (dWeights != nullptr) addInPlace(dW, dWeights, N * block);
  parallelFor(N * s.L, 256, [&](int64_t begin, int64_t end) {
    softmaxGradRows(dW + begin * s.S, weights + begin * s.S, dS + begin * s.S, end - begin, s.S);
  });
  // dq = (dS·k)·scale, dk = dSᵀ·(q·scale): through the scaled query, as the op-by-op path.
  hostBatchMatMul(dS, k, dq, n, n, L, E, S, false, false);
  scaled(dq, s.scale, dq, N * s.L * s.E);
  const ScratchFloats scaledQ(2, static_cast<size_t>(N * s.L * s.E));
  float* qs = scaledQ.data();
  scaled(q, s.scale, qs, N * s.L * s.E);
  hostBatchMatMul(dS, qs, dk, n, n, S, E, L, true, false);
  if (dBias == nullptr) return;
  // The mask's gradient: dS summed over the dimensions it broadcasts over (zero strides), in double.
  const int64_t biasSize = ((s.outer - 1) * s.strideOuter + (s.inner - 1) * s.strideInner +
                            (s.L - 1) * s.strideRow + (s.S - 1) * s.strideCol) + 1;
  std::vector<double> sums(static_cast<size_t>(biasSize), 0.0);
  for (int64_t p = 0; p < N; p++) {
    double* b = sums.data() + biasOffset(s, p);
    const float* g = dS + p * block;
    for (int64_t l = 0; l < s.L; l++)
      for (int64_t c = 0; c < s.S; c++) b[l * s.strideRow + c * s.strideCol] += g[l * s.S + c];
  }
  for (int64_t i = 0; i < biasSize; i++) dBias[i] = static_cast<float>(sums[i]);
}

}  // namespace fulmen

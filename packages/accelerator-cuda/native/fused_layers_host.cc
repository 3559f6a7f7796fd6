#include <algorithm>
#include <cmath>
#include <vector>

#include "elementwise_ops.h"
#include "fused_layers.h"
#include "parallel.h"
#include "vector_clones.h"

namespace fulmen {

static FULMEN_VECTOR_CLONES void geluChunk(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = geluValue(x[i]);
}

static FULMEN_VECTOR_CLONES void geluGradChunk(const float* dy, const float* x, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; i++) dx[i] = geluGradValue(dy[i], x[i]);
}

void hostGelu(const float* x, float* y, int64_t n) {
  parallelFor(n, 65536, [&](int64_t begin, int64_t end) { geluChunk(x + begin, y + begin, end - begin); });
}

void hostGeluGrad(const float* dy, const float* x, float* dx, int64_t n) {
  parallelFor(n, 65536,
              [&](int64_t begin, int64_t end) { geluGradChunk(dy + begin, x + begin, dx + begin, end - begin); });
}

namespace {
// Σ f(c) for c < n in eight interleaved partial sums, added up in lane order at the end: a fixed order (the
// result depends on neither threads nor machine) that the compiler vectorises, unlike one running sum.
template <typename F>
inline double laneSum(int64_t n, F f) {
  double lanes[8] = {};
  int64_t c = 0;
  for (; c + 8 <= n; c += 8)
    for (int64_t j = 0; j < 8; j++) lanes[j] += f(c + j);
  for (int64_t j = 0; c < n; c++, j++) lanes[j] += f(c);
  double total = 0;
  for (double lane : lanes) total += lane;
  return total;
}

FULMEN_VECTOR_CLONES void layerNormRows(const float* x, const float* weight, const float* bias, float* y, float* mean,
                                        float* rstd, int64_t rows, int64_t cols, double eps) {
  for (int64_t r = 0; r < rows; r++) {
    const float* in = x + r * cols;
    const double mu = laneSum(cols, [&](int64_t c) { return static_cast<double>(in[c]); }) / static_cast<double>(cols);
    const double squares = laneSum(cols, [&](int64_t c) {
      const double d = in[c] - mu;
      return d * d;
    });
    const double inv = 1.0 / std::sqrt(squares / static_cast<double>(cols) + eps);
    mean[r] = static_cast<float>(mu);
    rstd[r] = static_cast<float>(inv);
    float* out = y + r * cols;
    if (weight != nullptr && bias != nullptr)
      for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>((in[c] - mu) * inv * weight[c] + bias[c]);
    else if (weight != nullptr)
      for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>((in[c] - mu) * inv * weight[c]);
    else
      for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>((in[c] - mu) * inv);
  }
}
}  // namespace

void hostLayerNorm(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                   int64_t rows, int64_t cols, double eps) {
  // Rows are independent: each thread normalises a block of them.
  parallelFor(rows, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, cols)), [&](int64_t begin, int64_t end) {
    layerNormRows(x + begin * cols, weight, bias, y + begin * cols, mean + begin, rstd + begin, end - begin, cols,
                  eps);
  });
}

// With x̂ = (x - mean)·rstd and g = dy·weight: dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), as PyTorch computes it.
FULMEN_VECTOR_CLONES void hostLayerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd,
                                            const float* weight, float* dx, float* dWeight, float* dBias, int64_t rows,
                                            int64_t cols) {
  std::vector<double> weightSum(dWeight != nullptr ? cols : 0, 0.0), biasSum(dBias != nullptr ? cols : 0, 0.0);
  for (int64_t r = 0; r < rows; r++) {
    const float* in = x + r * cols;
    const float* grad = dy + r * cols;
    const double mu = mean[r], inv = rstd[r];
    auto g = [&](int64_t c) { return weight != nullptr ? static_cast<double>(grad[c]) * weight[c] : grad[c]; };
    auto xhat = [&](int64_t c) { return (in[c] - mu) * inv; };
    const double gMean = laneSum(cols, g) / static_cast<double>(cols);
    const double gxMean = laneSum(cols, [&](int64_t c) { return g(c) * xhat(c); }) / static_cast<double>(cols);
    float* out = dx + r * cols;
    for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>(inv * (g(c) - gMean - xhat(c) * gxMean));
    if (dWeight != nullptr)
      for (int64_t c = 0; c < cols; c++) weightSum[c] += grad[c] * xhat(c);
    if (dBias != nullptr)
      for (int64_t c = 0; c < cols; c++) biasSum[c] += grad[c];
  }
  for (int64_t c = 0; c < static_cast<int64_t>(weightSum.size()); c++) dWeight[c] = static_cast<float>(weightSum[c]);
  for (int64_t c = 0; c < static_cast<int64_t>(biasSum.size()); c++) dBias[c] = static_cast<float>(biasSum[c]);
}

}  // namespace fulmen

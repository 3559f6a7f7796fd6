// Layer normalisation one row at a time (and its parameters' gradients one column at a time), for the host
// build's loops and the GPU build's threads alike: the same sums in the same order, so both give the same bits.
#pragma once

#include <cmath>
#include <cstdint>

#include "device.h"

namespace fulmen {

/**
 * Σ f(c) for c < n in eight interleaved partial sums, added up in lane order at the end: a fixed order (the result
 * depends on neither threads nor machine) that the host compiler vectorises, unlike one running sum.
 */
template <typename F>
FULMEN_HD inline double laneSum(int64_t n, F f) {
  double lanes[8] = {};
  int64_t c = 0;
  for (; c + 8 <= n; c += 8)
    for (int64_t j = 0; j < 8; j++) lanes[j] += f(c + j);
  for (int64_t j = 0; c < n; c++, j++) lanes[j] += f(c);
  double total = 0;
  for (double lane : lanes) total += lane;
  return total;
}

/** One row: y = (x - mean)·rstd·weight + bias (weight, bias may be null), mean and rstd in double. */
FULMEN_HD inline void layerNormRow(const float* in, const float* weight, const float* bias, float* out, float* mean,
                                   float* rstd, int64_t cols, double eps) {
  const double mu = laneSum(cols, [&](int64_t c) { return static_cast<double>(in[c]); }) / static_cast<double>(cols);
  const double squares = laneSum(cols, [&](int64_t c) {
    const double d = in[c] - mu;
    return d * d;
  });
  const double inv = 1.0 / sqrt(squares / static_cast<double>(cols) + eps);
  *mean = static_cast<float>(mu);
  *rstd = static_cast<float>(inv);
  if (weight != nullptr && bias != nullptr)
    for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>((in[c] - mu) * inv * weight[c] + bias[c]);
  else if (weight != nullptr)
    for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>((in[c] - mu) * inv * weight[c]);
  else
    for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>((in[c] - mu) * inv);
}

/** One row of dx with or without a weight (a compile-time choice: a branch per element stops the vectoriser). */
template <bool HasWeight>
FULMEN_HD inline void layerNormGradRowOf(const float* grad, const float* in, double mu, double inv, const float* weight,
                                         float* out, int64_t cols) {
  auto g = [&](int64_t c) {
    if constexpr (HasWeight) return static_cast<double>(grad[c]) * weight[c];
    else return static_cast<double>(grad[c]);
  };
  auto xhat = [&](int64_t c) { return (in[c] - mu) * inv; };
  const double gMean = laneSum(cols, g) / static_cast<double>(cols);
  const double gxMean = laneSum(cols, [&](int64_t c) { return g(c) * xhat(c); }) / static_cast<double>(cols);
  for (int64_t c = 0; c < cols; c++) out[c] = static_cast<float>(inv * (g(c) - gMean - xhat(c) * gxMean));
}

/** One row of dx: with x̂ = (x - mean)·rstd and g = dy·weight, dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) (PyTorch's). */
FULMEN_HD inline void layerNormGradRow(const float* grad, const float* in, float meanValue, float rstdValue,
                                       const float* weight, float* out, int64_t cols) {
  if (weight != nullptr) layerNormGradRowOf<true>(grad, in, meanValue, rstdValue, weight, out, cols);
  else layerNormGradRowOf<false>(grad, in, meanValue, rstdValue, weight, out, cols);
}

/**
 * Columns c0 … c0 + width - 1 (width ≤ Width) of dWeight (Σ_r dy·x̂) and dBias (Σ_r dy), each column's sum over the
 * rows in order, in double. The rows are the outer loop so that a tile's columns are independent sums side by side
 * (contiguous loads the host compiler vectorises), with the bits of one column at a time: a GPU thread takes a tile
 * of one column. Which outputs exist is a compile-time choice, so the sums can stay in registers.
 */
template <int Width, bool HasWeight, bool HasBias>
FULMEN_HD inline void layerNormParamGradTileOf(const float* dy, const float* x, const float* mean, const float* rstd,
                                               float* dWeight, float* dBias, int64_t rows, int64_t cols, int64_t c0,
                                               int width) {
  double weightSums[Width] = {};
  double biasSums[Width] = {};
  for (int64_t r = 0; r < rows; r++) {
    const float* dyRow = dy + r * cols + c0;
    const float* xRow = x + r * cols + c0;
    const double mu = mean[r];
    const float inv = rstd[r];
    for (int j = 0; j < width; j++) {
      if constexpr (HasWeight) weightSums[j] += dyRow[j] * ((xRow[j] - mu) * inv);
      if constexpr (HasBias) biasSums[j] += dyRow[j];
    }
  }
  for (int j = 0; j < width; j++) {
    if constexpr (HasWeight) dWeight[c0 + j] = static_cast<float>(weightSums[j]);
    if constexpr (HasBias) dBias[c0 + j] = static_cast<float>(biasSums[j]);
  }
}

/** {@link layerNormParamGradTileOf} for the outputs that are not null. */
template <int Width>
FULMEN_HD inline void layerNormParamGradTile(const float* dy, const float* x, const float* mean, const float* rstd,
                                             float* dWeight, float* dBias, int64_t rows, int64_t cols, int64_t c0,
                                             int width) {
  if (dWeight != nullptr && dBias != nullptr)
    layerNormParamGradTileOf<Width, true, true>(dy, x, mean, rstd, dWeight, dBias, rows, cols, c0, width);
  else if (dWeight != nullptr)
    layerNormParamGradTileOf<Width, true, false>(dy, x, mean, rstd, dWeight, dBias, rows, cols, c0, width);
  else if (dBias != nullptr)
    layerNormParamGradTileOf<Width, false, true>(dy, x, mean, rstd, dWeight, dBias, rows, cols, c0, width);
}

/** Column c of dWeight and dBias (a tile of one column). */
FULMEN_HD inline void layerNormParamGradColumn(const float* dy, const float* x, const float* mean, const float* rstd,
                                               float* dWeight, float* dBias, int64_t rows, int64_t cols, int64_t c) {
  layerNormParamGradTile<1>(dy, x, mean, rstd, dWeight, dBias, rows, cols, c, 1);
}

}  // namespace fulmen

#include <algorithm>
#include <cmath>

#include "elementwise_ops.h"
#include "fused_layers.h"
#include "layer_norm_ops.h"
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
FULMEN_VECTOR_CLONES void layerNormRows(const float* x, const float* weight, const float* bias, float* y, float* mean,
                                        float* rstd, int64_t rows, int64_t cols, double eps) {
  for (int64_t r = 0; r < rows; r++) layerNormRow(x + r * cols, weight, bias, y + r * cols, mean + r, rstd + r, cols, eps);
}

FULMEN_VECTOR_CLONES void layerNormGradRows(const float* dy, const float* x, const float* mean, const float* rstd,
                                            const float* weight, float* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++)
    layerNormGradRow(dy + r * cols, x + r * cols, mean[r], rstd[r], weight, dx + r * cols, cols);
}

constexpr int kParamTile = 16;

FULMEN_VECTOR_CLONES void layerNormParamGradTiles(const float* dy, const float* x, const float* mean,
                                                  const float* rstd, float* dWeight, float* dBias, int64_t rows,
                                                  int64_t cols, int64_t firstTile, int64_t endTile) {
  for (int64_t t = firstTile; t < endTile; t++) {
    const int64_t c0 = t * kParamTile;
    const int64_t width = std::min<int64_t>(kParamTile, cols - c0);
    // A full tile's constant width lets the compiler keep its sums in vector registers.
    if (width == kParamTile)
      layerNormParamGradTile<kParamTile>(dy, x, mean, rstd, dWeight, dBias, rows, cols, c0, kParamTile);
    else
      layerNormParamGradTile<kParamTile>(dy, x, mean, rstd, dWeight, dBias, rows, cols, c0, static_cast<int>(width));
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

// dx row by row, the parameters' gradients column by column (each column's sum over the rows in order): both
// split over threads with the same bits as one pass.
void hostLayerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd, const float* weight,
                       float* dx, float* dWeight, float* dBias, int64_t rows, int64_t cols) {
  parallelFor(rows, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, cols)), [&](int64_t begin, int64_t end) {
    layerNormGradRows(dy + begin * cols, x + begin * cols, mean + begin, rstd + begin, weight, dx + begin * cols,
                      end - begin, cols);
  });
  if (dWeight == nullptr && dBias == nullptr) return;
  // Threads take whole tiles of kParamTile columns.
  const int64_t tiles = (cols + kParamTile - 1) / kParamTile;
  parallelFor(tiles, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, rows * kParamTile)),
              [&](int64_t begin, int64_t end) {
                layerNormParamGradTiles(dy, x, mean, rstd, dWeight, dBias, rows, cols, begin, end);
              });
}

}  // namespace fulmen

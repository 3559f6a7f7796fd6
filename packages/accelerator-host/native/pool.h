// 2-D max and average pooling, channels-last, as tfjs's CPU kernels define them (the same window bounds, the same
// "first strictly greater" choice of the maximum, the gradient gathered in the same order), so results are
// bit-identical. One-channel inputs (NCHW layers pool [N·C, H, W, 1]) take row-at-a-time plane loops.
#pragma once

#include <cstdint>

namespace fulmen {

/** A pooling's geometry, in the order the TypeScript side passes it (src/pool-shapes.ts). */
struct Pool2DShape {
  int64_t batch, inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft;
};

/** tfjs's max pooling: the first strictly greatest pixel of each window (NaN never wins). */
void hostMaxPool(const float* x, float* out, const Pool2DShape& s);

/** Its gradient: each output's dy goes to its window's winner. */
void hostMaxPoolGrad(const float* dy, const float* x, float* dx, const Pool2DShape& s);

/** tfjs's average pooling: the mean over each window's pixels inside the input (padding not counted). */
void hostAvgPool(const float* x, float* out, const Pool2DShape& s);

/** Its gradient as tfjs computes it: each pixel gets the sum of the dy of the windows over it ÷ the filter's area. */
void hostAvgPoolGrad(const float* dy, float* dx, const Pool2DShape& s);

}  // namespace fulmen

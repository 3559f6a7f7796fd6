// Data movement (Transpose) and 2-D max pooling, channels-last, as tfjs's CPU kernels define them (the same
// window bounds, the same "first strictly greater" choice of the maximum, the gradient gathered in the same
// order), so results are bit-identical.
#pragma once

#include <cstdint>
#include <vector>

namespace fulmen {

/** out = x with axes permuted: out's axis i is x's axis perm[i]. Elements are 4 bytes (float32 or int32). */
void hostTranspose(const uint32_t* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm,
                   uint32_t* out);

struct Pool2DShape {
  int64_t batch, inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft;
};

void hostMaxPool(const float* x, float* out, const Pool2DShape& s);
void hostMaxPoolGrad(const float* dy, const float* x, float* dx, const Pool2DShape& s);

/** tfjs's average pooling: the mean over each window's pixels inside the input (padding not counted). */
void hostAvgPool(const float* x, float* out, const Pool2DShape& s);

/** Its gradient as tfjs computes it: each pixel gets the sum of the dy of the windows over it ÷ the filter's area. */
void hostAvgPoolGrad(const float* dy, float* dx, const Pool2DShape& s);

}  // namespace fulmen

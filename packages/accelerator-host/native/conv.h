// 2-D convolution as im2col + GEMM, with tfjs's [fH, fW, inC, outC] filter read as a [fH·fW·inC, outC] matrix.
// Channels-last (NHWC) images give a column matrix of one row per output pixel, times the filter; channels-first
// (NCHW, PyTorch's layout) give one row per filter tap, and the filter's transpose times it lands in NCHW order
// with no transposes either side. The backward passes are the transposed GEMMs and col2im. Shapes come from
// tfjs's computeConv2DInfo.
#pragma once

#include <cstdint>

namespace fulmen {

struct Conv2DShape {
  int64_t batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilationH, dilationW, padTop, padLeft;
  /** 1: x, dy and dx are NCHW (host engine only); 0: NHWC. */
  int64_t channelsFirst;
};

void hostConv2D(const float* x, const float* filter, float* out, const Conv2DShape& s);
void hostConv2DBackpropInput(const float* dy, const float* filter, float* dx, const Conv2DShape& s);
void hostConv2DBackpropFilter(const float* x, const float* dy, float* dFilter, const Conv2DShape& s);

}  // namespace fulmen

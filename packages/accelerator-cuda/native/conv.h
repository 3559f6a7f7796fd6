// 2-D convolution, channels-last (NHWC input, [fH, fW, inC, outC] filter), as im2col + GEMM: the column matrix
// of each image times the filter reshaped to [fH·fW·inC, outC]. The backward passes are the transposed GEMMs
// and col2im. Shapes come from tfjs's computeConv2DInfo.
#pragma once

#include <cstdint>

namespace fulmen {

struct Conv2DShape {
  int64_t batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilationH, dilationW, padTop, padLeft;
};

void hostConv2D(const float* x, const float* filter, float* out, const Conv2DShape& s);
void hostConv2DBackpropInput(const float* dy, const float* filter, float* dx, const Conv2DShape& s);
void hostConv2DBackpropFilter(const float* x, const float* dy, float* dFilter, const Conv2DShape& s);

}  // namespace fulmen

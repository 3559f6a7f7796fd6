#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "pool_transpose.h"

namespace fulmen {

void hostTranspose(const uint32_t* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm,
                   uint32_t* out) {
  const size_t rank = shape.size();
  std::vector<int64_t> xStride(rank, 1), outShape(rank), step(rank);
  for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; i--) xStride[i] = xStride[i + 1] * shape[i + 1];
  int64_t total = 1;
  for (size_t i = 0; i < rank; i++) {
    outShape[i] = shape[perm[i]];
    step[i] = xStride[perm[i]];
    total *= outShape[i];
  }
  if (total == 0) return;
  // Row by row of the output's last dimension: a straight copy when that dimension is also the input's last.
  const int64_t inner = outShape[rank - 1], innerStep = step[rank - 1];
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t row = 0; row < total / inner; row++) {
    const uint32_t* src = x + offset;
    uint32_t* dst = out + row * inner;
    if (innerStep == 1)
      std::memcpy(dst, src, static_cast<size_t>(inner) * sizeof(uint32_t));
    else
      for (int64_t i = 0; i < inner; i++) dst[i] = src[i * innerStep];
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; d--) {
      offset += step[d];
      if (++index[d] < outShape[d]) break;
      offset -= step[d] * outShape[d];
      index[d] = 0;
    }
  }
}

namespace {

// The input rows [rMin, rMax) and columns [cMin, cMax) under output cell (yR, yC), and the window's corner.
struct Window {
  int64_t rCorner, rMin, rMax, cCorner, cMin, cMax;
};

Window windowOf(const Pool2DShape& s, int64_t yR, int64_t yC) {
  const int64_t rCorner = yR * s.strideH - s.padTop, cCorner = yC * s.strideW - s.padLeft;
  return {rCorner, std::max<int64_t>(0, rCorner), std::min(s.inH, s.filterH + rCorner),
          cCorner, std::max<int64_t>(0, cCorner), std::min(s.inW, s.filterW + cCorner)};
}

// The window-relative position (wR·filterW + wC) of the first strictly greatest pixel, -1 when none is greater
// than -∞ (tfjs's maxPoolPositions with dilation 1).
void maxPositions(const float* x, int32_t* positions, const Pool2DShape& s) {
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t yR = 0; yR < s.outH; yR++) {
      for (int64_t yC = 0; yC < s.outW; yC++) {
        const Window w = windowOf(s, yR, yC);
        for (int64_t d = 0; d < s.channels; d++) {
          float best = -std::numeric_limits<float>::infinity();
          int32_t position = -1;
          for (int64_t xR = w.rMin; xR < w.rMax; xR++) {
            for (int64_t xC = w.cMin; xC < w.cMax; xC++) {
              const float pixel = x[((b * s.inH + xR) * s.inW + xC) * s.channels + d];
              if (pixel > best) {
                best = pixel;
                position = static_cast<int32_t>((xR - w.rCorner) * s.filterW + (xC - w.cCorner));
              }
            }
          }
          positions[((b * s.outH + yR) * s.outW + yC) * s.channels + d] = position;
        }
      }
    }
  }
}

}  // namespace

void hostMaxPool(const float* x, float* out, const Pool2DShape& s) {
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t yR = 0; yR < s.outH; yR++) {
      for (int64_t yC = 0; yC < s.outW; yC++) {
        const Window w = windowOf(s, yR, yC);
        float* dst = out + ((b * s.outH + yR) * s.outW + yC) * s.channels;
        for (int64_t d = 0; d < s.channels; d++) dst[d] = -std::numeric_limits<float>::infinity();
        for (int64_t xR = w.rMin; xR < w.rMax; xR++) {
          for (int64_t xC = w.cMin; xC < w.cMax; xC++) {
            const float* src = x + ((b * s.inH + xR) * s.inW + xC) * s.channels;
            for (int64_t d = 0; d < s.channels; d++)
              if (src[d] > dst[d]) dst[d] = src[d];
          }
        }
      }
    }
  }
}

void hostMaxPoolGrad(const float* dy, const float* x, float* dx, const Pool2DShape& s) {
  std::vector<int32_t> positions(static_cast<size_t>(s.batch * s.outH * s.outW * s.channels));
  maxPositions(x, positions.data(), s);
  const int64_t padTop = s.filterH - 1 - s.padTop, padLeft = s.filterW - 1 - s.padLeft;
  const int64_t last = s.filterH * s.filterW - 1;
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t dxR = 0; dxR < s.inH; dxR++) {
      for (int64_t dxC = 0; dxC < s.inW; dxC++) {
        for (int64_t d = 0; d < s.channels; d++) {
          double sum = 0;
          for (int64_t wR = 0; wR < s.filterH; wR++) {
            const int64_t rNum = dxR - padTop + wR;
            if (rNum < 0 || rNum % s.strideH != 0 || rNum / s.strideH >= s.outH) continue;
            const int64_t dyR = rNum / s.strideH;
            for (int64_t wC = 0; wC < s.filterW; wC++) {
              const int64_t cNum = dxC - padLeft + wC;
              if (cNum < 0 || cNum % s.strideW != 0 || cNum / s.strideW >= s.outW) continue;
              const int64_t dyC = cNum / s.strideW;
              const int64_t cell = ((b * s.outH + dyR) * s.outW + dyC) * s.channels + d;
              if (last - positions[cell] != wR * s.filterW + wC) continue;
              sum += dy[cell];
            }
          }
          dx[((b * s.inH + dxR) * s.inW + dxC) * s.channels + d] = static_cast<float>(sum);
        }
      }
    }
  }
}

}  // namespace fulmen

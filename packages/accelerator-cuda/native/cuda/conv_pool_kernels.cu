// The GPU build's convolution helpers (im2col over a whole batch, and col2im as a gather: each input pixel sums
// the taps that came from it, so no two threads write one place), channels-last or channels-first, and 2-D
// pooling, channels-last. Max and average
// windows follow tfjs's rules as the host build does: a running maximum from -∞ that only a strictly greater
// pixel replaces (NaN never wins), window sums in double.
#include "cuda_api.h"

#include <cstdint>

#include "device_kernels.h"
#include "launch.h"

namespace fulmen {
namespace gpu {

__device__ inline int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Channels last: cols[(b, oy, ox), (fy, fx, c)] = x[b, iy, ix, c]. Channels first (NCHW):
// cols[b, (fy, fx, c), (oy, ox)] = x[b, c, iy, ix]. Zero where the tap falls in the padding.
__global__ void im2colKernel(const float* x, float* cols, Conv2DShape s) {
  const int64_t k = s.fH * s.fW * s.inC, pixels = s.outH * s.outW;
  FULMEN_GRID_LOOP(j, s.batch * pixels * k) {
    int64_t b, row, pixel;
    if (s.channelsFirst) {
      pixel = j % pixels, row = (j / pixels) % k, b = j / (pixels * k);
    } else {
      row = j % k, pixel = (j / k) % pixels, b = j / (k * pixels);
    }
    const int64_t c = row % s.inC, tap = row / s.inC, fx = tap % s.fW, fy = tap / s.fW;
    const int64_t ox = pixel % s.outW, oy = pixel / s.outW;
    const int64_t iy = oy * s.strideH - s.padTop + fy * s.dilationH, ix = ox * s.strideW - s.padLeft + fx * s.dilationW;
    const bool inside = iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW;
    const int64_t at = s.channelsFirst ? ((b * s.inC + c) * s.inH + iy) * s.inW + ix : ((b * s.inH + iy) * s.inW + ix) * s.inC + c;
    cols[j] = inside ? x[at] : 0.0f;
  }
}

// dx[pixel] = Σ over the taps (fy, fx) that read it of its column-matrix entries, in tap order; dx and the column
// matrix in im2colKernel's layouts.
__global__ void col2imKernel(const float* cols, float* dx, Conv2DShape s) {
  const int64_t k = s.fH * s.fW * s.inC, pixels = s.outH * s.outW;
  FULMEN_GRID_LOOP(j, s.batch * s.inH * s.inW * s.inC) {
    int64_t b, c, iy, ix;
    if (s.channelsFirst) {
      ix = j % s.inW, iy = (j / s.inW) % s.inH, c = (j / (s.inW * s.inH)) % s.inC, b = j / (s.inW * s.inH * s.inC);
    } else {
      c = j % s.inC, ix = (j / s.inC) % s.inW, iy = (j / (s.inC * s.inW)) % s.inH, b = j / (s.inC * s.inW * s.inH);
    }
    float sum = 0.0f;
    for (int64_t fy = 0; fy < s.fH; fy++) {
      const int64_t top = iy + s.padTop - fy * s.dilationH;
      if (top < 0 || top % s.strideH != 0 || top / s.strideH >= s.outH) continue;
      for (int64_t fx = 0; fx < s.fW; fx++) {
        const int64_t left = ix + s.padLeft - fx * s.dilationW;
        if (left < 0 || left % s.strideW != 0 || left / s.strideW >= s.outW) continue;
        const int64_t pixel = (top / s.strideH) * s.outW + left / s.strideW, row = (fy * s.fW + fx) * s.inC + c;
        sum += s.channelsFirst ? cols[(b * k + row) * pixels + pixel] : cols[(b * pixels + pixel) * k + row];
      }
    }
    dx[j] = sum;
  }
}

struct Window {
  int64_t rCorner, rMin, rMax, cCorner, cMin, cMax;
};

__device__ inline Window windowOf(const Pool2DShape& s, int64_t yR, int64_t yC) {
  const int64_t rCorner = yR * s.strideH - s.padTop, cCorner = yC * s.strideW - s.padLeft;
  return {rCorner, rCorner > 0 ? rCorner : 0, s.filterH + rCorner < s.inH ? s.filterH + rCorner : s.inH,
          cCorner, cCorner > 0 ? cCorner : 0, s.filterW + cCorner < s.inW ? s.filterW + cCorner : s.inW};
}

// Max (kind 0) or average (kind 1) of each window; with `positions`, max also records the window-relative index
// of its first strictly greatest pixel (-1 when none beats -∞).
__global__ void poolKernel(int kind, const float* x, float* out, int32_t* positions, Pool2DShape s) {
  FULMEN_GRID_LOOP(j, s.batch * s.outH * s.outW * s.channels) {
    const int64_t d = j % s.channels, yC = (j / s.channels) % s.outW, yR = (j / (s.channels * s.outW)) % s.outH;
    const int64_t b = j / (s.channels * s.outW * s.outH);
    const Window w = windowOf(s, yR, yC);
    float best = -INFINITY;
    int32_t where = -1;
    double sum = 0;
    for (int64_t xR = w.rMin; xR < w.rMax; xR++)
      for (int64_t xC = w.cMin; xC < w.cMax; xC++) {
        const float v = x[((b * s.inH + xR) * s.inW + xC) * s.channels + d];
        if (kind == 1) {
          sum += v;
        } else if (v > best) {
          best = v;
          where = static_cast<int32_t>((xR - w.rCorner) * s.filterW + (xC - w.cCorner));
        }
      }
    if (kind == 1) {
      out[j] = static_cast<float>(sum / static_cast<double>((w.rMax - w.rMin) * (w.cMax - w.cMin)));
    } else {
      if (out != nullptr) out[j] = best;
      if (positions != nullptr) positions[j] = where;
    }
  }
}

// dx of max pooling (kind 0: the dy of every window this pixel won) or average pooling (kind 1: the dy of every
// window over it ÷ the filter's area), summed in double over the covering windows.
__global__ void poolGradKernel(int kind, const float* dy, const int32_t* positions, float* dx, Pool2DShape s) {
  FULMEN_GRID_LOOP(j, s.batch * s.inH * s.inW * s.channels) {
    const int64_t d = j % s.channels, xC = (j / s.channels) % s.inW, xR = (j / (s.channels * s.inW)) % s.inH;
    const int64_t b = j / (s.channels * s.inW * s.inH);
    // Output rows whose window [yR·strideH - padTop, + filterH) contains xR, likewise for columns.
    int64_t rFirst = floorDiv(xR + s.padTop - s.filterH, s.strideH) + 1, rLast = floorDiv(xR + s.padTop, s.strideH);
    int64_t cFirst = floorDiv(xC + s.padLeft - s.filterW, s.strideW) + 1, cLast = floorDiv(xC + s.padLeft, s.strideW);
    if (rFirst < 0) rFirst = 0;
    if (cFirst < 0) cFirst = 0;
    if (rLast > s.outH - 1) rLast = s.outH - 1;
    if (cLast > s.outW - 1) cLast = s.outW - 1;
    double sum = 0;
    for (int64_t yR = rFirst; yR <= rLast; yR++)
      for (int64_t yC = cFirst; yC <= cLast; yC++) {
        const int64_t cell = ((b * s.outH + yR) * s.outW + yC) * s.channels + d;
        if (kind == 1) {
          sum += dy[cell];
        } else {
          const int64_t here = (xR - (yR * s.strideH - s.padTop)) * s.filterW + (xC - (yC * s.strideW - s.padLeft));
          if (positions[cell] == here) sum += dy[cell];
        }
      }
    dx[j] = static_cast<float>(kind == 1 ? sum * (1.0 / static_cast<double>(s.filterH * s.filterW)) : sum);
  }
}

}  // namespace gpu

cudaError_t deviceIm2col(const float* x, float* cols, const Conv2DShape& s, cudaStream_t stream) {
  const int64_t n = s.batch * s.outH * s.outW * s.fH * s.fW * s.inC;
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::im2colKernel)(x, cols, s);
  return cudaGetLastError();
}

cudaError_t deviceCol2im(const float* cols, float* dx, const Conv2DShape& s, cudaStream_t stream) {
  const int64_t n = s.batch * s.inH * s.inW * s.inC;
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::col2imKernel)(cols, dx, s);
  return cudaGetLastError();
}

cudaError_t devicePool(int kind, const float* x, float* out, int32_t* positions, const Pool2DShape& s,
                       cudaStream_t stream) {
  const int64_t n = s.batch * s.outH * s.outW * s.channels;
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::poolKernel)(kind, x, out, positions, s);
  return cudaGetLastError();
}

cudaError_t devicePoolGrad(int kind, const float* dy, const int32_t* positions, float* dx, const Pool2DShape& s,
                           cudaStream_t stream) {
  const int64_t n = s.batch * s.inH * s.inW * s.channels;
  if (n == 0) return cudaSuccess;
  FULMEN_LAUNCH(gpu::blocksFor(n), gpu::kThreads, stream, gpu::poolGradKernel)(kind, dy, positions, dx, s);
  return cudaGetLastError();
}

}  // namespace fulmen

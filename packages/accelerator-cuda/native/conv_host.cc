#include <cblas.h>

#include <algorithm>
#include <vector>

#include "conv.h"
#include "gemm.h"

namespace fulmen {

namespace {

// Row (oy, ox) of an image's column matrix holds the receptive field, in filter order (fy, fx, c); taps that
// fall in the padding are zero.
void im2col(const float* image, float* cols, const Conv2DShape& s) {
  const int64_t k = s.fH * s.fW * s.inC;
  for (int64_t oy = 0; oy < s.outH; oy++) {
    for (int64_t ox = 0; ox < s.outW; ox++) {
      float* row = cols + (oy * s.outW + ox) * k;
      for (int64_t fy = 0; fy < s.fH; fy++) {
        const int64_t iy = oy * s.strideH - s.padTop + fy * s.dilationH;
        for (int64_t fx = 0; fx < s.fW; fx++) {
          const int64_t ix = ox * s.strideW - s.padLeft + fx * s.dilationW;
          float* dst = row + (fy * s.fW + fx) * s.inC;
          if (iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW) {
            std::fill(dst, dst + s.inC, 0.0f);
            continue;
          }
          const float* src = image + (iy * s.inW + ix) * s.inC;
          // One channel (a first layer's grey image) is one value a tap: a plain store, not a memmove call.
          if (s.inC == 1) *dst = *src;
          else std::copy(src, src + s.inC, dst);
        }
      }
    }
  }
}

// The adjoint of im2col: every tap adds its column value back to the pixel it came from.
void col2im(const float* cols, float* image, const Conv2DShape& s) {
  const int64_t k = s.fH * s.fW * s.inC;
  std::fill(image, image + s.inH * s.inW * s.inC, 0.0f);
  for (int64_t oy = 0; oy < s.outH; oy++) {
    for (int64_t ox = 0; ox < s.outW; ox++) {
      const float* row = cols + (oy * s.outW + ox) * k;
      for (int64_t fy = 0; fy < s.fH; fy++) {
        const int64_t iy = oy * s.strideH - s.padTop + fy * s.dilationH;
        if (iy < 0 || iy >= s.inH) continue;
        for (int64_t fx = 0; fx < s.fW; fx++) {
          const int64_t ix = ox * s.strideW - s.padLeft + fx * s.dilationW;
          if (ix < 0 || ix >= s.inW) continue;
          const float* src = row + (fy * s.fW + fx) * s.inC;
          float* dst = image + (iy * s.inW + ix) * s.inC;
          for (int64_t c = 0; c < s.inC; c++) dst[c] += src[c];
        }
      }
    }
  }
}

// Row-major C[M,N] = op(A)·op(B) + beta·C through the shared column-major mapping.
void gemm(const float* a, const float* b, float* c, int M, int N, int K, bool transA, bool transB, float beta) {
  gemmThreadsFor(M, N, K);
  const GemmArgs g = columnMajorGemm(M, N, K, transA, transB);
  cblas_sgemm(CblasColMajor, g.transFirst ? CblasTrans : CblasNoTrans, g.transSecond ? CblasTrans : CblasNoTrans, g.m,
              g.n, g.k, 1.0f, b, g.ldFirst, a, g.ldSecond, beta, c, g.ldResult);
}

}  // namespace

void hostConv2D(const float* x, const float* filter, float* out, const Conv2DShape& s) {
  const int64_t m = s.outH * s.outW, k = s.fH * s.fW * s.inC;
  std::vector<float> cols(static_cast<size_t>(m * k));
  for (int64_t b = 0; b < s.batch; b++) {
    im2col(x + b * s.inH * s.inW * s.inC, cols.data(), s);
    gemm(cols.data(), filter, out + b * m * s.outC, static_cast<int>(m), static_cast<int>(s.outC),
         static_cast<int>(k), false, false, 0.0f);
  }
}

void hostConv2DBackpropInput(const float* dy, const float* filter, float* dx, const Conv2DShape& s) {
  const int64_t m = s.outH * s.outW, k = s.fH * s.fW * s.inC;
  std::vector<float> cols(static_cast<size_t>(m * k));
  for (int64_t b = 0; b < s.batch; b++) {
    // dcols[M,K] = dy[M,outC] · filterᵀ[outC,K]
    gemm(dy + b * m * s.outC, filter, cols.data(), static_cast<int>(m), static_cast<int>(k),
         static_cast<int>(s.outC), false, true, 0.0f);
    col2im(cols.data(), dx + b * s.inH * s.inW * s.inC, s);
  }
}

void hostConv2DBackpropFilter(const float* x, const float* dy, float* dFilter, const Conv2DShape& s) {
  const int64_t m = s.outH * s.outW, k = s.fH * s.fW * s.inC;
  std::vector<float> cols(static_cast<size_t>(m * k));
  std::fill(dFilter, dFilter + k * s.outC, 0.0f);
  for (int64_t b = 0; b < s.batch; b++) {
    im2col(x + b * s.inH * s.inW * s.inC, cols.data(), s);
    // dFilter[K,outC] += colsᵀ[K,M] · dy[M,outC]
    gemm(cols.data(), dy + b * m * s.outC, dFilter, static_cast<int>(k), static_cast<int>(s.outC),
         static_cast<int>(m), true, false, 1.0f);
  }
}

}  // namespace fulmen

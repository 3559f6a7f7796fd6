#include <cblas.h>

#include <algorithm>
#include <vector>

#include "conv.h"
#include "gemm.h"
#include "parallel.h"

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

// The output columns [begin, end) whose tap fx lands inside the image, and the input column of the first.
struct ColumnRange {
  int64_t begin, end, firstX;
};

ColumnRange columnRange(const Conv2DShape& s, int64_t fx) {
  const int64_t offset = fx * s.dilationW - s.padLeft;  // ix = ox·strideW + offset
  const int64_t begin = offset >= 0 ? 0 : (-offset + s.strideW - 1) / s.strideW;
  const int64_t lastX = s.inW - 1 - offset;  // the largest ox·strideW inside the image
  const int64_t end = lastX < 0 ? 0 : std::min(s.outW, lastX / s.strideW + 1);
  const int64_t b = std::min(begin, end);
  return {b, end, end > b ? b * s.strideW + offset : 0};
}

// Channels first: row (fy, fx, c) of an image's column matrix holds that tap of channel c under every output
// pixel, in output order; taps in the padding are zero. Rows are in the filter's order, so the filter matrix
// [fH·fW·inC, outC] multiplies them without a transpose of its own.
void im2colChannelsFirst(const float* image, float* cols, const Conv2DShape& s) {
  const int64_t pixels = s.outH * s.outW;
  for (int64_t fy = 0; fy < s.fH; fy++)
    for (int64_t fx = 0; fx < s.fW; fx++) {
      const ColumnRange cr = columnRange(s, fx);
      for (int64_t c = 0; c < s.inC; c++) {
        float* row = cols + ((fy * s.fW + fx) * s.inC + c) * pixels;
        for (int64_t oy = 0; oy < s.outH; oy++) {
          float* dst = row + oy * s.outW;
          const int64_t iy = oy * s.strideH - s.padTop + fy * s.dilationH;
          if (iy < 0 || iy >= s.inH) {
            std::fill(dst, dst + s.outW, 0.0f);
            continue;
          }
          const float* src = image + (c * s.inH + iy) * s.inW + cr.firstX;
          std::fill(dst, dst + cr.begin, 0.0f);
          if (s.strideW == 1) std::copy(src, src + (cr.end - cr.begin), dst + cr.begin);
          else
            for (int64_t ox = cr.begin; ox < cr.end; ox++) dst[ox] = src[(ox - cr.begin) * s.strideW];
          std::fill(dst + cr.end, dst + s.outW, 0.0f);
        }
      }
    }
}

// The adjoint of im2colChannelsFirst.
void col2imChannelsFirst(const float* cols, float* image, const Conv2DShape& s) {
  const int64_t pixels = s.outH * s.outW;
  std::fill(image, image + s.inC * s.inH * s.inW, 0.0f);
  for (int64_t fy = 0; fy < s.fH; fy++)
    for (int64_t fx = 0; fx < s.fW; fx++) {
      const ColumnRange cr = columnRange(s, fx);
      for (int64_t c = 0; c < s.inC; c++) {
        const float* row = cols + ((fy * s.fW + fx) * s.inC + c) * pixels;
        for (int64_t oy = 0; oy < s.outH; oy++) {
          const int64_t iy = oy * s.strideH - s.padTop + fy * s.dilationH;
          if (iy < 0 || iy >= s.inH) continue;
          const float* src = row + oy * s.outW;
          float* dst = image + (c * s.inH + iy) * s.inW + cr.firstX;
          for (int64_t ox = cr.begin; ox < cr.end; ox++) dst[(ox - cr.begin) * s.strideW] += src[ox];
        }
      }
    }
}

// Row-major C[M,N] = op(A)·op(B) + beta·C through the shared column-major mapping (OpenBLAS's threads as
// forEachImageGroup set them).
void gemm(const float* a, const float* b, float* c, int M, int N, int K, bool transA, bool transB, float beta) {
  const GemmArgs g = columnMajorGemm(M, N, K, transA, transB);
  cblas_sgemm(CblasColMajor, g.transFirst ? CblasTrans : CblasNoTrans, g.transSecond ? CblasTrans : CblasNoTrans, g.m,
              g.n, g.k, 1.0f, b, g.ldFirst, a, g.ldSecond, beta, c, g.ldResult);
}

// Images are independent: groups of them go to the engine's threads when their products are too small for
// OpenBLAS's own. A group holds at least kGroupWork multiply-adds, so that its work outlasts waking a thread; the
// grouping depends on the shapes only, never on the thread count, so results are the same on any machine.
constexpr int64_t kGroupWork = int64_t{1} << 21;

struct ImageGroups {
  int64_t size, count;
};

ImageGroups imageGroupsOf(const Conv2DShape& s) {
  const int64_t perImage = std::max<int64_t>(1, s.outH * s.outW * s.fH * s.fW * s.inC * s.outC);
  const int64_t size = std::clamp<int64_t>((kGroupWork + perImage - 1) / perImage, 1, std::max<int64_t>(1, s.batch));
  return {size, (s.batch + size - 1) / size};
}

// Runs perImage(image, group, cols) for every image, group by group, with one column buffer per running chunk of
// groups; groups run on the engine's threads when that pays, else in order on this one.
template <typename PerImage>
void forEachImageGroup(const Conv2DShape& s, const ImageGroups& groups, PerImage perImage) {
  const int64_t m = s.outH * s.outW, k = s.fH * s.fW * s.inC;
  gemmThreadsFor(m, s.outC, k);  // one thread unless an image's product is large
  auto run = [&](int64_t first, int64_t end) {
    std::vector<float> cols(static_cast<size_t>(m * k));
    for (int64_t g = first; g < end; g++)
      for (int64_t b = g * groups.size; b < std::min(s.batch, (g + 1) * groups.size); b++) perImage(b, g, cols.data());
  };
  const int64_t imageWork = m * k * s.outC;
  // An image's product big enough for OpenBLAS's threads keeps them; smaller ones split over the engine's.
  if (groups.count > 1 && !gemmUsesBlasThreads(imageWork) && engineSplitPays(s.batch * imageWork)) {
    parallelFor(groups.count, 1, run);
  } else {
    run(0, groups.count);
  }
}

}  // namespace

void hostConv2D(const float* x, const float* filter, float* out, const Conv2DShape& s) {
  const int64_t m = s.outH * s.outW, k = s.fH * s.fW * s.inC, image = s.inH * s.inW * s.inC;
  forEachImageGroup(s, imageGroupsOf(s), [&](int64_t b, int64_t, float* cols) {
    if (s.channelsFirst) {
      im2colChannelsFirst(x + b * image, cols, s);
      // out[outC,M] = filterᵀ[outC,K] · cols[K,M]
      gemm(filter, cols, out + b * m * s.outC, static_cast<int>(s.outC), static_cast<int>(m), static_cast<int>(k),
           true, false, 0.0f);
    } else {
      im2col(x + b * image, cols, s);
      gemm(cols, filter, out + b * m * s.outC, static_cast<int>(m), static_cast<int>(s.outC), static_cast<int>(k),
           false, false, 0.0f);
    }
  });
}

void hostConv2DBackpropInput(const float* dy, const float* filter, float* dx, const Conv2DShape& s) {
  const int64_t m = s.outH * s.outW, k = s.fH * s.fW * s.inC, image = s.inH * s.inW * s.inC;
  forEachImageGroup(s, imageGroupsOf(s), [&](int64_t b, int64_t, float* cols) {
    if (s.channelsFirst) {
      // dcols[K,M] = filter[K,outC] · dy[outC,M]
      gemm(filter, dy + b * m * s.outC, cols, static_cast<int>(k), static_cast<int>(m), static_cast<int>(s.outC),
           false, false, 0.0f);
      col2imChannelsFirst(cols, dx + b * image, s);
    } else {
      // dcols[M,K] = dy[M,outC] · filterᵀ[outC,K]
      gemm(dy + b * m * s.outC, filter, cols, static_cast<int>(m), static_cast<int>(k), static_cast<int>(s.outC),
           false, true, 0.0f);
      col2im(cols, dx + b * image, s);
    }
  });
}

void hostConv2DBackpropFilter(const float* x, const float* dy, float* dFilter, const Conv2DShape& s) {
  const int64_t m = s.outH * s.outW, k = s.fH * s.fW * s.inC, image = s.inH * s.inW * s.inC;
  const int64_t size = k * s.outC;
  const ImageGroups groups = imageGroupsOf(s);
  // Each group sums its images' products into its own buffer (the first group into dFilter); the buffers are
  // then added in group order.
  std::vector<float> partial(static_cast<size_t>(std::max<int64_t>(0, groups.count - 1) * size));
  std::fill(dFilter, dFilter + size, 0.0f);
  forEachImageGroup(s, groups, [&](int64_t b, int64_t g, float* cols) {
    float* sum = g == 0 ? dFilter : partial.data() + (g - 1) * size;
    const float beta = b == g * groups.size ? 0.0f : 1.0f;
    if (s.channelsFirst) {
      im2colChannelsFirst(x + b * image, cols, s);
      // dFilter[K,outC] += cols[K,M] · dyᵀ[M,outC]
      gemm(cols, dy + b * m * s.outC, sum, static_cast<int>(k), static_cast<int>(s.outC), static_cast<int>(m), false,
           true, beta);
    } else {
      im2col(x + b * image, cols, s);
      // dFilter[K,outC] += colsᵀ[K,M] · dy[M,outC]
      gemm(cols, dy + b * m * s.outC, sum, static_cast<int>(k), static_cast<int>(s.outC), static_cast<int>(m), true,
           false, beta);
    }
  });
  for (int64_t g = 1; g < groups.count; g++) {
    const float* part = partial.data() + (g - 1) * size;
    for (int64_t i = 0; i < size; i++) dFilter[i] += part[i];
  }
}

}  // namespace fulmen

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "parallel.h"
#include "pool.h"
#include "vector_clones.h"

namespace fulmen {

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

// The output columns [begin, end) whose window column fx lies inside the input.
struct ColumnRange {
  int64_t begin, end;
};

ColumnRange columnRange(const Pool2DShape& s, int64_t fx) {
  const int64_t offset = fx - s.padLeft;  // input column yC·strideW + offset
  const int64_t begin = offset >= 0 ? 0 : (-offset + s.strideW - 1) / s.strideW;
  const int64_t last = s.inW - 1 - offset;
  const int64_t end = last < 0 ? 0 : std::min(s.outW, last / s.strideW + 1);
  return {std::min(begin, end), end};
}

// One channel (NCHW layers pool [N·C, H, W, 1]): a window per output pixel is too little work to vectorise
// across channels, so each window pixel updates a whole output row at once. `columns` holds columnRange(s, fx)
// for every fx (its divisions once, not per row).
struct PlaneRows {
  const Pool2DShape& s;
  std::vector<ColumnRange> columns;

  explicit PlaneRows(const Pool2DShape& shape) : s(shape) {
    for (int64_t fx = 0; fx < s.filterW; fx++) columns.push_back(columnRange(s, fx));
  }

  // visit(window-relative position, first output column, offset in the plane of that column's pixel, number of
  // output columns) for every window pixel of output row yR.
  template <typename Visit>
  void forEachWindowPixel(int64_t yR, Visit visit) const {
    const int64_t rCorner = yR * s.strideH - s.padTop;
    for (int64_t xR = std::max<int64_t>(0, rCorner); xR < std::min(s.inH, rCorner + s.filterH); xR++)
      for (int64_t fx = 0; fx < s.filterW; fx++) {
        const ColumnRange& cr = columns[fx];
        if (cr.begin == cr.end) continue;
        const int32_t here = static_cast<int32_t>((xR - rCorner) * s.filterW + fx);
        visit(here, cr.begin, xR * s.inW + cr.begin * s.strideW + fx - s.padLeft, cr.end - cr.begin);
      }
  }
};

// Runs body(i, src[i·stride]) for i < n, with strides 1 and 2 spelled out so that the loads vectorise.
template <typename Body>
inline void stridedLoop(const float* __restrict src, int64_t stride, int64_t n, Body body) {
  if (stride == 1)
    for (int64_t i = 0; i < n; i++) body(i, src[i]);
  else if (stride == 2)
    for (int64_t i = 0; i < n; i++) body(i, src[2 * i]);
  else
    for (int64_t i = 0; i < n; i++) body(i, src[i * stride]);
}

// A window position p is pixel (p / filterW, p % filterW) of the window: the divisions once per position, not
// per element (a division costs tens of cycles).
struct WindowTaps {
  std::vector<int64_t> rowOf, colOf;

  explicit WindowTaps(const Pool2DShape& s)
      : rowOf(static_cast<size_t>(s.filterH * s.filterW)), colOf(rowOf.size()) {
    for (int64_t p = 0; p < static_cast<int64_t>(rowOf.size()); p++) {
      rowOf[p] = p / s.filterW;
      colOf[p] = p % s.filterW;
    }
  }
};

// Output row yR of one plane's max pooling, and with `where` each winner's window-relative position (-1 for
// none). Every output still visits its window's pixels in row-major order and keeps the first strictly greater
// one (NaN never wins), so results match the channels-innermost loops bit for bit.
inline void maxPoolPlaneRow(const float* plane, const PlaneRows& rows, int64_t yR, float* best, int32_t* where) {
  const int64_t width = rows.s.outW;
  std::fill(best, best + width, -std::numeric_limits<float>::infinity());
  if (where != nullptr) std::fill(where, where + width, -1);
  rows.forEachWindowPixel(yR, [&](int32_t here, int64_t first, int64_t offset, int64_t n) {
    float* __restrict row = best + first;
    if (where == nullptr) {
      stridedLoop(plane + offset, rows.s.strideW, n, [&](int64_t i, float v) { row[i] = v > row[i] ? v : row[i]; });
      return;
    }
    int32_t* __restrict winner = where + first;
    // A bit blend for the position: a conditional store would not vectorise.
    stridedLoop(plane + offset, rows.s.strideW, n, [&](int64_t i, float v) {
      const int32_t take = -static_cast<int32_t>(v > row[i]);
      winner[i] = (here & take) | (winner[i] & ~take);
      row[i] = v > row[i] ? v : row[i];
    });
  });
}

FULMEN_VECTOR_CLONES void maxPoolPlanes(const float* x, float* out, const Pool2DShape& s) {
  const PlaneRows rows(s);
  for (int64_t b = 0; b < s.batch; b++)
    for (int64_t yR = 0; yR < s.outH; yR++)
      maxPoolPlaneRow(x + b * s.inH * s.inW, rows, yR, out + (b * s.outH + yR) * s.outW, nullptr);
}

// The gradient of maxPoolPlanes, row by row: each output's dy goes to its window's winner. `sums` (double, one
// per input pixel) takes overlapping windows' terms; null when windows do not overlap and dx (zeroed by the
// caller) takes them as is (a select per window pixel instead measured slower).
FULMEN_VECTOR_CLONES void maxPoolGradPlanes(const float* dy, const float* x, float* dx, double* sums,
                                            const Pool2DShape& s) {
  const PlaneRows rows(s);
  const WindowTaps taps(s);
  std::vector<float> best(static_cast<size_t>(s.outW));
  std::vector<int32_t> where(best.size());
  for (int64_t b = 0; b < s.batch; b++)
    for (int64_t yR = 0; yR < s.outH; yR++) {
      const int64_t plane = b * s.inH * s.inW;
      maxPoolPlaneRow(x + plane, rows, yR, best.data(), where.data());
      const float* grad = dy + (b * s.outH + yR) * s.outW;
      for (int64_t yC = 0; yC < s.outW; yC++) {
        const int32_t p = where[yC];
        if (p < 0) continue;
        const int64_t xR = yR * s.strideH - s.padTop + taps.rowOf[p];
        const int64_t xC = yC * s.strideW - s.padLeft + taps.colOf[p];
        const int64_t in = plane + xR * s.inW + xC;
        if (sums == nullptr) dx[in] = grad[yC];
        else sums[in] += grad[yC];
      }
    }
}

// The number of input pixels under output (yR, yC)'s window (padding not counted).
int64_t windowArea(const Pool2DShape& s, int64_t yR, int64_t yC) {
  const Window w = windowOf(s, yR, yC);
  return (w.rMax - w.rMin) * (w.cMax - w.cMin);
}

// Average pooling of one-channel planes, row by row as maxPoolPlanes; sums in double as the channels-innermost
// loops keep them, in the same order, so the bits match.
FULMEN_VECTOR_CLONES void avgPoolPlanes(const float* x, float* out, const Pool2DShape& s) {
  const PlaneRows rows(s);
  std::vector<double> sums(static_cast<size_t>(s.outW));
  for (int64_t b = 0; b < s.batch; b++)
    for (int64_t yR = 0; yR < s.outH; yR++) {
      std::fill(sums.begin(), sums.end(), 0.0);
      const float* plane = x + b * s.inH * s.inW;
      rows.forEachWindowPixel(yR, [&](int32_t, int64_t first, int64_t offset, int64_t n) {
        double* __restrict row = sums.data() + first;
        stridedLoop(plane + offset, s.strideW, n, [&](int64_t i, float v) { row[i] += v; });
      });
      float* dst = out + (b * s.outH + yR) * s.outW;
      for (int64_t yC = 0; yC < s.outW; yC++)
        dst[yC] = static_cast<float>(sums[yC] / static_cast<double>(windowArea(s, yR, yC)));
    }
}

// The gradient of avgPoolPlanes before its division: each window pixel's plane row gets the window row's dy.
void avgPoolGradPlanes(const float* dy, double* sums, const Pool2DShape& s) {
  const PlaneRows rows(s);
  for (int64_t b = 0; b < s.batch; b++)
    for (int64_t yR = 0; yR < s.outH; yR++) {
      const float* grad = dy + (b * s.outH + yR) * s.outW;
      double* plane = sums + b * s.inH * s.inW;
      rows.forEachWindowPixel(yR, [&](int32_t, int64_t first, int64_t offset, int64_t n) {
        for (int64_t i = 0; i < n; i++) plane[offset + i * s.strideW] += grad[first + i];
      });
    }
}

// The window-relative position (wR·filterW + wC) of the first strictly greatest pixel, -1 when none is greater
// than -∞ (tfjs's maxPoolPositions with dilation 1).
void maxPositions(const float* x, int32_t* positions, const Pool2DShape& s) {
  std::vector<float> best(static_cast<size_t>(s.channels));

  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t yR = 0; yR < s.outH; yR++) {
      for (int64_t yC = 0; yC < s.outW; yC++) {
        const Window w = windowOf(s, yR, yC);
        int32_t* position = positions + ((b * s.outH + yR) * s.outW + yC) * s.channels;
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        std::fill(position, position + s.channels, -1);
        // Window pixels in row-major order, all channels at once: the first strictly greater pixel wins.
        for (int64_t xR = w.rMin; xR < w.rMax; xR++) {
          for (int64_t xC = w.cMin; xC < w.cMax; xC++) {
            const float* src = x + ((b * s.inH + xR) * s.inW + xC) * s.channels;
            const int32_t here = static_cast<int32_t>((xR - w.rCorner) * s.filterW + (xC - w.cCorner));
            // Selects on separate arrays (__restrict: they never overlap) and a bit blend for the index, so the
            // loop vectorises (a conditional store would not).
            float* __restrict row = best.data();
            int32_t* __restrict where = position;
            const float* __restrict in = src;
            for (int64_t d = 0; d < s.channels; d++) {
              const int32_t take = -static_cast<int32_t>(in[d] > row[d]);  // all ones or zero
              row[d] = in[d] > row[d] ? in[d] : row[d];
              where[d] = (here & take) | (where[d] & ~take);
            }
          }
        }
      }
    }
  }
}

}  // namespace

namespace {
// Planes are independent: chunks of them go to the engine's threads once a chunk holds enough pixels to outlast
// waking one (each plane's result is the same whichever thread computes it).
constexpr int64_t kPlaneChunkPixels = 131072;

// fn(first plane, the shape of planes [first, end)) over chunks of s's planes.
template <typename Fn>
void forPlaneChunks(const Pool2DShape& s, Fn fn) {
  const int64_t pixels = std::max<int64_t>(1, s.inH * s.inW);
  parallelFor(s.batch, std::max<int64_t>(1, kPlaneChunkPixels / pixels), [&](int64_t begin, int64_t end) {
    Pool2DShape part = s;
    part.batch = end - begin;
    fn(begin, part);
  });
}
}  // namespace

void hostMaxPool(const float* x, float* out, const Pool2DShape& s) {
  if (s.channels == 1)
    return forPlaneChunks(s, [&](int64_t first, const Pool2DShape& part) {
      maxPoolPlanes(x + first * s.inH * s.inW, out + first * s.outH * s.outW, part);
    });
  // Channels are innermost: each window pixel updates a row of per-channel maxima (a select, which vectorises;
  // NaN never wins, as in tfjs, whose running maximum starts at -∞ and takes only strictly greater pixels).
  std::vector<float> best(static_cast<size_t>(s.channels));
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t yR = 0; yR < s.outH; yR++) {
      for (int64_t yC = 0; yC < s.outW; yC++) {
        const Window w = windowOf(s, yR, yC);
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        float* row = best.data();
        for (int64_t xR = w.rMin; xR < w.rMax; xR++) {
          for (int64_t xC = w.cMin; xC < w.cMax; xC++) {
            const float* src = x + ((b * s.inH + xR) * s.inW + xC) * s.channels;
            for (int64_t d = 0; d < s.channels; d++) row[d] = src[d] > row[d] ? src[d] : row[d];
          }
        }
        std::copy(best.begin(), best.end(), out + ((b * s.outH + yR) * s.outW + yC) * s.channels);
      }
    }
  }
}

// Each output cell's gradient goes to the input pixel that won its window (tfjs's maxPoolBackprop, which gathers
// the same terms per input pixel). Sums are kept in double and rounded once, as tfjs does; a few float32 terms
// add exactly in double, so the order of overlapping windows does not change the result.
void hostMaxPoolGrad(const float* dy, const float* x, float* dx, const Pool2DShape& s) {
  const size_t inputs = static_cast<size_t>(s.batch * s.inH * s.inW * s.channels);
  // Windows that do not overlap give each pixel one term at most, stored as is; overlapping ones sum in double.
  const bool overlapping = s.strideH < s.filterH || s.strideW < s.filterW;
  std::vector<double> sums(overlapping ? inputs : 0, 0.0);
  if (s.channels == 1) {
    forPlaneChunks(s, [&](int64_t first, const Pool2DShape& part) {
      const int64_t in = first * s.inH * s.inW;
      if (!overlapping) std::fill(dx + in, dx + in + part.batch * s.inH * s.inW, 0.0f);
      maxPoolGradPlanes(dy + first * s.outH * s.outW, x + in, dx + in, overlapping ? sums.data() + in : nullptr, part);
    });
  } else {
    if (!overlapping) std::fill(dx, dx + inputs, 0.0f);
    std::vector<int32_t> positions(static_cast<size_t>(s.batch * s.outH * s.outW * s.channels));
    maxPositions(x, positions.data(), s);
    const WindowTaps taps(s);
    for (int64_t b = 0; b < s.batch; b++)
      for (int64_t yR = 0; yR < s.outH; yR++)
        for (int64_t yC = 0; yC < s.outW; yC++) {
          const Window w = windowOf(s, yR, yC);
          const int64_t cell = ((b * s.outH + yR) * s.outW + yC) * s.channels;
          for (int64_t d = 0; d < s.channels; d++) {
            const int32_t p = positions[cell + d];
            if (p < 0) continue;
            const int64_t xR = w.rCorner + taps.rowOf[p], xC = w.cCorner + taps.colOf[p];
            const int64_t in = ((b * s.inH + xR) * s.inW + xC) * s.channels + d;
            if (overlapping) sums[in] += dy[cell + d];
            else dx[in] = dy[cell + d];
          }
        }
  }
  if (overlapping)
    for (size_t i = 0; i < inputs; i++) dx[i] = static_cast<float>(sums[i]);
}

void hostAvgPool(const float* x, float* out, const Pool2DShape& s) {
  if (s.channels == 1)
    return forPlaneChunks(s, [&](int64_t first, const Pool2DShape& part) {
      avgPoolPlanes(x + first * s.inH * s.inW, out + first * s.outH * s.outW, part);
    });
  std::vector<double> sums(static_cast<size_t>(s.channels));
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t yR = 0; yR < s.outH; yR++) {
      for (int64_t yC = 0; yC < s.outW; yC++) {
        const Window w = windowOf(s, yR, yC);
        std::fill(sums.begin(), sums.end(), 0.0);
        for (int64_t xR = w.rMin; xR < w.rMax; xR++)
          for (int64_t xC = w.cMin; xC < w.cMax; xC++) {
            const float* src = x + ((b * s.inH + xR) * s.inW + xC) * s.channels;
            for (int64_t d = 0; d < s.channels; d++) sums[d] += src[d];
          }
        const double count = static_cast<double>((w.rMax - w.rMin) * (w.cMax - w.cMin));
        float* dst = out + ((b * s.outH + yR) * s.outW + yC) * s.channels;
        for (int64_t d = 0; d < s.channels; d++) dst[d] = static_cast<float>(sums[d] / count);
      }
    }
  }
}

void hostAvgPoolGrad(const float* dy, float* dx, const Pool2DShape& s) {
  // Sums in double, rounded once after the multiply, as tfjs; a few float32 terms add exactly in double, so
  // scattering window by window gives what tfjs's per-pixel gathering gives.
  std::vector<double> sums(static_cast<size_t>(s.batch * s.inH * s.inW * s.channels), 0.0);
  if (s.channels == 1) {
    forPlaneChunks(s, [&](int64_t first, const Pool2DShape& part) {
      avgPoolGradPlanes(dy + first * s.outH * s.outW, sums.data() + first * s.inH * s.inW, part);
    });
  } else {
    for (int64_t b = 0; b < s.batch; b++)
      for (int64_t yR = 0; yR < s.outH; yR++)
        for (int64_t yC = 0; yC < s.outW; yC++) {
          const Window w = windowOf(s, yR, yC);
          const float* grad = dy + ((b * s.outH + yR) * s.outW + yC) * s.channels;
          for (int64_t xR = w.rMin; xR < w.rMax; xR++)
            for (int64_t xC = w.cMin; xC < w.cMax; xC++) {
              double* dst = sums.data() + ((b * s.inH + xR) * s.inW + xC) * s.channels;
              for (int64_t d = 0; d < s.channels; d++) dst[d] += grad[d];
            }
        }
  }
  const double multiplier = 1.0 / static_cast<double>(s.filterH * s.filterW);
  for (size_t i = 0; i < sums.size(); i++) dx[i] = static_cast<float>(sums[i] * multiplier);
}

}  // namespace fulmen

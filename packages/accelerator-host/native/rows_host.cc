#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "parallel.h"
#include "rows.h"
#include "vector_clones.h"
#include "vector_exp.h"

namespace fulmen {

namespace {

// One row's maximum (NaN wins, as in tfjs) and its exponentials, shifted by it.
inline float maxAndExps(const float* in, float* o, int64_t cols) {
  float max = in[0];
  for (int64_t c = 1; c < cols; c++)
    if (std::isnan(in[c]) || in[c] > max) max = in[c];
  for (int64_t c = 0; c < cols; c++) {
    const float shifted = static_cast<float>(static_cast<double>(in[c]) - max);
    o[c] = static_cast<float>(expForFloat(static_cast<double>(shifted)));
  }
  return max;
}

inline void divideRow(float* o, int64_t cols, double sum) {
  const double total = static_cast<float>(sum);
  for (int64_t c = 0; c < cols; c++) o[c] = static_cast<float>(o[c] / total);
}

}  // namespace

// Each row's exponentials are summed in order, as tfjs adds them; eight rows side by side keep eight independent
// chains of additions in flight instead of one.
static FULMEN_VECTOR_CLONES void softmaxRows(const float* x, float* out, int64_t rows, int64_t cols) {
  constexpr int64_t kRows = 8;
  int64_t r = 0;
  for (; r + kRows <= rows; r += kRows) {
    for (int64_t j = 0; j < kRows; j++) maxAndExps(x + (r + j) * cols, out + (r + j) * cols, cols);
    double sums[kRows] = {};
    const float* block = out + r * cols;
    for (int64_t c = 0; c < cols; c++)
      for (int64_t j = 0; j < kRows; j++) sums[j] += block[j * cols + c];
    for (int64_t j = 0; j < kRows; j++) divideRow(out + (r + j) * cols, cols, sums[j]);
  }
  for (; r < rows; r++) {
    float* o = out + r * cols;
    maxAndExps(x + r * cols, o, cols);
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) sum += o[c];
    divideRow(o, cols, sum);
  }
}

void hostSoftmax(const float* x, float* out, int64_t rows, int64_t cols) {
  parallelFor(rows, std::max<int64_t>(8, 65536 / std::max<int64_t>(1, cols)), [&](int64_t begin, int64_t end) {
    softmaxRows(x + begin * cols, out + begin * cols, end - begin, cols);
  });
}

void hostUnsortedSegmentSum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                            int64_t numSegments) {
  std::vector<double> acc(static_cast<size_t>(numSegments * inner), 0.0);
  for (int64_t i = 0; i < n; i++) {
    const int64_t segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    double* dst = acc.data() + segment * inner;
    const float* src = x + i * inner;
    for (int64_t k = 0; k < inner; k++) dst[k] += src[k];
  }
  for (size_t k = 0; k < acc.size(); k++) out[k] = static_cast<float>(acc[k]);
}

void hostCopySlabs(const uint32_t* src, int64_t srcStart, int64_t srcRow, uint32_t* dst, int64_t dstStart,
                   int64_t dstRow, int64_t rows, int64_t slab) {
  if (slab == 0) return;
  for (int64_t r = 0; r < rows; r++)
    std::memcpy(dst + dstStart + r * dstRow, src + srcStart + r * srcRow, static_cast<size_t>(slab) * sizeof(uint32_t));
}

}  // namespace fulmen

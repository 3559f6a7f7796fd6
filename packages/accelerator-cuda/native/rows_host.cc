#include <cmath>
#include <vector>

#include "rows.h"
#include "vector_clones.h"
#include "vector_exp.h"

namespace fulmen {

FULMEN_VECTOR_CLONES void hostSoftmax(const float* x, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* in = x + r * cols;
    float* o = out + r * cols;
    float max = in[0];
    for (int64_t c = 1; c < cols; c++)
      if (std::isnan(in[c]) || in[c] > max) max = in[c];
    // The exponentials first (a loop that vectorises), then their sum in order, as tfjs adds them.
    for (int64_t c = 0; c < cols; c++) {
      const float shifted = static_cast<float>(static_cast<double>(in[c]) - max);
      o[c] = static_cast<float>(expForFloat(static_cast<double>(shifted)));
    }
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) sum += o[c];
    const double total = static_cast<float>(sum);
    for (int64_t c = 0; c < cols; c++) o[c] = static_cast<float>(o[c] / total);
  }
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

}  // namespace fulmen

#include <cmath>
#include <cstdint>

#include "optimizer.h"

namespace fulmen {

namespace {
inline float f32(double x) { return static_cast<float>(x); }
}  // namespace

void hostAdamUpdate(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                    const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut,
                    size_t n, const AdamStep& h) {
  // The scalars as tfjs holds them: float32 tensors made from JavaScript doubles. Float arithmetic from here on
  // equals tfjs's "double, then round to float32" for + − × ÷ and sqrt (53 ≥ 2·24 + 2 bits, so rounding twice is
  // exact), and is what lets the loop vectorise; -ffp-contract=off keeps the compiler from fusing into FMAs. (One
  // thread: OpenMP's spinning workers next to OpenBLAS's threads made whole steps slower on 2 cores.)
  const float shrink = f32(1 - h.lr * h.weightDecay), decay = f32(h.weightDecay);
  const float beta1 = f32(h.beta1), oneMinusBeta1 = f32(1 - h.beta1);
  const float beta2 = f32(h.beta2), oneMinusBeta2 = f32(1 - h.beta2);
  const float bc2 = f32(h.biasCorrection2Sqrt), eps = f32(h.eps), stepSize = f32(h.stepSize);
  const bool decay2 = h.weightDecay != 0;
  const int64_t count = static_cast<int64_t>(n);
  for (int64_t i = 0; i < count; i++) {
    float g = h.maximize ? -grad[i] : grad[i];
    float value = param[i];
    if (decay2) {
      if (h.decoupled) value = value * shrink;
      else g = g + value * decay;
    }
    const float m = expAvgPrev[i] * beta1 + g * oneMinusBeta1;
    const float s = expAvgSqPrev[i] * beta2 + (g * g) * oneMinusBeta2;
    float second = s;
    if (h.amsgrad) {
      const float prev = maxPrev[i];
      second = (std::isnan(prev) || std::isnan(s)) ? NAN : (prev > s ? prev : s);
      maxOut[i] = second;
    }
    const float denom = std::sqrt(second) / bc2 + eps;
    expAvgOut[i] = m;
    expAvgSqOut[i] = s;
    paramOut[i] = value - (m / denom) * stepSize;
  }
}

void hostSgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut, float* bufferOut,
                   size_t n, const SgdStep& h) {
  const float decay = f32(h.weightDecay), momentum = f32(h.momentum), keep = f32(1 - h.dampening), lr = f32(h.lr);
  const bool useMomentum = h.momentum != 0, useDecay = h.weightDecay != 0;
  for (size_t i = 0; i < n; i++) {
    float d = h.maximize ? -grad[i] : grad[i];
    if (useDecay) d = d + param[i] * decay;
    if (useMomentum) {
      const float buf = h.hasBuffer ? bufferPrev[i] * momentum + d * keep : d;
      bufferOut[i] = buf;
      d = h.nesterov ? d + buf * momentum : buf;
    }
    paramOut[i] = param[i] - d * lr;
  }
}

}  // namespace fulmen

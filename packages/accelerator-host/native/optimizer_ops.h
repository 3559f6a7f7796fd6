// One element of each fused optimizer update, for the host build's loops and the GPU build's threads alike.
// Every step rounds to float32 where tfjs's op-by-op update rounds (its scalars are float32 tensors, its math
// double then stored as float32, which for + − × ÷ and √ equals float arithmetic), so both builds give the
// op-by-op update's bits. The option flags are template arguments on the host (each combination its own
// branch-free loop, which vectorises) and run-time values on the GPU (uniform across a warp).
#pragma once

#include <math.h>

#include <cstdint>

#include "device.h"
#include "optimizer.h"

namespace fulmen {

/** Adam's scalars as tfjs holds them: float32 tensors made from JavaScript doubles. */
struct AdamScalars {
  float shrink, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, bc2, eps, stepSize;
};

FULMEN_HD inline AdamScalars adamScalarsOf(const AdamStep& h) {
  return {static_cast<float>(1 - h.lr * h.weightDecay), static_cast<float>(h.weightDecay), static_cast<float>(h.beta1),
          static_cast<float>(1 - h.beta1), static_cast<float>(h.beta2), static_cast<float>(1 - h.beta2),
          static_cast<float>(h.biasCorrection2Sqrt), static_cast<float>(h.eps), static_cast<float>(h.stepSize)};
}

/** Adam / AdamW at element i: the new parameter and moments (and the running maximum with amsgrad). */
// Always inlined: each host loop must see the constant flags to drop their branches and vectorise. No
// __restrict here: the loops' own parameters carry it (restrict pointers inlined a second time stop GCC's
// vectoriser).
FULMEN_HD FULMEN_ALWAYS_INLINE void adamElement(bool maximize, bool decay, bool decoupled, bool amsgrad, int64_t i,
                                  const float* param, const float* grad,
                                  const float* expAvgPrev, const float* expAvgSqPrev,
                                  const float* maxPrev, float* paramOut,
                                  float* expAvgOut, float* expAvgSqOut,
                                  float* maxOut, const AdamScalars& k) {
  float g = maximize ? -grad[i] : grad[i];
  float value = param[i];
  if (decay) {
    if (decoupled) value = value * k.shrink;
    else g = g + value * k.decay;
  }
  const float m = expAvgPrev[i] * k.beta1 + g * k.oneMinusBeta1;
  const float s = expAvgSqPrev[i] * k.beta2 + (g * g) * k.oneMinusBeta2;
  float second = s;
  if (amsgrad) {
    const float prev = maxPrev[i];
    second = (prev != prev || s != s) ? NAN : (prev > s ? prev : s);
    maxOut[i] = second;
  }
  const float denom = sqrtf(second) / k.bc2 + k.eps;
  expAvgOut[i] = m;
  expAvgSqOut[i] = s;
  paramOut[i] = value - (m / denom) * k.stepSize;
}

/** SGD at element i: the new parameter, and the momentum buffer when momentum is on. */
FULMEN_HD FULMEN_ALWAYS_INLINE void sgdElement(int64_t i, const float* param, const float* grad, const float* bufferPrev,
                                 float* paramOut, float* bufferOut, const SgdStep& h) {
  const float decay = static_cast<float>(h.weightDecay), momentum = static_cast<float>(h.momentum);
  const float keep = static_cast<float>(1 - h.dampening), lr = static_cast<float>(h.lr);
  float d = h.maximize ? -grad[i] : grad[i];
  if (h.weightDecay != 0) d = d + param[i] * decay;
  if (h.momentum != 0) {
    const float buf = h.hasBuffer ? bufferPrev[i] * momentum + d * keep : d;
    bufferOut[i] = buf;
    d = h.nesterov ? d + buf * momentum : buf;
  }
  paramOut[i] = param[i] - d * lr;
}

struct RmspropScalars {
  float decay, alpha, oneMinusAlpha, eps, momentum, lr;
};

FULMEN_HD inline RmspropScalars rmspropScalarsOf(const RmspropStep& h) {
  return {static_cast<float>(h.weightDecay), static_cast<float>(h.alpha), static_cast<float>(1 - h.alpha),
          static_cast<float>(h.eps),         static_cast<float>(h.momentum), static_cast<float>(h.lr)};
}

/**
 * RMSprop at element i, the op-by-op update: g (negated, plus param·decay), squareAvg = prev·α + g²·(1-α), the
 * centered variant's gradAvg and √(squareAvg - gradAvg²), + eps, then momentum or the plain step.
 */
FULMEN_HD FULMEN_ALWAYS_INLINE void rmspropElement(bool maximize, bool decay, bool centered, bool momentum, int64_t i,
                                     const float* param, const float* grad,
                                     const float* squareAvgPrev, const float* gradAvgPrev,
                                     const float* bufferPrev, float* paramOut,
                                     float* squareAvgOut, float* gradAvgOut,
                                     float* bufferOut, const RmspropScalars& k) {
  float g = maximize ? -grad[i] : grad[i];
  if (decay) g = g + param[i] * k.decay;
  const float squareAvg = squareAvgPrev[i] * k.alpha + (g * g) * k.oneMinusAlpha;
  squareAvgOut[i] = squareAvg;
  float avg;
  if (centered) {
    const float gradAvg = gradAvgPrev[i] * k.alpha + g * k.oneMinusAlpha;
    gradAvgOut[i] = gradAvg;
    avg = sqrtf(squareAvg - gradAvg * gradAvg);
  } else {
    avg = sqrtf(squareAvg);
  }
  avg = avg + k.eps;
  if (momentum) {
    const float buf = bufferPrev[i] * k.momentum + g / avg;
    bufferOut[i] = buf;
    paramOut[i] = param[i] - buf * k.lr;
  } else {
    paramOut[i] = param[i] - (g / avg) * k.lr;
  }
}

/** Adagrad at element i: sum = prev + g², then param - (g / (√sum + eps))·clr. */
FULMEN_HD FULMEN_ALWAYS_INLINE void adagradElement(bool maximize, bool decay, int64_t i, const float* param,
                                     const float* grad, const float* sumPrev,
                                     float* paramOut, float* sumOut, float decayValue, float eps,
                                     float clr) {
  float g = maximize ? -grad[i] : grad[i];
  if (decay) g = g + param[i] * decayValue;
  const float sum = sumPrev[i] + g * g;
  sumOut[i] = sum;
  const float std = sqrtf(sum) + eps;
  paramOut[i] = param[i] - (g / std) * clr;
}

}  // namespace fulmen

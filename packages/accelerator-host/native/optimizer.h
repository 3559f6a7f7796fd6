// Fused optimizer updates: one pass over a parameter where tfjs runs a dozen element-wise kernels. Each step
// rounds to float32 exactly where those kernels do (their math is double, their storage float32, and scalar
// hyperparameters become float32 tensors), so the result is bit-identical to the op-by-op update.
#pragma once

#include <cstddef>

namespace fulmen {

struct AdamStep {
  double lr, beta1, beta2, eps, weightDecay, stepSize, biasCorrection2Sqrt;
  bool decoupled, amsgrad, maximize;
};

/** From JavaScript's hyperparameter list [lr, beta1, beta2, eps, weightDecay, stepSize, bc2Sqrt, decoupled, amsgrad, maximize]. */
inline AdamStep adamStepOf(const double* v) {
  return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] != 0, v[8] != 0, v[9] != 0};
}

/** Adam / AdamW (core's AdamBase): writes the new parameter and moments; `maxPrev`/`maxOut` only with amsgrad. */
void hostAdamUpdate(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                    const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut,
                    size_t n, const AdamStep& h);

struct SgdStep {
  double lr, momentum, dampening, weightDecay;
  bool nesterov, maximize, hasBuffer;
};

/** From [lr, momentum, dampening, weightDecay, nesterov, maximize, hasBuffer]. */
inline SgdStep sgdStepOf(const double* v) { return {v[0], v[1], v[2], v[3], v[4] != 0, v[5] != 0, v[6] != 0}; }

/** SGD (core's SGD): writes the new parameter, and the momentum buffer when momentum is on. */
void hostSgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut, float* bufferOut,
                   size_t n, const SgdStep& h);

struct RmspropStep {
  double lr, alpha, eps, weightDecay, momentum;
  bool centered, maximize;
};

/** From [lr, alpha, eps, weightDecay, momentum, centered, maximize]. */
inline RmspropStep rmspropStepOf(const double* v) { return {v[0], v[1], v[2], v[3], v[4], v[5] != 0, v[6] != 0}; }

/**
 * RMSprop (core's RMSprop): writes the new parameter and square average, the gradient average when centered and
 * the momentum buffer when momentum > 0 (the corresponding inputs and outputs are null otherwise).
 */
void hostRmspropUpdate(const float* param, const float* grad, const float* squareAvgPrev, const float* gradAvgPrev,
                       const float* bufferPrev, float* paramOut, float* squareAvgOut, float* gradAvgOut,
                       float* bufferOut, size_t n, const RmspropStep& h);

struct AdagradStep {
  double clr, eps, weightDecay;
  bool maximize;
};

/** From [clr, eps, weightDecay, maximize]. */
inline AdagradStep adagradStepOf(const double* v) { return {v[0], v[1], v[2], v[3] != 0}; }

/** Adagrad (core's Adagrad) with the step's decayed learning rate `clr`: writes the new parameter and sum. */
void hostAdagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut, float* sumOut,
                       size_t n, const AdagradStep& h);

}  // namespace fulmen

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

/** Adam / AdamW (core's AdamBase): writes the new parameter and moments; `maxPrev`/`maxOut` only with amsgrad. */
void hostAdamUpdate(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                    const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut,
                    size_t n, const AdamStep& h);

struct SgdStep {
  double lr, momentum, dampening, weightDecay;
  bool nesterov, maximize, hasBuffer;
};

/** SGD (core's SGD): writes the new parameter, and the momentum buffer when momentum is on. */
void hostSgdUpdate(const float* param, const float* grad, const float* bufferPrev, float* paramOut, float* bufferOut,
                   size_t n, const SgdStep& h);

struct RmspropStep {
  double lr, alpha, eps, weightDecay, momentum;
  bool centered, maximize;
};

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

/** Adagrad (core's Adagrad) with the step's decayed learning rate `clr`: writes the new parameter and sum. */
void hostAdagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut, float* sumOut,
                       size_t n, const AdagradStep& h);

}  // namespace fulmen

#include <cmath>
#include <cstdint>

#include "optimizer.h"
#include "optimizer_ops.h"
#include "parallel.h"
#include "vector_clones.h"

namespace fulmen {

namespace {
inline float f32(double x) { return static_cast<float>(x); }

// One loop per combination of options, so that no branch is left inside; the outputs are fresh arrays, never
// the inputs (__restrict: with nine arrays the compiler would otherwise give up on checking overlaps at run
// time, and not vectorise). -ffp-contract=off keeps the compiler from fusing into FMAs.
template <bool Maximize, bool Decay, bool Decoupled, bool Amsgrad>
FULMEN_ALWAYS_INLINE void adamLoop(const float* __restrict param, const float* __restrict grad, const float* __restrict expAvgPrev,
              const float* __restrict expAvgSqPrev, const float* __restrict maxPrev, float* __restrict paramOut,
              float* __restrict expAvgOut, float* __restrict expAvgSqOut, float* __restrict maxOut, int64_t count,
              const AdamScalars k) {
  for (int64_t i = 0; i < count; i++)
    adamElement(Maximize, Decay, Decoupled, Amsgrad, i, param, grad, expAvgPrev, expAvgSqPrev, maxPrev, paramOut,
                expAvgOut, expAvgSqOut, maxOut, k);
}

template <bool Maximize, bool Decay, bool Decoupled>
FULMEN_ALWAYS_INLINE void adamLoopAms(bool amsgrad, const float* param, const float* grad, const float* expAvgPrev,
                 const float* expAvgSqPrev, const float* maxPrev, float* paramOut, float* expAvgOut,
                 float* expAvgSqOut, float* maxOut, int64_t count, const AdamScalars& k) {
  if (amsgrad)
    adamLoop<Maximize, Decay, Decoupled, true>(param, grad, expAvgPrev, expAvgSqPrev, maxPrev, paramOut, expAvgOut,
                                               expAvgSqOut, maxOut, count, k);
  else
    adamLoop<Maximize, Decay, Decoupled, false>(param, grad, expAvgPrev, expAvgSqPrev, maxPrev, paramOut, expAvgOut,
                                                expAvgSqOut, maxOut, count, k);
}
}  // namespace

static FULMEN_VECTOR_CLONES void adamChunk(const float* param, const float* grad, const float* expAvgPrev,
                                           const float* expAvgSqPrev, const float* maxPrev, float* paramOut,
                                           float* expAvgOut, float* expAvgSqOut, float* maxOut, size_t n,
                                           const AdamStep& h) {
  const AdamScalars k = adamScalarsOf(h);
  const int64_t count = static_cast<int64_t>(n);
  const bool decay = h.weightDecay != 0;
#define FULMEN_ADAM(MAX, DECAY, DECOUPLED)                                                                \
  adamLoopAms<MAX, DECAY, DECOUPLED>(h.amsgrad, param, grad, expAvgPrev, expAvgSqPrev, maxPrev, paramOut, \
                                     expAvgOut, expAvgSqOut, maxOut, count, k)
  if (h.maximize) {
    if (!decay) FULMEN_ADAM(true, false, false);
    else if (h.decoupled) FULMEN_ADAM(true, true, true);
    else FULMEN_ADAM(true, true, false);
  } else {
    if (!decay) FULMEN_ADAM(false, false, false);
    else if (h.decoupled) FULMEN_ADAM(false, true, true);
    else FULMEN_ADAM(false, true, false);
  }
#undef FULMEN_ADAM
}

void hostAdamUpdate(const float* param, const float* grad, const float* expAvgPrev, const float* expAvgSqPrev,
                    const float* maxPrev, float* paramOut, float* expAvgOut, float* expAvgSqOut, float* maxOut,
                    size_t n, const AdamStep& h) {
  // Every element is updated on its own: chunks on several threads give the same bits as one pass.
  parallelFor(static_cast<int64_t>(n), 131072, [&](int64_t b, int64_t e) {
    adamChunk(param + b, grad + b, expAvgPrev + b, expAvgSqPrev + b, maxPrev == nullptr ? nullptr : maxPrev + b,
              paramOut + b, expAvgOut + b, expAvgSqOut + b, maxOut == nullptr ? nullptr : maxOut + b,
              static_cast<size_t>(e - b), h);
  });
}

FULMEN_VECTOR_CLONES void hostSgdUpdate(const float* param, const float* grad, const float* bufferPrev,
                                        float* paramOut, float* bufferOut, size_t n, const SgdStep& h) {
  for (size_t i = 0; i < n; i++) sgdElement(static_cast<int64_t>(i), param, grad, bufferPrev, paramOut, bufferOut, h);
}

namespace {

template <bool Maximize, bool Decay, bool Centered, bool Momentum>
void rmspropLoop(const float* __restrict param, const float* __restrict grad, const float* __restrict squareAvgPrev,
                 const float* __restrict gradAvgPrev, const float* __restrict bufferPrev, float* __restrict paramOut,
                 float* __restrict squareAvgOut, float* __restrict gradAvgOut, float* __restrict bufferOut,
                 int64_t count, const RmspropScalars k) {
  for (int64_t i = 0; i < count; i++)
    rmspropElement(Maximize, Decay, Centered, Momentum, i, param, grad, squareAvgPrev, gradAvgPrev, bufferPrev,
                   paramOut, squareAvgOut, gradAvgOut, bufferOut, k);
}

template <bool Maximize, bool Decay>
void rmspropDispatch(bool centered, bool momentum, const float* param, const float* grad, const float* squareAvgPrev,
                     const float* gradAvgPrev, const float* bufferPrev, float* paramOut, float* squareAvgOut,
                     float* gradAvgOut, float* bufferOut, int64_t count, const RmspropScalars& k) {
#define FULMEN_RMSPROP(CENTERED, MOMENTUM)                                                                 \
  rmspropLoop<Maximize, Decay, CENTERED, MOMENTUM>(param, grad, squareAvgPrev, gradAvgPrev, bufferPrev, paramOut, \
                                                   squareAvgOut, gradAvgOut, bufferOut, count, k)
  if (centered) {
    if (momentum) FULMEN_RMSPROP(true, true);
    else FULMEN_RMSPROP(true, false);
  } else {
    if (momentum) FULMEN_RMSPROP(false, true);
    else FULMEN_RMSPROP(false, false);
  }
#undef FULMEN_RMSPROP
}

FULMEN_VECTOR_CLONES void rmspropChunk(const float* param, const float* grad, const float* squareAvgPrev,
                                       const float* gradAvgPrev, const float* bufferPrev, float* paramOut,
                                       float* squareAvgOut, float* gradAvgOut, float* bufferOut, int64_t count,
                                       const RmspropStep& h) {
  const RmspropScalars k = rmspropScalarsOf(h);
  const bool decay = h.weightDecay != 0, momentum = h.momentum > 0;
  if (h.maximize) {
    if (decay)
      rmspropDispatch<true, true>(h.centered, momentum, param, grad, squareAvgPrev, gradAvgPrev, bufferPrev, paramOut,
                                  squareAvgOut, gradAvgOut, bufferOut, count, k);
    else
      rmspropDispatch<true, false>(h.centered, momentum, param, grad, squareAvgPrev, gradAvgPrev, bufferPrev, paramOut,
                                   squareAvgOut, gradAvgOut, bufferOut, count, k);
  } else {
    if (decay)
      rmspropDispatch<false, true>(h.centered, momentum, param, grad, squareAvgPrev, gradAvgPrev, bufferPrev, paramOut,
                                   squareAvgOut, gradAvgOut, bufferOut, count, k);
    else
      rmspropDispatch<false, false>(h.centered, momentum, param, grad, squareAvgPrev, gradAvgPrev, bufferPrev,
                                    paramOut, squareAvgOut, gradAvgOut, bufferOut, count, k);
  }
}

template <bool Maximize, bool Decay>
void adagradLoop(const float* __restrict param, const float* __restrict grad, const float* __restrict sumPrev,
                 float* __restrict paramOut, float* __restrict sumOut, int64_t count, float decay, float eps,
                 float clr) {
  for (int64_t i = 0; i < count; i++)
    adagradElement(Maximize, Decay, i, param, grad, sumPrev, paramOut, sumOut, decay, eps, clr);
}

FULMEN_VECTOR_CLONES void adagradChunk(const float* param, const float* grad, const float* sumPrev, float* paramOut,
                                       float* sumOut, int64_t count, const AdagradStep& h) {
  const float decay = f32(h.weightDecay), eps = f32(h.eps), clr = f32(h.clr);
  const bool useDecay = h.weightDecay != 0;
  if (h.maximize) {
    if (useDecay) adagradLoop<true, true>(param, grad, sumPrev, paramOut, sumOut, count, decay, eps, clr);
    else adagradLoop<true, false>(param, grad, sumPrev, paramOut, sumOut, count, decay, eps, clr);
  } else {
    if (useDecay) adagradLoop<false, true>(param, grad, sumPrev, paramOut, sumOut, count, decay, eps, clr);
    else adagradLoop<false, false>(param, grad, sumPrev, paramOut, sumOut, count, decay, eps, clr);
  }
}

template <typename T>
inline T* shifted(T* p, int64_t by) {
  return p == nullptr ? nullptr : p + by;
}

}  // namespace

void hostRmspropUpdate(const float* param, const float* grad, const float* squareAvgPrev, const float* gradAvgPrev,
                       const float* bufferPrev, float* paramOut, float* squareAvgOut, float* gradAvgOut,
                       float* bufferOut, size_t n, const RmspropStep& h) {
  parallelFor(static_cast<int64_t>(n), 131072, [&](int64_t b, int64_t e) {
    rmspropChunk(param + b, grad + b, squareAvgPrev + b, shifted(gradAvgPrev, b), shifted(bufferPrev, b),
                 paramOut + b, squareAvgOut + b, shifted(gradAvgOut, b), shifted(bufferOut, b), e - b, h);
  });
}

void hostAdagradUpdate(const float* param, const float* grad, const float* sumPrev, float* paramOut, float* sumOut,
                       size_t n, const AdagradStep& h) {
  parallelFor(static_cast<int64_t>(n), 131072, [&](int64_t b, int64_t e) {
    adagradChunk(param + b, grad + b, sumPrev + b, paramOut + b, sumOut + b, e - b, h);
  });
}

}  // namespace fulmen

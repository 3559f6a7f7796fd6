// Per-element data operations of the device engine (casts, fills, one-hot, selection, clipping, relu's step),
// shared by its host-memory build and its GPU kernels so that both follow tfjs's rules in one place.
#pragma once

#include <cmath>
#include <cstdint>

#include "device.h"

namespace fulmen {

/** The element types device tensors are stored in (tfjs's float32, int32 and bool). */
enum class ElementType : int32_t { Float32 = 0, Int32 = 1, Bool = 2 };

/** Reductions over one contiguous block of axes. */
enum class ReduceKind : int32_t { Sum = 0, Mean = 1, Max = 2, Min = 3 };

/** JavaScript's ToInt32, what storing into an Int32Array does: truncation, NaN and ±∞ to 0, wrapping mod 2³². */
FULMEN_HD inline int32_t toInt32(double v) {
  if (!(v == v) || v == INFINITY || v == -INFINITY) return 0;
  double m = fmod(trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

/** Element `i` of `x` (of type `from`) as a double. */
FULMEN_HD inline double loadAsDouble(const void* x, ElementType from, int64_t i) {
  if (from == ElementType::Float32) return static_cast<const float*>(x)[i];
  if (from == ElementType::Int32) return static_cast<const int32_t*>(x)[i];
  return static_cast<const uint8_t*>(x)[i];
}

/** Stores `v` as element `i` of `out` (of type `to`) with tfjs's conversion: bool is v ≠ 0 (NaN is true). */
FULMEN_HD inline void storeConverted(void* out, ElementType to, int64_t i, double v) {
  if (to == ElementType::Float32)
    static_cast<float*>(out)[i] = static_cast<float>(v);
  else if (to == ElementType::Int32)
    static_cast<int32_t*>(out)[i] = toInt32(v);
  else
    static_cast<uint8_t*>(out)[i] = v != 0 ? 1 : 0;
}

/** tfjs's Step: 1 above zero, alpha otherwise, NaN stays NaN. */
FULMEN_HD inline float stepValue(float x, float alpha) { return x != x ? NAN : (x > 0 ? 1.0f : alpha); }

/** tfjs's ClipByValue: compared as doubles, the chosen bound stored in float32, NaN unchanged. */
FULMEN_HD inline float clipValue(float x, double lo, double hi) {
  const double v = x;
  return v > hi ? static_cast<float>(hi) : (v < lo ? static_cast<float>(lo) : x);
}

}  // namespace fulmen

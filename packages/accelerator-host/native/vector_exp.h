// e^x in double for results stored as float32, written without branches or library calls so that compilers
// vectorise the loops that use it (glibc's exp is a scalar call: ~4 ns an element here).
//
// Accuracy: Cody–Waite reduction x = k·ln2 + r (|r| ≤ ln2/2, ln2 split so k·ln2_hi is exact) and a degree-13
// Taylor polynomial, whose truncation error (r¹⁴/14! ≈ 4e-18) is below double's rounding; the result is within
// a few double ulps of e^x. Rounded to float32 it equals the correctly rounded value except when e^x lies
// within ~1e-15 (relative) of a float32 rounding boundary — the same exposure tfjs's own double Math.exp has.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "device.h"

namespace fulmen {

/**
 * e^x with x first clamped to [lo, hi] (NaN passes through). The caller picks bounds beyond which its own
 * float32 result no longer changes; they must lie within [-708, 709], where 2^k is a normal double.
 */
FULMEN_HD inline double expInRange(double x, double lo, double hi) {
  const double clamped = x < lo ? lo : (x > hi ? hi : x);
  constexpr double kInvLn2 = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln2 with its low 32 bits zero: k·hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 6755399441055744.0;  // 1.5·2^52: adding it rounds to an integer in the low bits
  const double shifted = clamped * kInvLn2 + kShift;
  const double k = shifted - kShift;
  const double r = (clamped - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k from k's integer bits (-1022 < k < 1024 within the bounds: a normal double).
  int64_t bits;
  memcpy(&bits, &shifted, sizeof bits);
  const int64_t scaleBits = (bits - static_cast<int64_t>(0x4338000000000000LL) + 1023) << 52;
  double scale;
  memcpy(&scale, &scaleBits, sizeof scale);
  const double result = p * scale;
  return x != x ? x : result;
}

/** e^x stored as float32: below -104 it rounds to zero (e^x < 2^-150), above 89 it overflows to ∞. */
FULMEN_HD inline double expForFloat(double x) { return expInRange(x, -104.0, 89.0); }

/**
 * tanh(x) in double for results stored as float32, branch-free like {@link expInRange} so loops over it
 * vectorise (glibc's tanh is a scalar call, ~20 ns an element here, and dominated the LSTM cell).
 *
 * Below |x| = 1/8 the odd Taylor series to x^17 (the next term is < 3e-18 of the value); above it
 * 1 - 2/(e^{2|x|} + 1), whose cancellation costs at most ~2e-15 relative there. Rounded to float32 it equals
 * glibc's result except when tanh(x) lies within ~2e-15 (relative) of a float32 rounding boundary. Beyond
 * |x| = 20 the double result is exactly ±1, as glibc's; the sign of ±0 is kept and NaN passes through.
 */
FULMEN_HD inline double tanhForFloat(double x) {
  const double a = x < 0 ? -x : x;
  const double s = a * a;
  double p = 6404582.0 / 10854718875.0;
  p = p * s - 929569.0 / 638512875.0;
  p = p * s + 21844.0 / 6081075.0;
  p = p * s - 1382.0 / 155925.0;
  p = p * s + 62.0 / 2835.0;
  p = p * s - 17.0 / 315.0;
  p = p * s + 2.0 / 15.0;
  p = p * s - 1.0 / 3.0;
  const double small = a + a * s * p;
  const double large = 1.0 - 2.0 / (expInRange(2.0 * a, 0.0, 40.0) + 1.0);
  const double magnitude = a < 0.125 ? small : large;
  const double result = x < 0 ? -magnitude : magnitude;
  return (x != x || x == 0) ? x : result;  // NaN, and ±0 with its sign
}

/**
 * e^x in float32 arithmetic, branch-free (Cephes's expf: Cody–Waite reduction, a degree-5 polynomial; within
 * 2 ulp): for the kernels that follow PyTorch's float32 CPU formulas, which use an exp of this accuracy
 * (Sleef's, 1 ulp). Below -87.34 it is 0 (no subnormals), above 88.72 ∞; NaN passes through.
 */
FULMEN_HD inline float expFloat(float x) {
  const float clamped = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kShift = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer in the low bits
  const float shifted = clamped * kLog2e + kShift;
  const float k = shifted - kShift;
  const float r = (clamped - k * 0.693359375f) - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * (r * r) + r + 1.0f;
  int32_t bits;
  memcpy(&bits, &shifted, sizeof bits);
  const int32_t scaleBits = (bits - 0x4B400000 + 127) << 23;  // 2^k, k in [-126, 127]
  float scale;
  memcpy(&scale, &scaleBits, sizeof scale);
  const float result = x < -87.33654f ? 0.0f : (x > 88.72284f ? INFINITY : y * scale);
  return x != x ? x : result;
}

/**
 * erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7) in float32 arithmetic, the formula and precision of
 * PyTorch's vectorised CPU erf (the one its GELU uses): `sign(x)·(1 - (poly(t)·t)·e^(-x²))`, `t = 1/(1 + p|x|)`.
 */
FULMEN_HD inline float erfFloatLikeTorch(float x) {
  const float v = x < 0 ? -x : x;
  const float t = 1.0f / (0.3275911f * v + 1.0f);
  float poly = 1.061405429f;
  poly = poly * t + -1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t + -0.284496736f;
  poly = poly * t + 0.254829592f;
  const float magnitude = 1.0f - (poly * t) * expFloat(-(v * v));
  return x < 0 ? -magnitude : (x > 0 ? magnitude : x);  // ±0 and NaN as they are
}

}  // namespace fulmen

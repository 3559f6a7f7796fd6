// Rounding float32 values to float16 and bfloat16 (kept as float32), bit for bit core's roundFloat16 and
// roundBfloat16 (round to nearest, ties to even; NaN and ±∞ pass through; float16 overflows to ±∞ and has
// subnormals below 2⁻¹⁴), for the host build's loops and the GPU build's threads alike.
#pragma once

#include <math.h>
#include <string.h>

#include <cstdint>

#include "device.h"

namespace fulmen {

/** The half formats of the precision plugins. */
enum class HalfFormat : int32_t { Float16 = 0, Bfloat16 = 1 };

FULMEN_HD inline uint32_t bitsOf(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  return u;
}

FULMEN_HD inline float floatOf(uint32_t u) {
  float x;
  memcpy(&x, &u, 4);
  return x;
}

/** The bfloat16 value nearest to x: the top 16 bits of float32, rounded to nearest even. */
FULMEN_HD inline float roundToBfloat16(float x) {
  const uint32_t u = bitsOf(x);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;
  return floatOf((u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u);
}

/** The float16 value nearest to x, as core's roundFloat16 computes it (in double, exactly). */
FULMEN_HD inline float roundToFloat16(float x) {
  if (x != x || x == INFINITY || x == -INFINITY || x == 0) return x;
  const double a = fabs(static_cast<double>(x));
  if (a >= 65520.0) return x > 0 ? INFINITY : -INFINITY;  // halfway between 65504 and 65536
  double step = 5.9604644775390625e-08;                    // 2⁻²⁴: the subnormal step
  if (a >= 6.103515625e-05) {                              // 2⁻¹⁴: normal numbers keep 11 significant bits
    const int exponent = static_cast<int>((bitsOf(static_cast<float>(a)) >> 23) & 0xff) - 127;
    step = ldexp(1.0, exponent - 10);
  }
  const double n = a / step;
  double r = floor(n + 0.5);  // JavaScript's Math.round for n ≥ 0
  if (r - n == 0.5 && fmod(r, 2.0) == 1.0) r -= 1;
  return static_cast<float>((x < 0 ? -r : r) * step);
}

FULMEN_HD inline float roundToHalf(HalfFormat format, float x) {
  return format == HalfFormat::Float16 ? roundToFloat16(x) : roundToBfloat16(x);
}

/**
 * The 16 bits that store x rounded to `format` (IEEE binary16, or bfloat16's top half of float32): what half
 * storage keeps, 2 bytes a value. NaN becomes the format's quiet NaN.
 */
FULMEN_HD inline uint16_t halfBitsOf(HalfFormat format, float x) {
  const float r = roundToHalf(format, x);
  if (r != r) return format == HalfFormat::Float16 ? 0x7e00 : 0x7fc0;
  const uint32_t u = bitsOf(r);
  if (format == HalfFormat::Bfloat16) return static_cast<uint16_t>(u >> 16);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const float a = fabsf(r);
  if (a == INFINITY) return sign | 0x7c00;
  if (a < 6.103515625e-05f) return sign | static_cast<uint16_t>(a * 16777216.0f);  // subnormal: a multiple of 2⁻²⁴
  const uint32_t exponent = ((u >> 23) & 0xffu) - 127u + 15u;
  return static_cast<uint16_t>(sign | (exponent << 10) | ((u >> 13) & 0x3ffu));
}

/** The float32 value of 16 stored bits (exact: every half value is a float32 value). */
FULMEN_HD inline float halfValue(HalfFormat format, uint16_t bits) {
  if (format == HalfFormat::Bfloat16) return floatOf(static_cast<uint32_t>(bits) << 16);
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu, mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    const float value = static_cast<float>(mantissa) * 5.9604644775390625e-08f;  // × 2⁻²⁴, exact
    return sign != 0 ? -value : value;
  }
  if (exponent == 0x1f) return floatOf(sign | 0x7f800000u | (mantissa << 13));
  return floatOf(sign | ((exponent - 15u + 127u) << 23) | (mantissa << 13));
}

}  // namespace fulmen

// 16-bit floats travel as raw uint16 (compressed gradients); reductions widen to float32, combine, and round
// back to nearest-even, as @fulmen/precision rounds on the JS side, so every rank agrees bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace fulmen {

inline float bfloat16ToFloat(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t floatToBfloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

inline float float16ToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? INFINITY : NAN;
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  }
  float f = magnitude;
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= sign;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t floatToFloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7e00);
  if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to infinity
  if (a < 6.103515625e-05f) {
    // Subnormal: units of 2^-24, rounded to nearest-even by the FPU's default mode.
    float units = std::nearbyint(a * 16777216.0f);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(units));
  }
  uint32_t abits;
  std::memcpy(&abits, &a, 4);
  uint32_t exponent = ((abits >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = abits & 0x7fffff;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half += 1;
  return static_cast<uint16_t>(sign | half);
}

enum class HalfFormat { Float16, Bfloat16 };
enum class ReduceKind { Sum, Max, Min };

template <float (*toFloat)(uint16_t), uint16_t (*fromFloat)(float), ReduceKind kind>
void reduceHalf(void* out, const void* a, const void* b, size_t n) {
  auto* o = static_cast<uint16_t*>(out);
  const auto* x = static_cast<const uint16_t*>(a);
  const auto* y = static_cast<const uint16_t*>(b);
  for (size_t i = 0; i < n; i++) {
    float u = toFloat(x[i]);
    float v = toFloat(y[i]);
    float r = kind == ReduceKind::Sum ? u + v : kind == ReduceKind::Max ? std::fmax(u, v) : std::fmin(u, v);
    o[i] = fromFloat(r);
  }
}

}  // namespace fulmen

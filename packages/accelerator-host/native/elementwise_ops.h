// The arithmetic of the element-wise kernels, one element at a time, for the host loops and the GPU kernels
// alike. tfjs's CPU kernels compute in double (JavaScript numbers) and store float32; so do these, which makes
// the results bit-identical to tfjs's (for + − × ÷ and sqrt the double rounding is exact anyway).
#pragma once

#include <cmath>
#include <cstdint>

#include "device.h"
#include "elementwise.h"
#include "erf_tfjs.h"
#include "vector_exp.h"

namespace fulmen {

template <BinaryOp Op>
FULMEN_HD inline float binaryOp(float af, float bf) {
  const double a = af, b = bf;
  if constexpr (Op == BinaryOp::Add) return static_cast<float>(a + b);
  if constexpr (Op == BinaryOp::Sub) return static_cast<float>(a - b);
  if constexpr (Op == BinaryOp::Mul) return static_cast<float>(a * b);
  if constexpr (Op == BinaryOp::Div) return static_cast<float>(a / b);
  // std::max/min's choices, NaN first: (a < b) ? b : a and (b < a) ? b : a.
  if constexpr (Op == BinaryOp::Max) return (a != a || b != b) ? NAN : static_cast<float>(a < b ? b : a);
  if constexpr (Op == BinaryOp::Min) return (a != a || b != b) ? NAN : static_cast<float>(b < a ? b : a);
  if constexpr (Op == BinaryOp::SquaredDifference) return static_cast<float>((a - b) * (a - b));
  return 0;
}

template <CompareOp Op>
FULMEN_HD inline uint8_t compareOp(float a, float b) {
  if constexpr (Op == CompareOp::Greater) return a > b;
  if constexpr (Op == CompareOp::GreaterEqual) return a >= b;
  if constexpr (Op == CompareOp::Less) return a < b;
  if constexpr (Op == CompareOp::LessEqual) return a <= b;
  if constexpr (Op == CompareOp::Equal) return a == b;
  return a != b;
}

template <UnaryOp Op>
FULMEN_HD inline float unaryOp(float x) {
  const double v = x;
  if constexpr (Op == UnaryOp::Sqrt) return static_cast<float>(sqrt(v));
  if constexpr (Op == UnaryOp::Relu) return static_cast<float>(v != v ? v : (v < 0 ? 0.0 : v));
  if constexpr (Op == UnaryOp::Exp) return static_cast<float>(expForFloat(v));
  if constexpr (Op == UnaryOp::Log) return static_cast<float>(log(v));
  if constexpr (Op == UnaryOp::Neg) return static_cast<float>(-v);
  if constexpr (Op == UnaryOp::Square) return static_cast<float>(v * v);
  if constexpr (Op == UnaryOp::Abs) return static_cast<float>(fabs(v));
  if constexpr (Op == UnaryOp::Tanh) return static_cast<float>(tanhForFloat(v));
  // Beyond ±708 the float32 result is 1 or 0 whatever e^-v's exact size.
  if constexpr (Op == UnaryOp::Sigmoid) return static_cast<float>(1.0 / (1.0 + expInRange(-v, -708.0, 709.0)));
  if constexpr (Op == UnaryOp::Rsqrt) return static_cast<float>(1.0 / sqrt(v));
  if constexpr (Op == UnaryOp::Erf) return static_cast<float>(erfLikeTfjs(v));
  return 0;
}

// The float32 constants tfjs's op-by-op GELU multiplies by (JavaScript numbers stored in float32 tensors).
constexpr float kGeluHalf = 0.5f;
constexpr float kGeluInvSqrt2 = static_cast<float>(0.70710678118654752440);  // Math.SQRT1_2
constexpr float kGeluErfSlope = static_cast<float>(1.12837916709551257390);  // 2/√π

/** 0.5·x·(1 + erf(x/√2)), each step rounded to float32 as tfjs's op-by-op GELU rounds it. */
FULMEN_HD inline float geluValue(float x) {
  const float half = kGeluHalf * x;
  const float u = x * kGeluInvSqrt2;
  const float s = 1.0f + static_cast<float>(erfLikeTfjs(u));
  return half * s;
}

// tfjs differentiates y = (0.5·x)·(1 + erf(x·c)) node by node, newest first: dh = dy·s, ds = dy·h (= de);
// du = de·(e^(-u²)·2/√π); the x·c node gives du·c, then the 0.5·x node gives dh·0.5, added to it.
FULMEN_HD inline float geluGradValue(float dy, float x) {
  const float half = kGeluHalf * x;
  const float u = x * kGeluInvSqrt2;
  const float s = 1.0f + static_cast<float>(erfLikeTfjs(u));
  const float dh = dy * s;
  const float de = dy * half;
  const float square = u * u;
  const float slope = static_cast<float>(expForFloat(static_cast<double>(-square))) * kGeluErfSlope;
  const float du = de * slope;
  return du * kGeluInvSqrt2 + dh * kGeluHalf;
}

}  // namespace fulmen

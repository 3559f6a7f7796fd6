// tfjs's erf, shared by the element-wise Erf kernel and the fused GELU.
#pragma once

#include <cmath>

#include "device.h"
#include "vector_exp.h"

namespace fulmen {

// tfjs's erf: Abramowitz and Stegun 7.1.26 with its constants, in double.
FULMEN_HD inline double erfLikeTfjs(double x) {
  const double sign = x > 0 ? 1.0 : x < 0 ? -1.0 : x;  // Math.sign keeps ±0 (and NaN)
  const double v = fabs(x);
  const double t = 1.0 / (1.0 + 0.3275911 * v);
  const double poly = ((((1.061405429 * t + -1.453152027) * t) + 1.421413741) * t + -0.284496736) * t + 0.254829592;
  // e^(-v²) below e^-708 leaves 1 - poly·t·e^(-v²) at 1 either way.
  return sign * (1.0 - poly * t * expInRange(-v * v, -708.0, 0.0));
}

}  // namespace fulmen

// The branch-free transcendental functions (native/vector_exp.h) against glibc's, rounded to float32 as the
// kernels store them: every 61st float32 bit pattern (70M values, all exponents and both signs). The kernels are
// bit-identical to tfjs's op-by-op results only while these agree. Prints "ok <checks>" or the first mismatches.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "../vector_exp.h"

int main() {
  long checks = 0, failures = 0;
  auto compare = [&](const char* what, float x, float got, float want) {
    checks++;
    if (std::memcmp(&got, &want, sizeof got) == 0 || (got != got && want != want)) return;
    if (failures++ < 10) std::printf("%s(%.9g): %.9g, expected %.9g\n", what, x, got, want);
  };
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 61) {
    const uint32_t bits = static_cast<uint32_t>(u);
    float x;
    std::memcpy(&x, &bits, sizeof x);
    const double v = x;
    compare("tanh", x, static_cast<float>(fulmen::tanhForFloat(v)), static_cast<float>(std::tanh(v)));
    compare("exp", x, static_cast<float>(fulmen::expForFloat(v)), static_cast<float>(std::exp(v)));
  }
  // The edges: ±0 keep their sign, the series' boundary, the saturation points.
  for (const float x : {0.0f, -0.0f, 0.125f, -0.125f, 0.12499999f, 9.01f, -9.02f, 20.0f, 20.1f, -1e-30f, 1e-45f,
                        INFINITY, -INFINITY, 88.72f, 88.73f, -103.97f, -104.0f})
    compare("tanh", x, static_cast<float>(fulmen::tanhForFloat(x)), static_cast<float>(std::tanh(double{x})));
  if (failures > 0) return 1;
  std::printf("ok %ld\n", checks);
  return 0;
}

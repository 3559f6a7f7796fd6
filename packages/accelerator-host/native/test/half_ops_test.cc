// Half storage's conversions (native/half_ops.h), checked exhaustively: every 16-bit pattern of both formats
// round-trips through its float32 value, and a million random float32 values are stored as exactly the value
// core's rounding gives. Prints "ok <checks>" or the first mismatches.
#include <cstdio>
#include <cstring>
#include <random>

#include "../half_ops.h"

using fulmen::HalfFormat;

int main() {
  long checks = 0, failures = 0;
  auto fail = [&](const char* what, int format, double value, unsigned got, unsigned want) {
    if (failures++ < 10) std::printf("%s: format %d value %g: %x, expected %x\n", what, format, value, got, want);
  };
  for (int f = 0; f < 2; f++) {
    const auto format = static_cast<HalfFormat>(f);
    for (unsigned bits = 0; bits < 65536; bits++) {
      const float value = fulmen::halfValue(format, static_cast<uint16_t>(bits));
      if (value != value) continue;  // NaNs are stored as the format's quiet NaN
      checks++;
      const unsigned back = fulmen::halfBitsOf(format, value);
      if (back != bits) fail("round trip", f, value, back, bits);
    }
  }
  std::mt19937 random(1);
  for (int i = 0; i < 1000000; i++) {
    const uint32_t u = random();
    float x;
    std::memcpy(&x, &u, 4);
    if (x != x) continue;
    for (int f = 0; f < 2; f++) {
      const auto format = static_cast<HalfFormat>(f);
      checks++;
      const float rounded = fulmen::roundToHalf(format, x);
      const float stored = fulmen::halfValue(format, fulmen::halfBitsOf(format, x));
      if (fulmen::bitsOf(rounded) != fulmen::bitsOf(stored))
        fail("stored value", f, x, fulmen::bitsOf(stored), fulmen::bitsOf(rounded));
    }
  }
  if (failures > 0) return 1;
  std::printf("ok %ld\n", checks);
  return 0;
}

// Reusable temporaries for kernels: a fresh std::vector of a few hundred KB is a fresh mmap every call (glibc maps
// allocations above 128 KB) whose page faults and zeroing cost more than the arithmetic of a small kernel. Each
// thread keeps a few growing arrays, by slot; a kernel uses distinct slots for temporaries alive at once.
#pragma once

#include <cstddef>
#include <vector>

namespace fulmen {

/** `count` floats of this thread's scratch array `slot` (0–7), uninitialised; valid until the slot's next use. */
inline float* scratchFloats(int slot, size_t count) {
  thread_local std::vector<float> slots[8];
  std::vector<float>& array = slots[slot];
  if (array.size() < count) array.resize(count);
  return array.data();
}

}  // namespace fulmen

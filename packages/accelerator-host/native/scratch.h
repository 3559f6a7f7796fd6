// Reusable temporaries for kernels: a fresh std::vector of a few hundred KB is a fresh mmap every call (glibc maps
// allocations above 128 KB) whose page faults and zeroing cost more than the arithmetic of a small kernel. Each
// thread keeps a few growing arrays, by slot, up to 16 MB each; a larger temporary is the kernel's own for the
// call (its page faults are small beside that much work, and a model's largest temporary is not held forever).
#pragma once

#include <cstddef>
#include <vector>

namespace fulmen {

/** `count` uninitialised floats for one kernel call: slot `slot` (0–7) of this thread's kept arrays, or its own. */
class ScratchFloats {
 public:
  ScratchFloats(int slot, size_t count) {
    constexpr size_t kKeptUpTo = size_t{4} << 20;  // floats: 16 MB
    if (count > kKeptUpTo) {
      own_.resize(count);
      data_ = own_.data();
      return;
    }
    thread_local std::vector<float> slots[8];
    std::vector<float>& array = slots[slot];
    if (array.size() < count) array.resize(count);
    data_ = array.data();
  }
  ScratchFloats(const ScratchFloats&) = delete;
  ScratchFloats& operator=(const ScratchFloats&) = delete;

  float* data() const { return data_; }

 private:
  std::vector<float> own_;
  float* data_ = nullptr;
};

}  // namespace fulmen

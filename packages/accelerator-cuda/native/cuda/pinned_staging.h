// Small uploads without a stall: tensors made from JavaScript values (scalars, token ids, labels) are copied into
// a slot of pinned host memory and sent from there asynchronously, so creating one no longer waits for every
// kernel already queued (a copy from pageable memory must be finished before its source may change, which
// means a wait). A slot is reused once the event recorded after its copy has passed.
#pragma once

#include "cuda_api.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fulmen {

class PinnedStaging {
 public:
  static constexpr size_t kSlotBytes = 64 * 1024;
  static constexpr int kSlots = 64;

  /** Without pinned memory (cudaMallocHost failing) every upload takes the waiting path: fits() is false. */
  explicit PinnedStaging(cudaStream_t stream) : stream_(stream) {
    void* buffer = nullptr;
    if (cudaMallocHost(&buffer, kSlotBytes * kSlots) != cudaSuccess) {
      cudaGetLastError();
      return;
    }
    buffer_ = static_cast<uint8_t*>(buffer);
    for (auto& event : events_) cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
  }

  ~PinnedStaging() {
    if (buffer_ == nullptr) return;
    cudaStreamSynchronize(stream_);
    for (auto& event : events_) cudaEventDestroy(event);
    cudaFreeHost(buffer_);
  }

  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  bool fits(size_t bytes) const { return buffer_ != nullptr && bytes <= kSlotBytes; }

  /** Copies `source` into the next slot and enqueues the slot's copy to `target`; returns without waiting. */
  void upload(void* target, const void* source, size_t bytes) {
    const int slot = next_;
    next_ = (next_ + 1) % kSlots;
    if (recorded_[slot]) check(cudaEventSynchronize(events_[slot]), "upload (a staging slot's last copy)");
    uint8_t* staged = buffer_ + static_cast<size_t>(slot) * kSlotBytes;
    std::memcpy(staged, source, bytes);
    check(cudaMemcpyAsync(target, staged, bytes, cudaMemcpyHostToDevice, stream_), "upload (cudaMemcpyAsync)");
    check(cudaEventRecord(events_[slot], stream_), "upload (cudaEventRecord)");
    recorded_[slot] = true;
  }

 private:
  static void check(cudaError_t status, const char* what) {
    if (status != cudaSuccess)
      throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorName(status) + " (" +
                               cudaGetErrorString(status) + ")");
  }

  cudaStream_t stream_;
  uint8_t* buffer_ = nullptr;
  cudaEvent_t events_[kSlots] = {};
  bool recorded_[kSlots] = {};
  int next_ = 0;
};

}  // namespace fulmen

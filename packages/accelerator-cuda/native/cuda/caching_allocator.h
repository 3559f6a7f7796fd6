// The GPU engine's stream-ordered caching allocator (what PyTorch's CUDA allocator does): cudaFree synchronises
// the whole device, so freed blocks are kept and handed out again on the same stream, where the stream's own
// ordering makes the reuse safe without any synchronisation. Raw memory comes from a pluggable source (the CUDA
// runtime in the GPU build; plain host memory in the tests), so the policy is tested without a GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace fulmen {

/** Where raw memory comes from: cudaMalloc/cudaFree in the GPU build. */
class RawMemory {
 public:
  virtual ~RawMemory() = default;
  /** Raw memory of `bytes`, or nullptr when there is none left. */
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* pointer) = 0;
};

/** How much memory the allocator holds. */
struct AllocatorStats {
  size_t allocatedBytes = 0;  // handed out, not yet freed
  size_t cachedBytes = 0;     // freed, kept for reuse
  size_t rawAllocations = 0;  // calls to RawMemory::allocate that succeeded
};

class CachingAllocator {
 public:
  /** Requests are rounded up to this many bytes (CUDA's own alignment is 256). */
  static constexpr size_t kRound = 512;

  explicit CachingAllocator(RawMemory& raw) : raw_(raw) {}
  ~CachingAllocator() { emptyCache(); }
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  /**
   * A block of at least `bytes` for work on `stream`: the smallest cached block of that stream that fits (at most
   * twice the request, so a small tensor never pins a huge block), else fresh raw memory; when the device is full,
   * the cache is released and the raw allocation tried once more. Throws std::bad_alloc when that fails too.
   */
  void* allocate(size_t bytes, uintptr_t stream) {
    const size_t size = roundUp(bytes == 0 ? 1 : bytes);
    auto& pool = cached_[stream];
    auto fit = pool.lower_bound(size);
    if (fit != pool.end() && fit->first <= 2 * size) {
      void* pointer = fit->second;
      pool.erase(fit);
      stats_.cachedBytes -= blockSize(pointer);
      return handOut(pointer, stream);
    }
    void* pointer = raw_.allocate(size);
    if (pointer == nullptr) {
      emptyCache();
      pointer = raw_.allocate(size);
      if (pointer == nullptr) throw std::bad_alloc();
    }
    stats_.rawAllocations++;
    blocks_[pointer] = Block{size, stream, false};
    return handOut(pointer, stream);
  }

  /**
   * Takes a block back into its stream's cache. Only the stream it was allocated on may reuse it, which is safe
   * because that stream runs the freed block's last kernels before any later one.
   */
  void free(void* pointer) {
    auto it = blocks_.find(pointer);
    if (it == blocks_.end() || !it->second.inUse)
      throw std::invalid_argument("CachingAllocator::free: not a block in use from this allocator");
    it->second.inUse = false;
    stats_.allocatedBytes -= it->second.size;
    stats_.cachedBytes += it->second.size;
    cached_[it->second.stream].emplace(it->second.size, pointer);
  }

  /** Returns every cached block to the raw source (cudaFree: a device-wide synchronisation). */
  void emptyCache() {
    for (auto& [stream, pool] : cached_) {
      for (auto& [size, pointer] : pool) {
        raw_.release(pointer);
        blocks_.erase(pointer);
        stats_.cachedBytes -= size;
      }
    }
    cached_.clear();
  }

  AllocatorStats stats() const { return stats_; }

  /** The rounded size of a block this allocator handed out. */
  size_t blockSize(void* pointer) const { return blocks_.at(pointer).size; }

  /** Whether `pointer` is a block in use of at least `bytes` (not freed, not foreign). */
  bool holds(const void* pointer, size_t bytes) const {
    auto it = blocks_.find(const_cast<void*>(pointer));
    return it != blocks_.end() && it->second.inUse && it->second.size >= bytes;
  }

 private:
  struct Block {
    size_t size;
    uintptr_t stream;
    bool inUse;
  };

  static size_t roundUp(size_t bytes) { return (bytes + kRound - 1) / kRound * kRound; }

  void* handOut(void* pointer, uintptr_t stream) {
    Block& block = blocks_.at(pointer);
    block.inUse = true;
    block.stream = stream;
    stats_.allocatedBytes += block.size;
    return pointer;
  }

  RawMemory& raw_;
  std::unordered_map<void*, Block> blocks_;
  std::unordered_map<uintptr_t, std::multimap<size_t, void*>> cached_;
  AllocatorStats stats_;
};

}  // namespace fulmen

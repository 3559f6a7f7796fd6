// Unit test of the GPU engine's caching allocator policy, on host memory (no GPU needed). Built and run by
// test/caching-allocator.test.ts; prints "ok <checks>" and exits 0, or names the failed check and exits 1.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <set>
#include <stdexcept>

#include "../cuda/caching_allocator.h"

namespace {

// Host memory with a capacity, standing in for a device that can fill up.
class HostMemory : public fulmen::RawMemory {
 public:
  explicit HostMemory(size_t capacity) : capacity_(capacity) {}
  void* allocate(size_t bytes) override {
    if (used_ + bytes > capacity_) return nullptr;
    void* p = std::malloc(bytes);
    used_ += bytes;
    sizes_[p] = bytes;
    return p;
  }
  void release(void* p) override {
    used_ -= sizes_.at(p);
    sizes_.erase(p);
    std::free(p);
    releases++;
  }
  size_t outstanding() const { return sizes_.size(); }
  int releases = 0;

 private:
  size_t capacity_, used_ = 0;
  std::unordered_map<void*, size_t> sizes_;
};

int checks = 0;
void check(bool ok, const char* what) {
  checks++;
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    std::exit(1);
  }
}

}  // namespace

int main() {
  {
    HostMemory device(1 << 20);
    fulmen::CachingAllocator allocator(device);
    void* a = allocator.allocate(1000, 1);
    check(allocator.blockSize(a) == 1024, "requests round up to 512 bytes");
    check(allocator.stats().allocatedBytes == 1024 && allocator.stats().rawAllocations == 1, "counts a raw block");
    allocator.free(a);
    check(allocator.stats().allocatedBytes == 0 && allocator.stats().cachedBytes == 1024, "a freed block is cached");
    void* b = allocator.allocate(900, 1);
    check(b == a && allocator.stats().rawAllocations == 1, "the same stream gets its cached block back");
    allocator.free(b);
    void* c = allocator.allocate(900, 2);
    check(c != a && allocator.stats().rawAllocations == 2, "another stream never takes it (no ordering between them)");
    void* big = allocator.allocate(100000, 3);
    allocator.free(big);
    void* small = allocator.allocate(600, 3);
    check(small != big, "a block more than twice the request is not handed out for it");
    void* fit = allocator.allocate(60000, 3);
    check(fit == big, "the smallest cached block that fits, when it is at most twice the request");
    bool threw = false;
    allocator.free(c);
    try {
      allocator.free(c);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    check(threw, "a double free is refused");
    allocator.free(small);
    allocator.free(fit);
    allocator.emptyCache();
    check(allocator.stats().cachedBytes == 0 && device.outstanding() == 0, "emptyCache returns every cached block");
  }
  {
    HostMemory device(4096);
    fulmen::CachingAllocator allocator(device);
    void* a = allocator.allocate(2048, 1);
    void* b = allocator.allocate(1024, 2);
    allocator.free(a);
    void* c = allocator.allocate(3000, 2);  // stream 2 has nothing cached, the device is full: release, retry
    check(c != nullptr && device.releases == 1, "a full device releases the cache and retries");
    bool threw = false;
    try {
      allocator.allocate(4096, 1);
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    check(threw, "out of memory after releasing the cache throws bad_alloc");
    allocator.free(b);
    allocator.free(c);
  }
  std::printf("ok %d\n", checks);
  return 0;
}

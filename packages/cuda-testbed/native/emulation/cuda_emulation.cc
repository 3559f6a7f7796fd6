#include "cuda_emulation.h"

#include <barrier>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace fulmen::emu {

namespace {

thread_local ThreadIndex index;
thread_local std::barrier<>* blockBarrier = nullptr;

dim3 threadOf(unsigned t, const dim3& block) {
  return dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
}

// Workers that run one block's threads side by side for kernels that meet at __syncthreads; they wait between
// blocks, so a launch of many blocks creates no threads.
class BlockThreads {
 public:
  ~BlockThreads() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  void runBlock(unsigned threads, const ThreadIndex& base, const std::function<void()>& body) {
    while (workers_.size() < threads) {
      const unsigned id = static_cast<unsigned>(workers_.size());
      workers_.emplace_back([this, id] { work(id); });
    }
    std::barrier<> barrier(threads);
    std::unique_lock<std::mutex> lock(mutex_);
    task_ = &body;
    base_ = base;
    barrier_ = &barrier;
    active_ = threads;
    remaining_ = threads;
    generation_++;
    start_.notify_all();
    done_.wait(lock, [this] { return remaining_ == 0; });
  }

 private:
  void work(unsigned id) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (id >= active_) continue;
      const std::function<void()>* task = task_;
      index = base_;
      index.thread = threadOf(id, base_.blockSize);
      blockBarrier = barrier_;
      lock.unlock();
      (*task)();
      blockBarrier = nullptr;
      lock.lock();
      if (--remaining_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::vector<std::thread> workers_;
  uint64_t generation_ = 0;
  unsigned active_ = 0, remaining_ = 0;
  bool stopping_ = false;
  const std::function<void()>* task_ = nullptr;
  ThreadIndex base_;
  std::barrier<>* barrier_ = nullptr;
};

BlockThreads& blockThreads() {
  static BlockThreads threads;
  return threads;
}

}  // namespace

ThreadIndex& current() { return index; }

void syncThreads() {
  if (blockBarrier == nullptr) {
    std::fprintf(stderr,
                 "fulmen CUDA emulator: __syncthreads in a kernel launched with FULMEN_LAUNCH; launch it with "
                 "FULMEN_LAUNCH_BLOCK_SYNC\n");
    std::abort();
  }
  blockBarrier->arrive_and_wait();
}

void run(dim3 grid, dim3 block, bool blockSync, const std::function<void()>& body) {
  const unsigned threads = block.x * block.y * block.z;
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        const ThreadIndex base{dim3(0, 0, 0), dim3(bx, by, bz), block, grid};
        if (blockSync) {
          blockThreads().runBlock(threads, base, body);
          continue;
        }
        for (unsigned t = 0; t < threads; t++) {
          index = base;
          index.thread = threadOf(t, block);
          body();
        }
      }
}

}  // namespace fulmen::emu

namespace {
struct FulmenEmulatedObject {};
}  // namespace

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidDevice; }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  std::snprintf(prop->name, sizeof(prop->name), "Fulmen CUDA emulator (host memory)");
  prop->totalGlobalMem = size_t{1} << 34;
  prop->major = 9;
  prop->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaGetLastError() { return cudaSuccess; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
  }
  return "unknown error";
}

cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  *pointer = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  return *pointer == nullptr ? cudaErrorMemoryAllocation : cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** pointer, size_t bytes) { return cudaMalloc(pointer, bytes); }

cudaError_t cudaFreeHost(void* pointer) { return cudaFree(pointer); }

cudaError_t cudaMemcpyAsync(void* target, const void* source, size_t bytes, cudaMemcpyKind, cudaStream_t) {
  std::memmove(target, source, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* target, int value, size_t bytes, cudaStream_t) {
  std::memset(target, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = reinterpret_cast<cudaStream_t>(new FulmenEmulatedObject());
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete reinterpret_cast<FulmenEmulatedObject*>(stream);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
  *event = reinterpret_cast<cudaEvent_t>(new FulmenEmulatedObject());
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }

cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<FulmenEmulatedObject*>(event);
  return cudaSuccess;
}

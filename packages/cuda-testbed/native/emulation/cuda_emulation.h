// A host emulator of the part of CUDA the GPU build uses, so that its kernels and its engine run — and are
// tested — on any machine: kernels become functions, a launch runs every block in turn and every thread of a
// block (one after another, or side by side on real threads for kernels that meet at __syncthreads), "device"
// memory is host memory, and a stream is in order because everything runs at once. What it cannot show is what
// only hardware shows: timing, warp effects, the GPU's memory model. Compiled only with FULMEN_CUDA_EMULATION.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
// One block runs at a time, so a function-static array is exactly one block's shared memory.
#define __shared__ static

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace fulmen::emu {

/** The built-in index variables of the thread now running. */
struct ThreadIndex {
  dim3 thread{0, 0, 0}, block{0, 0, 0}, blockSize, gridSize;
};
ThreadIndex& current();

/** Runs `body` as every thread of every block of the launch. */
void run(dim3 grid, dim3 block, bool blockSync, const std::function<void()>& body);

/** __syncthreads: the block's threads wait for each other (only in a FULMEN_LAUNCH_BLOCK_SYNC launch). */
void syncThreads();

template <typename... Params>
struct Launcher {
  void (*kernel)(Params...);
  dim3 grid, block;
  bool blockSync;

  template <typename... Args>
  void operator()(Args&&... args) const {
    // As on a GPU, arguments are copied at the launch into the kernel's parameter types.
    std::tuple<Params...> params(static_cast<Params>(std::forward<Args>(args))...);
    run(grid, block, blockSync, [&] { std::apply(kernel, params); });
  }
};

template <typename... Params>
Launcher<Params...> launcher(void (*kernel)(Params...), dim3 grid, dim3 block, bool blockSync) {
  return {kernel, grid, block, blockSync};
}

}  // namespace fulmen::emu

#define threadIdx (::fulmen::emu::current().thread)
#define blockIdx (::fulmen::emu::current().block)
#define blockDim (::fulmen::emu::current().blockSize)
#define gridDim (::fulmen::emu::current().gridSize)
#define __syncthreads() ::fulmen::emu::syncThreads()

// Everything runs at the launch, in order: the stream has nothing left to order.
#define FULMEN_LAUNCH(grid, block, stream, ...) \
  (static_cast<void>(stream), ::fulmen::emu::launcher(__VA_ARGS__, dim3(grid), dim3(block), false))
#define FULMEN_LAUNCH_BLOCK_SYNC(grid, block, stream, ...) \
  (static_cast<void>(stream), ::fulmen::emu::launcher(__VA_ARGS__, dim3(grid), dim3(block), true))

// The runtime API the engine calls, over host memory.
enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidDevice = 101,
};
enum cudaMemcpyKind : int {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};
typedef struct FulmenEmulatedStream* cudaStream_t;
typedef struct FulmenEmulatedEvent* cudaEvent_t;
constexpr unsigned cudaStreamNonBlocking = 1;
constexpr unsigned cudaEventDisableTiming = 2;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor;
};

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaGetLastError();
const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaMalloc(void** pointer, size_t bytes);
cudaError_t cudaFree(void* pointer);
cudaError_t cudaMallocHost(void** pointer, size_t bytes);
cudaError_t cudaFreeHost(void* pointer);
cudaError_t cudaMemcpyAsync(void* target, const void* source, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemsetAsync(void* target, int value, size_t bytes, cudaStream_t stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventDestroy(cudaEvent_t event);

// The CUDA runtime API as the GPU build uses it, and its kernel launches as macros, so that the same sources
// compile with nvcc for a GPU and, under FULMEN_CUDA_EMULATION, with g++ against the host emulator
// (emulation/cuda_emulation.h in the repository's private @fulmen/cuda-testbed package), which CI runs without a GPU.
#pragma once

#if defined(FULMEN_CUDA_EMULATION)
#include "emulation/cuda_emulation.h"  // the emulator's, in @fulmen/cuda-testbed
#else
#include <cuda_runtime.h>
/** FULMEN_LAUNCH(grid, block, stream, kernel)(args...): `kernel` on `grid` blocks of `block` threads. */
#define FULMEN_LAUNCH(grid, block, stream, ...) __VA_ARGS__<<<grid, block, 0, stream>>>
/** The same for a kernel whose threads meet at __syncthreads (the emulator runs those threads side by side). */
#define FULMEN_LAUNCH_BLOCK_SYNC(grid, block, stream, ...) __VA_ARGS__<<<grid, block, 0, stream>>>
#endif

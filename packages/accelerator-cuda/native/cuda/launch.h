// What every grid-stride kernel of the GPU build shares: threads per block, how many blocks cover n elements
// (at most 65535: each thread then strides over the rest), and the grid-stride loop itself.
#pragma once

#include <cstdint>

#include "cuda_api.h"

namespace fulmen {
namespace gpu {

constexpr int kThreads = 256;
/** The largest rank the broadcasting, transpose and slicing kernels take (their index records are fixed-size). */
constexpr int kMaxRank = 8;

inline unsigned blocksFor(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace gpu
}  // namespace fulmen

/** for (i over [0, n)) with each thread of the grid taking every (blocks × threads)-th index. */
#define FULMEN_GRID_LOOP(i, n)                                                               \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

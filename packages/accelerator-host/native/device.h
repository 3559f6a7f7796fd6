// Code shared by the host build (g++) and the GPU build (nvcc): per-element functions marked FULMEN_HD compile
// for both, so each kernel's arithmetic is written once.
#pragma once

#if defined(__CUDACC__)
#define FULMEN_HD __host__ __device__
#define FULMEN_ALWAYS_INLINE __forceinline__
#else
#define FULMEN_HD
#define FULMEN_ALWAYS_INLINE inline __attribute__((always_inline))
#endif

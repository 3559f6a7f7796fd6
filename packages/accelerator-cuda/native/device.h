// Code shared by the host build (g++) and the GPU build (nvcc): per-element functions marked FULMEN_HD compile
// for both, so each kernel's arithmetic is written once.
#pragma once

#if defined(__CUDACC__)
#define FULMEN_HD __host__ __device__
#else
#define FULMEN_HD
#endif

// The GPU build's gemm kernels compiled for the host emulator (see cuda_emulation.h).
#include "cuda/gemm_kernels.cu"

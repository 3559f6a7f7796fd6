// The GPU build's conv_pool kernels compiled for the host emulator (see cuda_emulation.h).
#include "cuda/conv_pool_kernels.cu"

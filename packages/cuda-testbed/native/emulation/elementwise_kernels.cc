// The GPU build's elementwise kernels compiled for the host emulator (see cuda_emulation.h).
#include "cuda/elementwise_kernels.cu"

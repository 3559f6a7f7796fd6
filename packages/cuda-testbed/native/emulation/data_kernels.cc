// The GPU build's data kernels compiled for the host emulator (see cuda_emulation.h).
#include "cuda/data_kernels.cu"

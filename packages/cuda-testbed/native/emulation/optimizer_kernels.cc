// The GPU build's optimizer kernels compiled for the host emulator (see cuda_emulation.h).
#include "cuda/optimizer_kernels.cu"

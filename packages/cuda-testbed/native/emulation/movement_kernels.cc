// The GPU build's movement kernels compiled for the host emulator (see cuda_emulation.h).
#include "cuda/movement_kernels.cu"

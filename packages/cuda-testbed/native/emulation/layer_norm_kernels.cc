// The GPU build's layer_norm kernels compiled for the host emulator (see cuda_emulation.h).
#include "cuda/layer_norm_kernels.cu"

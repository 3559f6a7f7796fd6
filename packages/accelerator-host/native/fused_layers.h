// Fused forward and backward passes of layers that tfjs would run as a dozen element-wise kernels each (core's
// GELU_KERNEL and LAYER_NORM_KERNEL families): one pass over the data instead of one per operation.
#pragma once

#include <cstdint>

namespace fulmen {

/** y = 0.5·x·(1 + erf(x/√2)), each step rounded to float32 as tfjs's op-by-op GELU rounds it. */
void hostGelu(const float* x, float* y, int64_t n);

/** The gradient of hostGelu, the same float32 steps as tfjs's automatic differentiation of the op-by-op GELU. */
void hostGeluGrad(const float* dy, const float* x, float* dx, int64_t n);

/**
 * Layer normalisation over the last `cols` values of each of `rows` rows: y = (x - mean)·rstd·weight + bias, with
 * mean and rstd = 1/√(biased variance + eps) computed in double and kept for the backward pass. `weight` and
 * `bias` may be null.
 */
void hostLayerNorm(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                   int64_t rows, int64_t cols, double eps);

/**
 * The gradients of hostLayerNorm: dx (always), dWeight and dBias (when non-null; sums over rows), in double.
 */
void hostLayerNormGrad(const float* dy, const float* x, const float* mean, const float* rstd, const float* weight,
                       float* dx, float* dWeight, float* dBias, int64_t rows, int64_t cols);

}  // namespace fulmen

// Scaled dot-product attention as one kernel each way (core's ATTENTION kernel pair): op by op it is a scale, two
// batched GEMMs, a mask addition and a softmax forward, and a dozen kernels backward, each a tfjs dispatch.
#pragma once

#include <cstdint>

namespace fulmen {

/**
 * The shapes of one attention call: `outer · inner` products (the leading dimensions of q, k and v, split where
 * the mask's broadcasting changes), `L` query and `S` key positions, `E` query/key and `Ev` value features. The
 * additive mask (if any) is read at `bias[o·strideOuter + i·strideInner + l·strideRow + s·strideCol]`, strides 0
 * along the dimensions it broadcasts over.
 */
struct AttentionShape {
  int64_t outer, inner, L, S, E, Ev;
  int64_t strideOuter, strideInner, strideRow, strideCol;
  float scale;
  bool causal;  // query l sees keys s <= l only (PyTorch's is_causal), as an added 0/−∞ mask would
};

/**
 * `weights = softmax((q·scale)·kᵀ + bias)`, `output = weights·v` for q `[N, L, E]`, k `[N, S, E]`, v `[N, S, Ev]`
 * (N = outer·inner), bias as the shape says or null: the op-by-op path's GEMMs, additions and softmax, so its bits.
 */
void hostAttention(const float* q, const float* k, const float* v, const float* bias, float* output, float* weights,
                   const AttentionShape& shape);

/**
 * hostAttention's gradient from `dOutput [N, L, Ev]`, `dWeights [N, L, S]` (or null) and the forward's weights:
 * into `dq`, `dk`, `dv`, and `dBias` (the mask's shape, summed over what it broadcasts; null when not wanted).
 */
void hostAttentionGrad(const float* dOutput, const float* dWeights, const float* q, const float* k, const float* v,
                       const float* weights, float* dq, float* dk, float* dv, float* dBias,
                       const AttentionShape& shape);

}  // namespace fulmen

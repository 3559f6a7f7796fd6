// Row-wise kernels: softmax over the last axis, and the sum of rows by segment (the gradient of an embedding
// lookup). Both follow tfjs's CPU kernels' arithmetic (each step rounded to float32, sums in double).
#pragma once

#include <cstdint>

namespace fulmen {

/** out[r] = softmax(x[r]) over rows of `cols` values: exp(x - max) / Σ, tfjs's order of roundings. */
void hostSoftmax(const float* x, float* out, int64_t rows, int64_t cols);

/**
 * out[s] = Σ x[i] over the rows i whose segment ids[i] is s (rows of `inner` values); ids outside
 * [0, numSegments) are dropped, as in tfjs.
 */
void hostUnsortedSegmentSum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                            int64_t numSegments);

/**
 * Copies `rows` slabs of `slab` 4-byte elements: slab r goes from src[srcStart + r·srcRow] to
 * dst[dstStart + r·dstRow]. Concat and split along an inner axis are this, once per input or output.
 */
void hostCopySlabs(const uint32_t* src, int64_t srcStart, int64_t srcRow, uint32_t* dst, int64_t dstStart,
                   int64_t dstRow, int64_t rows, int64_t slab);

}  // namespace fulmen

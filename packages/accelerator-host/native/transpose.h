// Data movement: Transpose as tfjs's CPU kernel defines it, on 4-byte elements.
#pragma once

#include <cstdint>
#include <vector>

namespace fulmen {

/** out = x with axes permuted: out's axis i is x's axis perm[i]. Elements are 4 bytes (float32 or int32). */
void hostTranspose(const uint32_t* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm,
                   uint32_t* out);

}  // namespace fulmen

#include <algorithm>
#include <cstring>

#include "transpose.h"

namespace fulmen {

namespace {

// out[b][j][i] = x[b][i][j] for i < rows, j < cols: 32×32 tiles, so that both sides are read and written in
// cache lines rather than one element per line.
void transposeMatrices(const uint32_t* x, uint32_t* out, int64_t batch, int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 32;
  for (int64_t b = 0; b < batch; b++) {
    const uint32_t* in = x + b * rows * cols;
    uint32_t* o = out + b * rows * cols;
    for (int64_t i0 = 0; i0 < rows; i0 += kTile)
      for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
        const int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
        for (int64_t j = j0; j < j1; j++)
          for (int64_t i = i0; i < i1; i++) o[j * rows + i] = in[i * cols + j];
      }
  }
}

// Whether perm keeps some leading axes and swaps two blocks of the rest ([N, C, H, W] → [N, H, W, C] and
// back): then the transpose is a batch of matrix transposes. Gives the split point of the trailing axes.
bool isBlockSwap(const std::vector<int64_t>& perm, size_t& kept, size_t& split) {
  const size_t rank = perm.size();
  kept = 0;
  while (kept < rank && perm[kept] == static_cast<int64_t>(kept)) kept++;
  if (kept + 2 > rank) return false;
  split = static_cast<size_t>(perm[kept]);  // the first axis of the block that moves to the front
  for (size_t i = kept; i < rank; i++) {
    const size_t expected = i - kept < rank - split ? split + (i - kept) : kept + (i - kept - (rank - split));
    if (perm[i] != static_cast<int64_t>(expected)) return false;
  }
  return true;
}

}  // namespace

void hostTranspose(const uint32_t* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm,
                   uint32_t* out) {
  const size_t rank = shape.size();
  size_t kept = 0, split = 0;
  if (isBlockSwap(perm, kept, split)) {
    int64_t batch = 1, rows = 1, cols = 1;
    for (size_t i = 0; i < kept; i++) batch *= shape[i];
    for (size_t i = kept; i < split; i++) rows *= shape[i];
    for (size_t i = split; i < rank; i++) cols *= shape[i];
    if (rows > 1 && cols > 1) {
      transposeMatrices(x, out, batch, rows, cols);
      return;
    }
  }
  std::vector<int64_t> xStride(rank, 1), outShape(rank), step(rank);
  for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; i--) xStride[i] = xStride[i + 1] * shape[i + 1];
  int64_t total = 1;
  for (size_t i = 0; i < rank; i++) {
    outShape[i] = shape[perm[i]];
    step[i] = xStride[perm[i]];
    total *= outShape[i];
  }
  if (total == 0) return;
  // Row by row of the output's last dimension: a straight copy when that dimension is also the input's last.
  const int64_t inner = outShape[rank - 1], innerStep = step[rank - 1];
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t row = 0; row < total / inner; row++) {
    const uint32_t* src = x + offset;
    uint32_t* dst = out + row * inner;
    if (innerStep == 1)
      std::memcpy(dst, src, static_cast<size_t>(inner) * sizeof(uint32_t));
    else
      for (int64_t i = 0; i < inner; i++) dst[i] = src[i * innerStep];
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; d--) {
      offset += step[d];
      if (++index[d] < outShape[d]) break;
      offset -= step[d] * outShape[d];
      index[d] = 0;
    }
  }
}

}  // namespace fulmen

// The fused cell updates of the recurrent layers (core's LSTM_CELL / GRU_CELL kernel pairs): each time step's
// gate arithmetic in one kernel instead of a dozen tfjs ops forward and two dozen backward. The forward pass
// keeps its activations (`act`) for the backward pass, which is then arithmetic only, as the op-by-op path's is.
#pragma once

#include <cstdint>

namespace fulmen {

/**
 * LSTM cell update, PyTorch's gate order i, f, g, o: `gates [batch, 4·hidden]` (both projections summed) and
 * `c [batch, hidden]` give `cy = σ(f)·c + σ(i)·tanh(g)`, `h = σ(o)·tanh(cy)`, and `act [batch, 5·hidden]`
 * (σ(i), σ(f), tanh(g), σ(o), tanh(cy)), each step rounded to float32 as the op-by-op path rounds it.
 */
void hostLstmCell(const float* gates, const float* c, float* h, float* cy, float* act, int64_t batch,
                  int64_t hidden);

/**
 * The LSTM cell update's gradient from `dh`, `dcy`, the previous cell state and the forward's `act`: into `out`,
 * the gradient of the gates (`wrtGates`, `[batch, 4·hidden]`) or of `c` (`[batch, hidden]`).
 */
void hostLstmCellGrad(const float* dh, const float* dcy, const float* c, const float* act, float* out,
                      int64_t batch, int64_t hidden, bool wrtGates);

/**
 * GRU cell update, PyTorch's gate order r, z, n: `gi`, `gh [batch, 3·hidden]` (input and hidden projections,
 * biases included) and `h` give `hy = (h - n)·z + n` with `r = σ(gi_r + gh_r)`, `z = σ(gi_z + gh_z)`,
 * `n = tanh(gi_n + r·gh_n)`, and `act [batch, 3·hidden]` (r, z, n), each step rounded as the op-by-op path.
 */
void hostGruCell(const float* gi, const float* gh, const float* h, float* hy, float* act, int64_t batch,
                 int64_t hidden);

/** What {@link hostGruCellGrad} differentiates with respect to. */
enum class GruGradOf : int32_t { InputGates = 0, HiddenGates = 1, Hidden = 2 };

/**
 * The GRU cell update's gradient from `dhy`, `gh`, `h` and the forward's `act`: into `out`, the gradient of
 * `gi`, `gh` (`[batch, 3·hidden]`) or `h` (`[batch, hidden]`).
 */
void hostGruCellGrad(const float* dhy, const float* gh, const float* h, const float* act, float* out, int64_t batch,
                     int64_t hidden, GruGradOf wrt);

}  // namespace fulmen

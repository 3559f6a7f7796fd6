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

/** One layer direction of a whole-sequence recurrence: `steps` × `batch` rows of `hidden` features. */
struct RecurrenceShape {
  int64_t steps;
  int64_t batch;
  int64_t hidden;
  bool reverse;  // run from the last step to the first (a bidirectional layer's second direction)
};

/**
 * An LSTM layer in one direction over a whole sequence: per step (in time order, or reversed), `gates = gi[t] +
 * (h·W_hhᵀ + b_hh)`, then {@link hostLstmCell}. `gi [T, B, 4H]` is the input projection with `b_ih`,
 * `weightHh [4H, H]`, `biasHh [4H]` or null, `h0`, `c0 [B, H]`. Writes `output [T, B, H]`, `hN`, `cN [B, H]`,
 * and for the gradient the cell states `cells [T, B, H]` and activations `act [T, B, 5H]`. The same GEMM and
 * roundings as the step-by-step path, so the same bits.
 */
void hostLstmSequence(const float* gi, const float* weightHh, const float* biasHh, const float* h0, const float* c0,
                      float* output, float* hN, float* cN, float* cells, float* act, const RecurrenceShape& shape);

/**
 * The gradient of {@link hostLstmSequence} from `dOutput [T, B, H]`, `dhN`, `dcN [B, H]` and the forward's
 * values: into `dgi [T, B, 4H]` (also the gradient of every step's hidden projection), `dWeightHh [4H, H]` (one
 * GEMM over all steps), `dBiasHh [4H]`, `dh0` and `dc0 [B, H]`.
 */
void hostLstmSequenceGrad(const float* dOutput, const float* dhN, const float* dcN, const float* weightHh,
                          const float* h0, const float* c0, const float* output, const float* cells, const float* act,
                          float* dgi, float* dWeightHh, float* dBiasHh, float* dh0, float* dc0,
                          const RecurrenceShape& shape);

/**
 * A GRU layer in one direction over a whole sequence: per step `gh[t] = h·W_hhᵀ + b_hh`, then {@link hostGruCell}.
 * `gi [T, B, 3H]` (with `b_ih`), `weightHh [3H, H]`, `biasHh [3H]` or null, `h0 [B, H]`. Writes `output [T, B, H]`,
 * `hN [B, H]`, and for the gradient `gh [T, B, 3H]` and `act [T, B, 3H]`; the step-by-step path's bits.
 */
void hostGruSequence(const float* gi, const float* weightHh, const float* biasHh, const float* h0, float* output,
                     float* hN, float* gh, float* act, const RecurrenceShape& shape);

/**
 * The gradient of {@link hostGruSequence} from `dOutput [T, B, H]`, `dhN [B, H]` and the forward's values: into
 * `dgi [T, B, 3H]`, `dWeightHh [3H, H]`, `dBiasHh [3H]` and `dh0 [B, H]`.
 */
void hostGruSequenceGrad(const float* dOutput, const float* dhN, const float* weightHh, const float* h0,
                         const float* output, const float* gh, const float* act, float* dgi, float* dWeightHh,
                         float* dBiasHh, float* dh0, const RecurrenceShape& shape);

}  // namespace fulmen

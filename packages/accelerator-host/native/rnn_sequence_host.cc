// Whole-sequence LSTM and GRU layers (core's LSTM_SEQUENCE / GRU_SEQUENCE kernel pairs). Step by step, each time
// step was a GEMM, two bias additions and a cell kernel forward and twice that backward, each a tfjs dispatch and
// tape entry; here the time loop runs natively, and the backward's weight gradient is one GEMM over all steps
// instead of one per step.
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "rnn.h"
#include "scratch.h"
#include "vector_clones.h"

namespace fulmen {

namespace {
// out = (out + bias) + input, each addition in double rounded to float32 as the element-wise kernels round it
// (the step-by-step path adds the hidden bias, then the input projection).
FULMEN_VECTOR_CLONES void addBiasThenInput(float* out, const float* bias, const float* input, int64_t rows,
                                           int64_t width) {
  for (int64_t r = 0; r < rows; r++) {
    float* o = out + r * width;
    if (bias != nullptr)
      for (int64_t j = 0; j < width; j++) o[j] = static_cast<float>(double{o[j]} + double{bias[j]});
    if (input != nullptr)
      for (int64_t j = 0; j < width; j++) o[j] = static_cast<float>(double{input[r * width + j]} + double{o[j]});
  }
}

FULMEN_VECTOR_CLONES void addInto(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

// One row of the LSTM cell's gradient: the gates' and the previous cell state's at once.
FULMEN_VECTOR_CLONES void lstmGradRow(const float* dh, const float* dcy, const float* c, const float* a,
                                      float* dGates, float* dc, int64_t hidden) {
  const float *i = a, *f = a + hidden, *g = a + 2 * hidden, *o = a + 3 * hidden, *tc = a + 4 * hidden;
  for (int64_t j = 0; j < hidden; j++) {
    const float dCell = dcy[j] + dh[j] * o[j] * (1.0f - tc[j] * tc[j]);
    dGates[j] = dCell * g[j] * i[j] * (1.0f - i[j]);
    dGates[hidden + j] = dCell * c[j] * f[j] * (1.0f - f[j]);
    dGates[2 * hidden + j] = dCell * i[j] * (1.0f - g[j] * g[j]);
    dGates[3 * hidden + j] = dh[j] * tc[j] * o[j] * (1.0f - o[j]);
    dc[j] = dCell * f[j];
  }
}

// One row of the GRU cell's gradient: its input gates', hidden gates' and the previous state's direct part.
FULMEN_VECTOR_CLONES void gruGradRow(const float* dhy, const float* gh, const float* h, const float* a, float* dgi,
                                     float* dgh, float* dh, int64_t hidden) {
  const float *r = a, *z = a + hidden, *n = a + 2 * hidden, *hn = gh + 2 * hidden;
  for (int64_t j = 0; j < hidden; j++) {
    const float dnPre = dhy[j] * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
    const float dr = dnPre * hn[j] * r[j] * (1.0f - r[j]);
    const float dz = dhy[j] * (h[j] - n[j]) * z[j] * (1.0f - z[j]);
    dgi[j] = dr;
    dgi[hidden + j] = dz;
    dgi[2 * hidden + j] = dnPre;
    dgh[j] = dr;
    dgh[hidden + j] = dz;
    dgh[2 * hidden + j] = dnPre * r[j];
    dh[j] = dhy[j] * z[j];
  }
}

// Column sums of `rows` × `width` values, in row order (double accumulators).
void columnSums(const float* values, int64_t rows, int64_t width, float* out) {
  std::vector<double> sums(static_cast<size_t>(width), 0.0);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < width; j++) sums[j] += values[r * width + j];
  for (int64_t j = 0; j < width; j++) out[j] = static_cast<float>(sums[j]);
}

// The time index of processing step k, and of the step processed before it (the previous state's owner).
int64_t timeOf(const RecurrenceShape& s, int64_t k) { return s.reverse ? s.steps - 1 - k : k; }

// The previous hidden state of every step, in time order ([T, B, H]): h0 for the first step processed, else the
// output of the step before it. The rows the weight gradient's one GEMM multiplies.
// (Into `prev`, [T, B, H].)
void previousStates(const float* h0, const float* output, const RecurrenceShape& s, float* prev) {
  const int64_t block = s.batch * s.hidden;
  for (int64_t k = 0; k < s.steps; k++) {
    const float* from = k == 0 ? h0 : output + timeOf(s, k - 1) * block;
    std::memcpy(prev + timeOf(s, k) * block, from, static_cast<size_t>(block) * sizeof(float));
  }
}

// `dWeightHh [G, H] = dGatesᵀ [G, T·B] · previous states [T·B, H]`, and the bias gradient, over all steps at once.
void weightGradients(const float* dGates, const float* h0, const float* output, int64_t gates, float* dWeightHh,
                     float* dBiasHh, const RecurrenceShape& s) {
  const ScratchFloats prev(7, static_cast<size_t>(s.steps * s.batch * s.hidden));
  previousStates(h0, output, s, prev.data());
  const int rows = static_cast<int>(s.steps * s.batch);
  hostBatchMatMul(dGates, prev.data(), dWeightHh, 1, 1, static_cast<int>(gates), static_cast<int>(s.hidden), rows,
                  true, false);
  columnSums(dGates, rows, gates, dBiasHh);
}
}  // namespace

void hostLstmSequence(const float* gi, const float* weightHh, const float* biasHh, const float* h0, const float* c0,
                      float* output, float* hN, float* cN, float* cells, float* act, const RecurrenceShape& s) {
  const int64_t B = s.batch, H = s.hidden, G = 4 * H;
  const ScratchFloats gateValues(0, static_cast<size_t>(B * G));
  float* gates = gateValues.data();
  const float* h = h0;
  const float* c = c0;
  for (int64_t k = 0; k < s.steps; k++) {
    const int64_t t = timeOf(s, k);
    hostBatchMatMul(h, weightHh, gates, 1, 1, static_cast<int>(B), static_cast<int>(G), static_cast<int>(H),
                    false, true);
    addBiasThenInput(gates, biasHh, gi + t * B * G, B, G);
    hostLstmCell(gates, c, output + t * B * H, cells + t * B * H, act + t * B * 5 * H, B, H);
    h = output + t * B * H;
    c = cells + t * B * H;
  }
  std::memcpy(hN, h, static_cast<size_t>(B * H) * sizeof(float));
  std::memcpy(cN, c, static_cast<size_t>(B * H) * sizeof(float));
}

void hostLstmSequenceGrad(const float* dOutput, const float* dhN, const float* dcN, const float* weightHh,
                          const float* h0, const float* c0, const float* output, const float* cells, const float* act,
                          float* dgi, float* dWeightHh, float* dBiasHh, float* dh0, float* dc0,
                          const RecurrenceShape& s) {
  const int64_t B = s.batch, H = s.hidden, G = 4 * H, block = B * H;
  // dh: the gradient reaching the step's hidden state from later steps (dhN for the last); dc likewise.
  std::vector<float> dh(dhN, dhN + block), dc(dcN, dcN + block), dhStep(static_cast<size_t>(block)),
      dcPrev(static_cast<size_t>(block));
  for (int64_t k = s.steps - 1; k >= 0; k--) {
    const int64_t t = timeOf(s, k);
    const float* cPrev = k == 0 ? c0 : cells + timeOf(s, k - 1) * block;
    addInto(dhStep.data(), dh.data(), dOutput + t * block, block);
    for (int64_t b = 0; b < B; b++)
      lstmGradRow(dhStep.data() + b * H, dc.data() + b * H, cPrev + b * H, act + (t * B + b) * 5 * H,
                  dgi + (t * B + b) * G, dcPrev.data() + b * H, H);
    // Through h·W_hhᵀ: the previous hidden state's gradient.
    hostBatchMatMul(dgi + t * B * G, weightHh, dh.data(), 1, 1, static_cast<int>(B), static_cast<int>(H),
                    static_cast<int>(G), false, false);
    dc.swap(dcPrev);
  }
  std::memcpy(dh0, dh.data(), static_cast<size_t>(block) * sizeof(float));
  std::memcpy(dc0, dc.data(), static_cast<size_t>(block) * sizeof(float));
  weightGradients(dgi, h0, output, G, dWeightHh, dBiasHh, s);
}

void hostGruSequence(const float* gi, const float* weightHh, const float* biasHh, const float* h0, float* output,
                     float* hN, float* gh, float* act, const RecurrenceShape& s) {
  const int64_t B = s.batch, H = s.hidden, G = 3 * H;
  const float* h = h0;
  for (int64_t k = 0; k < s.steps; k++) {
    const int64_t t = timeOf(s, k);
    float* ght = gh + t * B * G;
    hostBatchMatMul(h, weightHh, ght, 1, 1, static_cast<int>(B), static_cast<int>(G), static_cast<int>(H), false,
                    true);
    addBiasThenInput(ght, biasHh, nullptr, B, G);
    hostGruCell(gi + t * B * G, ght, h, output + t * B * H, act + t * B * G, B, H);
    h = output + t * B * H;
  }
  std::memcpy(hN, h, static_cast<size_t>(B * H) * sizeof(float));
}

void hostGruSequenceGrad(const float* dOutput, const float* dhN, const float* weightHh, const float* h0,
                         const float* output, const float* gh, const float* act, float* dgi, float* dWeightHh,
                         float* dBiasHh, float* dh0, const RecurrenceShape& s) {
  const int64_t B = s.batch, H = s.hidden, G = 3 * H, block = B * H;
  std::vector<float> dh(dhN, dhN + block), dhStep(static_cast<size_t>(block)), dhDirect(static_cast<size_t>(block));
  const ScratchFloats hiddenGatesGrad(0, static_cast<size_t>(s.steps * B * G));
  float* dgh = hiddenGatesGrad.data();
  for (int64_t k = s.steps - 1; k >= 0; k--) {
    const int64_t t = timeOf(s, k);
    const float* hPrev = k == 0 ? h0 : output + timeOf(s, k - 1) * block;
    addInto(dhStep.data(), dh.data(), dOutput + t * block, block);
    for (int64_t b = 0; b < B; b++)
      gruGradRow(dhStep.data() + b * H, gh + (t * B + b) * G, hPrev + b * H, act + (t * B + b) * G,
                 dgi + (t * B + b) * G, dgh + (t * B + b) * G, dhDirect.data() + b * H, H);
    // The previous state's gradient: directly through the update, and through h·W_hhᵀ.
    hostBatchMatMul(dgh + t * B * G, weightHh, dh.data(), 1, 1, static_cast<int>(B), static_cast<int>(H),
                    static_cast<int>(G), false, false);
    addInto(dh.data(), dh.data(), dhDirect.data(), block);
  }
  std::memcpy(dh0, dh.data(), static_cast<size_t>(block) * sizeof(float));
  weightGradients(dgh, h0, output, G, dWeightHh, dBiasHh, s);
}

}  // namespace fulmen

#include "rnn.h"

#include "elementwise_ops.h"
#include "vector_clones.h"

namespace fulmen {

namespace {
// Sigmoid and tanh over a run, as the op-by-op kernels compute them (both vectorise).
FULMEN_VECTOR_CLONES void sigmoidRun(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = unaryOp<UnaryOp::Sigmoid>(x[i]);
}

FULMEN_VECTOR_CLONES void tanhRun(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = unaryOp<UnaryOp::Tanh>(x[i]);
}

FULMEN_VECTOR_CLONES void lstmCellState(const float* a, const float* c, float* cy, int64_t hidden) {
  const float *i = a, *f = a + hidden, *g = a + 2 * hidden;
  for (int64_t j = 0; j < hidden; j++) {
    const float kept = f[j] * c[j];
    const float added = i[j] * g[j];
    cy[j] = kept + added;
  }
}

FULMEN_VECTOR_CLONES void lstmHidden(const float* a, float* h, int64_t hidden) {
  const float *o = a + 3 * hidden, *tc = a + 4 * hidden;
  for (int64_t j = 0; j < hidden; j++) h[j] = o[j] * tc[j];
}

FULMEN_VECTOR_CLONES void lstmGrad(const float* dh, const float* dcy, const float* c, const float* a, float* out,
                                   int64_t hidden, bool wrtGates) {
  const float *i = a, *f = a + hidden, *g = a + 2 * hidden, *o = a + 3 * hidden, *tc = a + 4 * hidden;
  for (int64_t j = 0; j < hidden; j++) {
    // The gradient reaching the new cell state: its own, and through h = o·tanh(cy).
    const float dCell = dcy[j] + dh[j] * o[j] * (1.0f - tc[j] * tc[j]);
    if (!wrtGates) {
      out[j] = dCell * f[j];
      continue;
    }
    out[j] = dCell * g[j] * i[j] * (1.0f - i[j]);
    out[hidden + j] = dCell * c[j] * f[j] * (1.0f - f[j]);
    out[2 * hidden + j] = dCell * i[j] * (1.0f - g[j] * g[j]);
    out[3 * hidden + j] = dh[j] * tc[j] * o[j] * (1.0f - o[j]);
  }
}

FULMEN_VECTOR_CLONES void sumRun(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

FULMEN_VECTOR_CLONES void gruCandidateInput(const float* xn, const float* r, const float* hn, float* out,
                                            int64_t hidden) {
  for (int64_t j = 0; j < hidden; j++) out[j] = xn[j] + r[j] * hn[j];
}

FULMEN_VECTOR_CLONES void gruHidden(const float* h, const float* z, const float* n, float* hy, int64_t hidden) {
  // PyTorch's order: (h - n)·z + n.
  for (int64_t j = 0; j < hidden; j++) hy[j] = (h[j] - n[j]) * z[j] + n[j];
}

FULMEN_VECTOR_CLONES void gruGrad(const float* dhy, const float* gh, const float* h, const float* a, float* out,
                                  int64_t hidden, int32_t wrt) {
  const float *r = a, *z = a + hidden, *n = a + 2 * hidden, *hn = gh + 2 * hidden;
  for (int64_t j = 0; j < hidden; j++) {
    if (wrt == 2) {
      out[j] = dhy[j] * z[j];
      continue;
    }
    // Through n's pre-activation (gi_n + r·gh_n), then r's and z's.
    const float dnPre = dhy[j] * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
    out[j] = dnPre * hn[j] * r[j] * (1.0f - r[j]);
    out[hidden + j] = dhy[j] * (h[j] - n[j]) * z[j] * (1.0f - z[j]);
    out[2 * hidden + j] = wrt == 0 ? dnPre : dnPre * r[j];
  }
}
}  // namespace

void hostLstmCell(const float* gates, const float* c, float* h, float* cy, float* act, int64_t batch,
                  int64_t hidden) {
  for (int64_t b = 0; b < batch; b++) {
    const float* g = gates + b * 4 * hidden;
    float* a = act + b * 5 * hidden;
    sigmoidRun(g, a, 2 * hidden);                          // i, f
    tanhRun(g + 2 * hidden, a + 2 * hidden, hidden);       // g
    sigmoidRun(g + 3 * hidden, a + 3 * hidden, hidden);    // o
    lstmCellState(a, c + b * hidden, cy + b * hidden, hidden);
    tanhRun(cy + b * hidden, a + 4 * hidden, hidden);      // tanh(cy)
    lstmHidden(a, h + b * hidden, hidden);
  }
}

void hostLstmCellGrad(const float* dh, const float* dcy, const float* c, const float* act, float* out,
                      int64_t batch, int64_t hidden, bool wrtGates) {
  const int64_t width = wrtGates ? 4 * hidden : hidden;
  for (int64_t b = 0; b < batch; b++)
    lstmGrad(dh + b * hidden, dcy + b * hidden, c + b * hidden, act + b * 5 * hidden, out + b * width, hidden,
             wrtGates);
}

void hostGruCell(const float* gi, const float* gh, const float* h, float* hy, float* act, int64_t batch,
                 int64_t hidden) {
  for (int64_t b = 0; b < batch; b++) {
    const float* x = gi + b * 3 * hidden;
    const float* p = gh + b * 3 * hidden;
    float* a = act + b * 3 * hidden;
    sumRun(x, p, a, 2 * hidden);
    sigmoidRun(a, a, 2 * hidden);  // r, z
    gruCandidateInput(x + 2 * hidden, a, p + 2 * hidden, a + 2 * hidden, hidden);
    tanhRun(a + 2 * hidden, a + 2 * hidden, hidden);  // n
    gruHidden(h + b * hidden, a + hidden, a + 2 * hidden, hy + b * hidden, hidden);
  }
}

void hostGruCellGrad(const float* dhy, const float* gh, const float* h, const float* act, float* out, int64_t batch,
                     int64_t hidden, GruGradOf wrt) {
  const int64_t width = wrt == GruGradOf::Hidden ? hidden : 3 * hidden;
  for (int64_t b = 0; b < batch; b++)
    gruGrad(dhy + b * hidden, gh + b * 3 * hidden, h + b * hidden, act + b * 3 * hidden, out + b * width, hidden,
            static_cast<int32_t>(wrt));
}

}  // namespace fulmen

#include <algorithm>
#include <cmath>

#include "elementwise.h"
#include "elementwise_ops.h"
#include "half_ops.h"
#include "parallel.h"
#include "vector_clones.h"

namespace fulmen {

namespace {

// out = f(a, b) with a and b broadcast to out's shape; Out is float for arithmetic, uint8 (tfjs's bool) for
// comparisons.
template <typename Out, typename F>
void broadcastLoop(F f, const float* a, const std::vector<int64_t>& aShape, const float* b,
                   const std::vector<int64_t>& bShape, Out* out, const std::vector<int64_t>& outShape) {
  const size_t rank = outShape.size();
  int64_t total = 1;
  for (auto d : outShape) total *= d;
  int64_t aSize = 1, bSize = 1;
  for (auto d : aShape) aSize *= d;
  for (auto d : bShape) bSize *= d;
  if (aSize == total && bSize == total) {
    for (int64_t i = 0; i < total; i++) out[i] = f(a[i], b[i]);
    return;
  }
  // One side a scalar, the other whole: no index arithmetic, so the loop vectorises.
  if (bSize == 1 && aSize == total) {
    const float s = b[0];
    for (int64_t i = 0; i < total; i++) out[i] = f(a[i], s);
    return;
  }
  if (aSize == 1 && bSize == total) {
    const float s = a[0];
    for (int64_t i = 0; i < total; i++) out[i] = f(s, b[i]);
    return;
  }
  // General broadcast: strides aligned to the output's rank, 0 along broadcast dimensions.
  std::vector<int64_t> aStride(rank, 0), bStride(rank, 0);
  int64_t sa = 1, sb = 1;
  for (size_t k = 0; k < rank; k++) {
    const size_t axis = rank - 1 - k;
    const int64_t ad = k < aShape.size() ? aShape[aShape.size() - 1 - k] : 1;
    const int64_t bd = k < bShape.size() ? bShape[bShape.size() - 1 - k] : 1;
    aStride[axis] = ad == 1 ? 0 : sa;
    bStride[axis] = bd == 1 ? 0 : sb;
    sa *= ad;
    sb *= bd;
  }
  const int64_t innerSize = outShape[rank - 1];
  const int64_t innerA = aStride[rank - 1], innerB = bStride[rank - 1];
  std::vector<int64_t> index(rank, 0);
  for (int64_t row = 0; row < total / innerSize; row++) {
    int64_t offA = 0, offB = 0;
    for (size_t d = 0; d + 1 < rank; d++) {
      offA += index[d] * aStride[d];
      offB += index[d] * bStride[d];
    }
    Out* o = out + row * innerSize;
    const float* ra = a + offA;
    const float* rb = b + offB;
    // The innermost dimension with each side either running or fixed, spelled out so that loops vectorise.
    if (innerA == 1 && innerB == 1)
      for (int64_t i = 0; i < innerSize; i++) o[i] = f(ra[i], rb[i]);
    else if (innerA == 1 && innerB == 0)
      for (int64_t i = 0; i < innerSize; i++) o[i] = f(ra[i], rb[0]);
    else if (innerA == 0 && innerB == 1)
      for (int64_t i = 0; i < innerSize; i++) o[i] = f(ra[0], rb[i]);
    else
      for (int64_t i = 0; i < innerSize; i++) o[i] = f(ra[i * innerA], rb[i * innerB]);
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; d--) {
      if (++index[d] < outShape[d]) break;
      index[d] = 0;
    }
  }
}

template <BinaryOp Op>
void binaryLoop(const float* a, const std::vector<int64_t>& aShape, const float* b, const std::vector<int64_t>& bShape,
                float* out, const std::vector<int64_t>& outShape) {
  broadcastLoop<float>([](float x, float y) { return binaryOp<Op>(x, y); }, a, aShape, b, bShape, out, outShape);
}

template <CompareOp Op>
void compareLoop(const float* a, const std::vector<int64_t>& aShape, const float* b,
                 const std::vector<int64_t>& bShape, uint8_t* out, const std::vector<int64_t>& outShape) {
  broadcastLoop<uint8_t>([](float x, float y) { return compareOp<Op>(x, y); }, a, aShape, b, bShape, out, outShape);
}

}  // namespace

FULMEN_VECTOR_CLONES void hostBinary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                const std::vector<int64_t>& bShape, float* out, const std::vector<int64_t>& outShape) {
  switch (op) {
    case BinaryOp::Add: return binaryLoop<BinaryOp::Add>(a, aShape, b, bShape, out, outShape);
    case BinaryOp::Sub: return binaryLoop<BinaryOp::Sub>(a, aShape, b, bShape, out, outShape);
    case BinaryOp::Mul: return binaryLoop<BinaryOp::Mul>(a, aShape, b, bShape, out, outShape);
    case BinaryOp::Div: return binaryLoop<BinaryOp::Div>(a, aShape, b, bShape, out, outShape);
    case BinaryOp::Max: return binaryLoop<BinaryOp::Max>(a, aShape, b, bShape, out, outShape);
    case BinaryOp::Min: return binaryLoop<BinaryOp::Min>(a, aShape, b, bShape, out, outShape);
    case BinaryOp::SquaredDifference:
      return binaryLoop<BinaryOp::SquaredDifference>(a, aShape, b, bShape, out, outShape);
  }
}

FULMEN_VECTOR_CLONES void hostCompare(CompareOp op, const float* a, const std::vector<int64_t>& aShape,
                                      const float* b, const std::vector<int64_t>& bShape, uint8_t* out,
                                      const std::vector<int64_t>& outShape) {
  switch (op) {
    case CompareOp::Greater: return compareLoop<CompareOp::Greater>(a, aShape, b, bShape, out, outShape);
    case CompareOp::GreaterEqual: return compareLoop<CompareOp::GreaterEqual>(a, aShape, b, bShape, out, outShape);
    case CompareOp::Less: return compareLoop<CompareOp::Less>(a, aShape, b, bShape, out, outShape);
    case CompareOp::LessEqual: return compareLoop<CompareOp::LessEqual>(a, aShape, b, bShape, out, outShape);
    case CompareOp::Equal: return compareLoop<CompareOp::Equal>(a, aShape, b, bShape, out, outShape);
    case CompareOp::NotEqual: return compareLoop<CompareOp::NotEqual>(a, aShape, b, bShape, out, outShape);
  }
}

FULMEN_VECTOR_CLONES void hostSelect(const uint8_t* condition, const float* t, const float* e, float* out,
                                     size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = condition[i] == 1 ? t[i] : e[i];
}

// tfjs compares with the bounds as JavaScript doubles and stores the chosen bound in float32.
FULMEN_VECTOR_CLONES void hostClip(const float* x, float* out, size_t n, double lo, double hi) {
  const float loF = static_cast<float>(lo), hiF = static_cast<float>(hi);
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    out[i] = v > hi ? hiF : (v < lo ? loF : x[i]);
  }
}

// Inputs added one after another into a float32 sum, as tfjs's AddN does.
FULMEN_VECTOR_CLONES void hostAddN(const float* const* inputs, size_t count, float* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = 0.0f;
  for (size_t k = 0; k < count; k++) {
    const float* in = inputs[k];
    for (size_t i = 0; i < n; i++) out[i] = out[i] + in[i];
  }
}

// The largest (or smallest) value over the block, first one kept on ties, NaN as soon as one is seen: tfjs's
// maxImpl/minImpl in its order.
void hostExtremumMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner, bool max) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const float* src = x + o * reduce * inner + i;
      float best = src[0];
      for (int64_t r = 1; r < reduce; r++) {
        const float v = src[r * inner];
        if (std::isnan(v) || (max ? v > best : v < best)) best = v;
      }
      out[o * inner + i] = best;
    }
}

namespace {
template <UnaryOp Op>
inline void unaryLoop(const float* x, float* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = unaryOp<Op>(x[i]);
}

FULMEN_VECTOR_CLONES void unaryChunk(UnaryOp op, const float* x, float* out, size_t n) {
  switch (op) {
    case UnaryOp::Sqrt: return unaryLoop<UnaryOp::Sqrt>(x, out, n);
    case UnaryOp::Relu: return unaryLoop<UnaryOp::Relu>(x, out, n);
    case UnaryOp::Exp: return unaryLoop<UnaryOp::Exp>(x, out, n);
    case UnaryOp::Log: return unaryLoop<UnaryOp::Log>(x, out, n);
    case UnaryOp::Neg: return unaryLoop<UnaryOp::Neg>(x, out, n);
    case UnaryOp::Square: return unaryLoop<UnaryOp::Square>(x, out, n);
    case UnaryOp::Abs: return unaryLoop<UnaryOp::Abs>(x, out, n);
    case UnaryOp::Tanh: return unaryLoop<UnaryOp::Tanh>(x, out, n);
    case UnaryOp::Sigmoid: return unaryLoop<UnaryOp::Sigmoid>(x, out, n);
    case UnaryOp::Rsqrt: return unaryLoop<UnaryOp::Rsqrt>(x, out, n);
    case UnaryOp::Erf: return unaryLoop<UnaryOp::Erf>(x, out, n);
  }
}
}  // namespace

void hostUnary(UnaryOp op, const float* x, float* out, size_t n) {
  // A second thread pays once a chunk takes well over the ~0.1 ms it costs to wake one here: from 2·131072
  // elements for transcendental functions, from 2·524288 for the memory-bound rest.
  const bool heavy = op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Tanh || op == UnaryOp::Sigmoid ||
                     op == UnaryOp::Erf;
  parallelFor(static_cast<int64_t>(n), heavy ? 131072 : 524288,
              [&](int64_t begin, int64_t end) { unaryChunk(op, x + begin, out + begin, end - begin); });
}

static FULMEN_VECTOR_CLONES void roundHalfChunk(HalfFormat format, const float* x, float* out, int64_t n) {
  if (format == HalfFormat::Float16)
    for (int64_t i = 0; i < n; i++) out[i] = roundToFloat16(x[i]);
  else
    for (int64_t i = 0; i < n; i++) out[i] = roundToBfloat16(x[i]);
}

void hostRoundHalf(int32_t format, const float* x, float* out, size_t n) {
  parallelFor(static_cast<int64_t>(n), 131072, [&](int64_t begin, int64_t end) {
    roundHalfChunk(static_cast<HalfFormat>(format), x + begin, out + begin, end - begin);
  });
}

void hostStep(const float* x, float* out, size_t n, float alpha) {
  for (size_t i = 0; i < n; i++) out[i] = std::isnan(x[i]) ? NAN : (x[i] > 0 ? 1.0f : alpha);
}

namespace {

// out[o, i] = Σ_r f(x[o, r, i]) in double, in order; `count` > 0 divides each value first (tfjs's mean).
FULMEN_VECTOR_CLONES void reduceMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner,
                                       double count) {
  if (inner == 1) {
    // Each row sums into one accumulator, a chain of dependent additions; eight rows side by side keep the
    // adder busy while every row still adds its values in order.
    constexpr int64_t kRows = 8;
    int64_t o = 0;
    for (; o + kRows <= outer; o += kRows) {
      double acc[kRows] = {};
      const float* src = x + o * reduce;
      for (int64_t r = 0; r < reduce; r++)
        for (int64_t j = 0; j < kRows; j++) {
          const double v = src[j * reduce + r];
          acc[j] += count > 0 ? static_cast<float>(v / count) : v;
        }
      for (int64_t j = 0; j < kRows; j++) out[o + j] = static_cast<float>(acc[j]);
    }
    for (; o < outer; o++) {
      double acc = 0;
      for (int64_t r = 0; r < reduce; r++) {
        const double v = x[o * reduce + r];
        acc += count > 0 ? static_cast<float>(v / count) : v;
      }
      out[o] = static_cast<float>(acc);
    }
    return;
  }
  std::vector<double> acc(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; o++) {
    std::fill(acc.begin(), acc.end(), 0.0);
    const float* src = x + o * reduce * inner;
    for (int64_t r = 0; r < reduce; r++) {
      const float* row = src + r * inner;
      if (count > 0)
        for (int64_t i = 0; i < inner; i++) acc[i] += static_cast<float>(row[i] / count);
      else
        for (int64_t i = 0; i < inner; i++) acc[i] += row[i];
    }
    for (int64_t i = 0; i < inner; i++) out[o * inner + i] = static_cast<float>(acc[i]);
  }
}

}  // namespace

void hostSumMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner) {
  reduceMiddle(x, out, outer, reduce, inner, 0);
}

void hostMeanMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner) {
  reduceMiddle(x, out, outer, reduce, inner, static_cast<float>(reduce));
}

}  // namespace fulmen

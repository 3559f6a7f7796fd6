// Element-wise kernels with NumPy broadcasting, and sums over a contiguous block of axes. Each op is a small
// functor, so the same math can serve a device launcher; on the host a loop runs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fulmen {

enum class BinaryOp : int32_t { Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5, SquaredDifference = 6 };
enum class UnaryOp : int32_t { Sqrt = 0, Relu = 1, Exp = 2, Log = 3, Neg = 4, Square = 5, Abs = 6, Tanh = 7, Sigmoid = 8, Rsqrt = 9, Erf = 10 };

enum class CompareOp : int32_t { Greater = 0, GreaterEqual = 1, Less = 2, LessEqual = 3, Equal = 4, NotEqual = 5 };

/** out = a (op) b as 1 or 0 (tfjs's bool), a and b broadcast to out's shape. */
void hostCompare(CompareOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                 const std::vector<int64_t>& bShape, uint8_t* out, const std::vector<int64_t>& outShape);

/** out = condition ? t : e, element by element (all of one size). */
void hostSelect(const uint8_t* condition, const float* t, const float* e, float* out, size_t n);

/** tfjs's ClipByValue: x above hi becomes hi, below lo becomes lo (bounds compared as doubles); NaN stays. */
void hostClip(const float* x, float* out, size_t n, double lo, double hi);

/** The element-wise sum of `count` arrays of `n` values, added in order in float32. */
void hostAddN(const float* const* inputs, size_t count, float* out, size_t n);

/** Max (or min) over one contiguous block of axes, with tfjs's NaN and tie rules. */
void hostExtremumMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner, bool max);

/** out = a (op) b, where a, b and out have the given shapes (a and b broadcast to out's). */
void hostBinary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                const std::vector<int64_t>& bShape, float* out, const std::vector<int64_t>& outShape);

/** out = x rounded to float16 (format 0) or bfloat16 (format 1), as float32 values (native/half_ops.h). */
void hostRoundHalf(int32_t format, const float* x, float* out, size_t n);

/** out = op(x) for `n` elements. */
void hostUnary(UnaryOp op, const float* x, float* out, size_t n);

/** out = x > 0 ? 1 : alpha, NaN stays NaN (tfjs's Step, the gradient of relu). */
void hostStep(const float* x, float* out, size_t n, float alpha);

/** out[o, i] = Σ_r x[o, r, i]: a sum over one contiguous block of axes, in order, in double (as tfjs's cpu). */
void hostSumMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner);

/** The mean over the same block, as tfjs computes it: each value divided by the count (to float32), then summed. */
void hostMeanMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner);

}  // namespace fulmen

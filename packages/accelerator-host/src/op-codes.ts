// The op codes of the engine's element-wise kernels (native/elementwise.h), by tfjs kernel name; the host and
// device backends share them.

/** Binary ops by tfjs kernel name, with the engine's op codes (native/elementwise.h). */
export const BINARY: Record<string, number> = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
};

/** Unary ops by tfjs kernel name. */
export const UNARY: Record<string, number> = {
  Sqrt: 0,
  Relu: 1,
  Exp: 2,
  Log: 3,
  Neg: 4,
  Square: 5,
  Abs: 6,
  Tanh: 7,
  Sigmoid: 8,
  Rsqrt: 9,
  Erf: 10,
};

/** Comparisons by tfjs kernel name, with the engine's op codes; they output tfjs's bool (0/1 bytes). */
export const COMPARE: Record<string, number> = {
  Greater: 0,
  GreaterEqual: 1,
  Less: 2,
  LessEqual: 3,
  Equal: 4,
  NotEqual: 5,
};

import { followInputOp } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { backendHasKernels, fusedGelu, GELU_GRAD_KERNEL, GELU_KERNEL } from "../fused-kernels";
import { float32UnderAutocast, pointwise } from "./pointwise";

/**
 * PyTorch's activation functions (`torch.nn.functional.relu` …), shared by the activation modules. Their
 * gradients follow PyTorch's `derivatives.yaml` at the kinks (relu, leaky_relu, elu, hardtanh, hardswish,
 * hardsigmoid, prelu), which is why several are written with `tf.where` or `tf.customGrad` rather than tfjs's
 * own kernels. Every function keeps a half-precision input half (autocast's "follow the input" rule).
 */

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `"none"`: exact `x·Φ(x)` via erf (default); `"tanh"`: PyTorch's tanh approximation. */
  approximate?: "none" | "tanh";
}

/** Options of {@link leakyRelu}. */
export interface LeakyReluOptions {
  /** The slope for x ≤ 0 (default 0.01). */
  negativeSlope?: number;
}

/** Options of {@link elu}. */
export interface EluOptions {
  /** The saturation value for negative inputs (default 1). */
  alpha?: number;
}

/** Options of {@link softplus}. */
export interface SoftplusOptions {
  /** `log(1 + exp(beta·x)) / beta` (default 1). */
  beta?: number;
  /** Above `beta·x > threshold` the function is the identity, as in PyTorch (default 20). */
  threshold?: number;
}

/** Options of {@link hardtanh}. */
export interface HardtanhOptions {
  /** Lower bound (default -1). */
  minVal?: number;
  /** Upper bound (default 1). */
  maxVal?: number;
}

/** Options of the functions that work along one dimension ({@link softmax}, {@link logSoftmax}, {@link glu}). */
export interface DimOptions {
  /** The dimension (negative counts from the end). */
  dim?: number;
}

/** `max(0, x)`, like `F.relu`; its gradient at 0 is 0, as PyTorch's. */
export function relu(x: tf.Tensor): tf.Tensor {
  return followInputOp(tf.relu, x);
}

/** The hyperbolic tangent, like `F.tanh`. */
export function tanh(x: tf.Tensor): tf.Tensor {
  return followInputOp(tf.tanh, x);
}

/** The logistic sigmoid, like `F.sigmoid`. */
export function sigmoid(x: tf.Tensor): tf.Tensor {
  return followInputOp(tf.sigmoid, x);
}

/** Checks a GELU `approximate` value; returns it with its default. */
export function checkGeluApproximate(owner: string, approximate: unknown): "none" | "tanh" {
  const value = approximate ?? "none";
  if (value !== "none" && value !== "tanh") {
    throw new FulmenError(`${owner}: approximate must be 'none' or 'tanh', got ${String(value)}.`);
  }
  return value;
}

/**
 * The Gaussian error linear unit, like `F.gelu`: exact (`x·Φ(x)`, via erf) by default, or PyTorch's tanh
 * approximation with `approximate: "tanh"`.
 */
export function gelu(x: tf.Tensor, options: GeluOptions = {}): tf.Tensor {
  checkOptionNames("gelu", options, ["approximate"]);
  const approximate = checkGeluApproximate("gelu", options.approximate);
  return followInputOp(
    (v) =>
      tf.tidy(() => {
        if (approximate === "tanh") {
          const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(v, tf.mul(0.044715, tf.pow(v, 3))));
          return tf.mul(tf.mul(0.5, v), tf.add(1, tf.tanh(inner)));
        }
        if (v.dtype === "float32" && backendHasKernels(GELU_KERNEL, GELU_GRAD_KERNEL)) return fusedGelu(v);
        return tf.mul(tf.mul(0.5, v), tf.add(1, tf.erf(tf.mul(v, Math.SQRT1_2))));
      }),
    x,
  );
}

/** `x·sigmoid(x)`, like `F.silu` (swish). */
export function silu(x: tf.Tensor): tf.Tensor {
  return followInputOp((v) => tf.tidy(() => tf.mul(v, tf.sigmoid(v))), x);
}

/** `x` for x > 0, `negativeSlope·x` otherwise, like `F.leaky_relu`: its gradient at 0 is the slope, as PyTorch's. */
export function leakyRelu(x: tf.Tensor, options: LeakyReluOptions = {}): tf.Tensor {
  checkOptionNames("leakyRelu", options, ["negativeSlope"]);
  const slope = options.negativeSlope ?? 0.01;
  checkNumber("leakyRelu", "negativeSlope", slope, Number.isFinite, "a finite number");
  // PyTorch's leaky_relu_backward takes the identity branch only where x > 0.
  return pointwise(
    (v) => tf.where(tf.greater(v, 0), v, tf.mul(v, slope)),
    (v) => tf.where(tf.greater(v, 0), tf.onesLike(v), tf.fill(v.shape, slope)),
  )(x);
}

/** `scale·(x > 0 ? x : alpha·(exp(x) − 1))`: the shared body of ELU and SELU (negative branch at 0, as PyTorch). */
function scaledElu(x: tf.Tensor, alpha: number, scale: number): tf.Tensor {
  // elu_backward: x <= 0 gives scale·alpha·exp(x); exp of min(x, 0) so that the unused branch cannot overflow.
  return pointwise(
    (v) => {
      const y = tf.where(tf.greater(v, 0), v, tf.mul(alpha, tf.expm1(tf.minimum(v, 0))));
      return scale === 1 ? y : tf.mul(y, scale);
    },
    (v) =>
      tf.where(tf.greater(v, 0), tf.fill(v.shape, scale), tf.mul(alpha * scale, tf.exp(tf.minimum(v, 0)))),
  )(x);
}

/** The exponential linear unit, like `F.elu`: `x > 0 ? x : alpha·(exp(x) − 1)`; gradient `alpha` at 0 as PyTorch's. */
export function elu(x: tf.Tensor, options: EluOptions = {}): tf.Tensor {
  checkOptionNames("elu", options, ["alpha"]);
  const alpha = options.alpha ?? 1;
  checkNumber("elu", "alpha", alpha, Number.isFinite, "a finite number");
  return scaledElu(x, alpha, 1);
}

/** PyTorch's SELU constants (Klambauer et al.). */
export const SELU_ALPHA = 1.6732632423543772;
/** PyTorch's SELU scale. */
export const SELU_SCALE = 1.0507009873554805;

/** The scaled exponential linear unit, like `F.selu`. */
export function selu(x: tf.Tensor): tf.Tensor {
  return scaledElu(x, SELU_ALPHA, SELU_SCALE);
}

/** Checks softplus options; returns them with their defaults. */
export function softplusOptions(owner: string, options: SoftplusOptions): Required<SoftplusOptions> {
  checkOptionNames(owner, options, ["beta", "threshold"]);
  const beta = options.beta ?? 1;
  const threshold = options.threshold ?? 20;
  checkNumber(owner, "beta", beta, (v) => Number.isFinite(v) && v !== 0, "a finite non-zero number");
  checkNumber(owner, "threshold", threshold, (v) => !Number.isNaN(v), "a number");
  return { beta, threshold };
}

/**
 * `log(1 + exp(beta·x)) / beta`, like `F.softplus`, and the identity where `beta·x > threshold` (gradient 1
 * there, PyTorch's `softplus_backward`).
 */
export function softplus(x: tf.Tensor, options: SoftplusOptions = {}): tf.Tensor {
  const { beta, threshold } = softplusOptions("softplus", options);
  // The smooth branch sees beta·x capped at the threshold, so exp never overflows where it is not used;
  // softplus_backward: 1 above the threshold, exp(bx)/(exp(bx) + 1) = sigmoid(bx) below.
  return pointwise(
    (v) => {
      const bx = tf.mul(v, beta);
      const smooth = tf.div(tf.log1p(tf.exp(tf.minimum(bx, threshold))), beta);
      return tf.where(tf.greater(bx, threshold), v, smooth);
    },
    (v) => {
      const bx = tf.mul(v, beta);
      return tf.where(tf.greater(bx, threshold), tf.onesLike(v), tf.sigmoid(tf.minimum(bx, threshold)));
    },
    float32UnderAutocast,
  )(x);
}

/**
 * `x·tanh(softplus(x))`, like `F.mish`, with PyTorch's `mish_backward` written out: autograd through
 * `log1p(exp(x))` gives 0·inf = NaN where exp overflows.
 */
export function mish(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    (save as tf.GradSaveFunc)([input]);
    const value = tf.tidy(() => tf.mul(input, tf.tanh(tf.log1p(tf.exp(input)))));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const s = saved[0]!;
          const t = tf.tanh(tf.log1p(tf.exp(s)));
          const dt = tf.mul(tf.mul(s, tf.sigmoid(s)), tf.sub(1, tf.square(t)));
          return tf.mul(dy, tf.add(t, dt));
        }),
    };
  });
  return followInputOp((v) => op(v), x);
}

/**
 * Elements handled per step by PyTorch 1.13's vectorised CPU loop on float32 (two AVX2 vectors of 8): the
 * elements after the last full step of a tensor go through its scalar loop instead.
 */
const TORCH_CPU_VECTOR_STEP = 16;

/**
 * `x·relu6(x + 3)/6`, like `F.hardswish`, with PyTorch's gradient: 0 below -3, `x/3 + 0.5` on [-3, 3), 1 above
 * 3. At exactly 3 PyTorch's two CPU loops disagree: the vectorised one (every full step of 16 elements) gives 1,
 * the scalar one (the last `numel % 16` elements of the tensor, in row-major order) gives `3/3 + 0.5 = 1.5`; both
 * are reproduced, position by position. (Above PyTorch's parallel grain of 32768 elements each thread's chunk
 * has its own scalar tail, which depends on the thread count and is not modelled.)
 */
export function hardswish(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    (save as tf.GradSaveFunc)([input]);
    const value = tf.tidy(() => tf.mul(input, tf.div(tf.clipByValue(tf.add(input, 3), 0, 6), 6)));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const s = saved[0]!;
          const middle = tf.add(tf.div(s, 3), 0.5);
          const tailStart = s.size - (s.size % TORCH_CPU_VECTOR_STEP);
          // the middle branch ends before 3 in the vectorised loop, at 3 inclusive in the scalar tail
          let inMiddle = tf.less(s, 3);
          if (tailStart < s.size) {
            const inTail = tf.reshape(tf.greaterEqual(tf.range(0, s.size, 1, "int32"), tailStart), s.shape);
            inMiddle = tf.where(inTail, tf.lessEqual(s, 3), inMiddle);
          }
          const slope = tf.where(tf.less(s, -3), tf.zerosLike(s), tf.where(inMiddle, middle, tf.onesLike(s)));
          return tf.mul(dy, slope);
        }),
    };
  });
  return followInputOp((v) => op(v), x);
}

/** `relu6(x + 3)/6`, like `F.hardsigmoid`; its gradient is 1/6 strictly inside (-3, 3), 0 elsewhere (PyTorch). */
export function hardsigmoid(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    (save as tf.GradSaveFunc)([input]);
    const value = tf.tidy(() => tf.div(tf.clipByValue(tf.add(input, 3), 0, 6), 6));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const s = saved[0]!;
          const inside = tf.logicalAnd(tf.greater(s, -3), tf.less(s, 3));
          return tf.where(inside, tf.div(dy, 6), tf.zerosLike(dy));
        }),
    };
  });
  return followInputOp((v) => op(v), x);
}

/** Checks hardtanh bounds; returns them with their defaults. */
export function hardtanhOptions(owner: string, options: HardtanhOptions): Required<HardtanhOptions> {
  checkOptionNames(owner, options, ["minVal", "maxVal"]);
  const minVal = options.minVal ?? -1;
  const maxVal = options.maxVal ?? 1;
  checkNumber(owner, "minVal", minVal, (v) => !Number.isNaN(v), "a number");
  // PyTorch asserts max_val > min_val.
  checkNumber(owner, "maxVal", maxVal, (v) => v > minVal, `a number above minVal (${minVal})`);
  return { minVal, maxVal };
}

/**
 * `clamp(x, minVal, maxVal)`, like `F.hardtanh`; its gradient is 0 at the bounds themselves, as PyTorch's
 * `hardtanh_backward` (`x <= min || x >= max`).
 */
export function hardtanh(x: tf.Tensor, options: HardtanhOptions = {}): tf.Tensor {
  const { minVal, maxVal } = hardtanhOptions("hardtanh", options);
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    (save as tf.GradSaveFunc)([input]);
    return {
      value: tf.clipByValue(input, minVal, maxVal),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const s = saved[0]!;
          // not (x <= min or x >= max): a NaN passes the gradient, as PyTorch's
          const outside = tf.logicalOr(tf.lessEqual(s, minVal), tf.greaterEqual(s, maxVal));
          return tf.where(outside, tf.zerosLike(dy), dy);
        }),
    };
  });
  return followInputOp((v) => op(v), x);
}

/**
 * `x > 0 ? x : weight·x`, like `F.prelu`: `weight` holds one slope, or one per channel (dimension 1 of the
 * input). Gradients as PyTorch's: the slope at x = 0, and no weight gradient from x = 0.
 */
export function prelu(x: tf.Tensor, weight: tf.Tensor): tf.Tensor {
  if (!(weight instanceof tf.Tensor)) throw new FulmenError("prelu: weight must be a tensor.");
  const n = weight.size;
  if (n !== 1 && (x.rank < 2 || x.shape[1] !== n)) {
    throw new FulmenError(
      `prelu: weight has ${n} slopes but the input (shape [${x.shape}]) has ${x.rank < 2 ? "no channel dimension" : `${x.shape[1]} channels`}; use one slope, or one per channel (dimension 1).`,
    );
  }
  // The weight broadcast against x: one slope, or [C, 1, ...] for dimension 1.
  const broadcastShape = n === 1 ? Array<number>(x.rank).fill(1) : [n, ...Array<number>(x.rank - 2).fill(1)];
  const op = tf.customGrad(
    (v: tf.Tensor | tf.GradSaveFunc, w: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
      const input = v as tf.Tensor;
      const slopes = w as tf.Tensor;
      (save as tf.GradSaveFunc)([input, slopes]);
      return {
        value: tf.tidy(() =>
          tf.where(tf.greater(input, 0), input, tf.mul(input, tf.reshape(slopes, broadcastShape))),
        ),
        // PyTorch's prelu backward: dx = dy·(x > 0 ? 1 : w); dw sums dy·x over x ≤ 0 (nothing from x = 0).
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [s, ws] = saved as [tf.Tensor, tf.Tensor];
            const positive = tf.greater(s, 0);
            const dx = tf.where(positive, dy, tf.mul(dy, tf.reshape(ws, broadcastShape)));
            const perElement = tf.where(positive, tf.zerosLike(dy), tf.mul(dy, s));
            const axes = Array.from({ length: s.rank }, (_, i) => i).filter((i) => n === 1 || i !== 1);
            const dw = tf.reshape(axes.length > 0 ? tf.sum(perElement, axes) : perElement, ws.shape);
            return [dx, dw];
          }),
      };
    },
  );
  return tf.tidy(() => {
    const w = weight.dtype === x.dtype ? weight : tf.cast(weight, x.dtype);
    return op(x, w);
  });
}

/** `dim` of a dim-wise function as a non-negative axis of `x`. */
function resolveDim(owner: string, dim: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new FulmenError(
      `${owner}: dim ${dim} is out of range for an input of ${rank} dimensions; use -${r}..${r - 1}.`,
    );
  }
  return dim < 0 ? dim + r : dim;
}

/** The `dim` of a call that takes `dim` or `{ dim }`. */
function dimOf(
  owner: string,
  dimOrOptions: number | DimOptions | undefined,
  fallback: number | null,
): number {
  if (typeof dimOrOptions === "number") return dimOrOptions;
  checkOptionNames(owner, dimOrOptions, ["dim"]);
  const dim = dimOrOptions?.dim ?? fallback;
  if (dim === null) {
    throw new FulmenError(`${owner}: pass the dimension to work along, e.g. ${owner}(x, { dim: -1 }).`);
  }
  return dim;
}

/** Runs a last-axis op `fn` along `axis` (by moving that axis last and back). */
function alongAxis(x: tf.Tensor, axis: number, fn: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  if (x.rank === 0) return tf.reshape(fn(tf.reshape(x, [1])), []);
  if (axis === x.rank - 1) return fn(x);
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[axis] = x.rank - 1;
  perm[x.rank - 1] = axis;
  return tf.transpose(fn(tf.transpose(x, perm)), perm);
}

/**
 * PyTorch's legacy choice of dimension for `nn.Softmax()`/`nn.LogSoftmax()` built without one
 * (`_get_softmax_dim`): 0 for inputs of 0, 1 or 3 dimensions, else 1.
 */
export function implicitSoftmaxDim(rank: number): number {
  return rank === 0 || rank === 1 || rank === 3 ? 0 : 1;
}

/** `exp(x) / sum(exp(x))` along `dim`, like `F.softmax` (a number or `{ dim }`). */
export function softmax(x: tf.Tensor, dim: number | DimOptions): tf.Tensor {
  const d = resolveDim("softmax", dimOf("softmax", dim, null), x.rank);
  return float32UnderAutocast((v) => tf.tidy(() => alongAxis(v, d, (t) => tf.softmax(t))), x);
}

/** `log(softmax(x))` along `dim`, computed stably, like `F.log_softmax` (a number or `{ dim }`). */
export function logSoftmax(x: tf.Tensor, dim: number | DimOptions): tf.Tensor {
  const d = resolveDim("logSoftmax", dimOf("logSoftmax", dim, null), x.rank);
  return float32UnderAutocast((v) => tf.tidy(() => alongAxis(v, d, (t) => tf.logSoftmax(t))), x);
}

/** The gated linear unit, like `F.glu`: `a·sigmoid(b)` for the two halves a, b of `x` along `dim` (default -1). */
export function glu(x: tf.Tensor, dim: number | DimOptions = {}): tf.Tensor {
  if (x.rank === 0)
    throw new FulmenError("glu: does not take a 0-dimensional input; give it at least one dimension.");
  const d = resolveDim("glu", dimOf("glu", dim, -1), x.rank);
  const size = x.shape[d]!;
  if (size % 2 !== 0) {
    throw new FulmenError(
      `glu: halving dimension ${d} needs an even size, got ${size} (input shape [${x.shape}]).`,
    );
  }
  return followInputOp(
    (v) =>
      tf.tidy(() => {
        const [a, b] = tf.split(v, 2, d);
        return tf.mul(a!, tf.sigmoid(b!));
      }),
    x,
  );
}

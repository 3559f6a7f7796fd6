import { backendFeatures } from "../../runtime/backend-features";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber } from "../../utils/options";
import { asBatch } from "./conv";
import { maxPoolIndices, type PoolWindows } from "./max-indices";
import { checkOptions, type IntTuple, tuple } from "./tuples";

/** Options of every max and average pooling, as PyTorch's keywords (stride defaults to the kernel size). */
export interface PoolOptions {
  /** The step of the window, one number or one per spatial dimension; null or absent for the kernel size. */
  stride?: IntTuple | null;
  /** Implicit padding on both sides (−∞ for max pooling, zeros for average pooling). */
  padding?: IntTuple;
  /**
   * Round the output size up instead of down, so that a partial window at the end is pooled too — except one
   * that would start in the right padding, which PyTorch drops (default false).
   */
  ceilMode?: boolean;
}

/** Options of the max poolings: those of every pooling and the dilation. */
export interface MaxPoolOptions extends PoolOptions {
  /** The spacing between a window's taps, as PyTorch's `dilation` (default 1). */
  dilation?: IntTuple;
  /**
   * Also return each maximum's flat position within its input plane, int32 (default false), as PyTorch's
   * `return_indices`: the result is then `[output, indices]`, the input of `maxUnpool1d/2d/3d`.
   */
  returnIndices?: boolean;
}

/** Options of the average poolings: those of every pooling and the divisor's. */
export interface AvgPoolOptions extends PoolOptions {
  /** Count the zero padding in each window's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead of by its size. */
  divisorOverride?: number | null;
}

/** A pooling's arguments, resolved, in 2-D form (a 1-D pooling is a height-1 one). */
export interface PoolPlan {
  owner: string;
  spatialDims: 1 | 2;
  kernelSize: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
  /** Max or average (with its divisor's rules). */
  kind: { max: true } | { max: false; countIncludePad: boolean; divisorOverride: number | null };
}

const POOL_OPTIONS = ["stride", "padding", "ceilMode"] as const;
/** The option names of the max poolings. */
export const MAX_POOL_OPTIONS = [...POOL_OPTIONS, "dilation", "returnIndices"] as const;
/** The option names of the 1-D average poolings (PyTorch's have no divisor override). */
export const AVG_POOL1D_OPTIONS = [...POOL_OPTIONS, "countIncludePad"] as const;
/** The option names of the average poolings. */
export const AVG_POOL_OPTIONS = [...POOL_OPTIONS, "countIncludePad", "divisorOverride"] as const;

function lift(spatialDims: 1 | 2, v: number[], one: number): [number, number] {
  return spatialDims === 1 ? [one, v[0]!] : [v[0]!, v[1]!];
}

/** Checks and resolves a max pooling's arguments (the shared part of `MaxPool1d/2d` and `maxPool1d/2d`). */
export function maxPoolPlan(
  owner: string,
  spatialDims: 1 | 2,
  kernelSize: IntTuple,
  options: MaxPoolOptions,
): PoolPlan {
  checkOptions(owner, options, MAX_POOL_OPTIONS);
  return basePlan(owner, spatialDims, kernelSize, options, options.dilation ?? 1, { max: true });
}

/** Checks and resolves an average pooling's arguments (the shared part of `AvgPool1d/2d` and `avgPool1d/2d`). */
export function avgPoolPlan(
  owner: string,
  spatialDims: 1 | 2,
  kernelSize: IntTuple,
  options: AvgPoolOptions,
): PoolPlan {
  return basePlan(owner, spatialDims, kernelSize, options, 1, avgKind(owner, options));
}

/** Checks an average pooling's options and resolves its divisor's rules (every average pooling's). */
export function avgKind(owner: string, options: AvgPoolOptions): PoolPlan["kind"] {
  checkOptions(owner, options, AVG_POOL_OPTIONS);
  const countIncludePad = options.countIncludePad ?? true;
  if (typeof countIncludePad !== "boolean") {
    throw new FulmenError(`${owner}: countIncludePad must be true or false, got ${String(countIncludePad)}.`);
  }
  const divisorOverride = options.divisorOverride ?? null;
  if (divisorOverride !== null) {
    checkNumber(
      owner,
      "divisorOverride",
      divisorOverride,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
  }
  return { max: false, countIncludePad, divisorOverride };
}

function basePlan(
  owner: string,
  spatialDims: 1 | 2,
  kernelSize: IntTuple,
  options: PoolOptions,
  dilation: IntTuple,
  kind: PoolPlan["kind"],
): PoolPlan {
  const kernel = tuple(owner, "kernelSize", kernelSize, spatialDims, 1);
  const plan: PoolPlan = {
    owner,
    spatialDims,
    kernelSize: lift(spatialDims, kernel, 1),
    stride: lift(spatialDims, tuple(owner, "stride", options.stride ?? kernelSize, spatialDims, 1), 1),
    padding: lift(spatialDims, tuple(owner, "padding", options.padding ?? 0, spatialDims, 0), 0),
    dilation: lift(spatialDims, tuple(owner, "dilation", dilation, spatialDims, 1), 1),
    ceilMode: options.ceilMode ?? false,
    kind,
  };
  if (typeof plan.ceilMode !== "boolean")
    throw new FulmenError(`${owner}: ceilMode must be true or false, got ${String(plan.ceilMode)}.`);
  const [eh, ew] = extent(plan);
  if (plan.padding[0] * 2 > eh || plan.padding[1] * 2 > ew) {
    const dilated = plan.dilation.some((d) => d > 1);
    throw new FulmenError(
      `${owner}: padding [${show(plan, plan.padding)}] must be at most half the ${dilated ? "dilated window's extent" : "kernel size"} [${show(plan, [eh, ew])}] (as in PyTorch).`,
    );
  }
  return plan;
}

/** A 2-D-form pair as the user wrote it: one number for a 1-D pooling. */
function show(plan: PoolPlan, v: [number, number]): string {
  return plan.spatialDims === 1 ? String(v[1]) : String(v);
}

/** Each window's extent, `(k − 1)·d + 1` per dimension. */
function extent(plan: PoolPlan): [number, number] {
  return [(plan.kernelSize[0] - 1) * plan.dilation[0] + 1, (plan.kernelSize[1] - 1) * plan.dilation[1] + 1];
}

/** One spatial dimension of a pooling: output size and the input range each window covers. */
export interface AxisPlan {
  /** Number of windows. */
  out: number;
  /** Padding to add before the input (PyTorch's padding) and after it (or, negative, input to drop). */
  before: number;
  after: number;
}

/**
 * PyTorch's pooling output size: ⌊(L + 2p − k)/s⌋ + 1 (⌈⌉ in ceil mode), less one in ceil mode when the last
 * window would start at or past L + p (inside the right padding only). `kernel` is the window's extent,
 * `(k − 1)·d + 1` with dilation.
 */
export function planAxis(
  length: number,
  kernel: number,
  stride: number,
  padding: number,
  ceil: boolean,
): AxisPlan {
  const span = length + 2 * padding - kernel;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= length + padding) out -= 1;
  // The windows cover [−p, (out − 1)·s + k − p): pad (or crop) the end to exactly that.
  return { out, before: padding, after: (out - 1) * stride + kernel - padding - length };
}

/**
 * Pools batched or unbatched input by `plan` (`[N, C, L]`/`[C, L]` for 1-D, `[N, C, H, W]`/`[C, H, W]` for
 * 2-D): the computation of the pooling modules and functions.
 */
export function poolNd(plan: PoolPlan, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const layout = plan.spatialDims === 1 ? "C, L" : "C, H, W";
    const batch = asBatch(plan.owner, x, plan.spatialDims, layout);
    const input = (plan.spatialDims === 1 ? tf.expandDims(batch, 2) : batch) as tf.Tensor4D;
    const [, , h, w] = input.shape;
    const [eh, ew] = extent(plan);
    const plans: [AxisPlan, AxisPlan] = [
      planAxis(h, eh, plan.stride[0], plan.padding[0], plan.ceilMode),
      planAxis(w, ew, plan.stride[1], plan.padding[1], plan.ceilMode),
    ];
    if (plans[0].out < 1 || plans[1].out < 1) {
      throw new FulmenError(
        `${plan.owner}: input of shape [${x.shape}] is too small for kernelSize [${show(plan, plan.kernelSize)}] with padding [${show(plan, plan.padding)}]; the output would be empty.`,
      );
    }
    const run = (nhwc: tf.Tensor4D) => poolWindows(plan, fitToWindows(plan, nhwc, plans), plans, [h, w]);
    const y = backendFeatures().channelsFirst ? poolPlanes(input, run) : poolChannelsLast(input, run);
    const out = plan.spatialDims === 1 ? tf.squeeze(y, [2]) : y;
    return batch === x ? out : tf.squeeze(out, [0]);
  });
}

/**
 * Pads an NHWC tensor (with the pooling's fill value) to the rows and columns the windows cover. Rows and columns
 * past the last window (PyTorch's floor mode) stay: tfjs's "valid" windows stop at the same place, as the counts
 * agree (PyTorch's ⌊(L + 2p − k)/s⌋ + 1 windows all fit in the first L + p, so tfjs makes as many there), and
 * cropping them would cost a slice and, in backward, a pad of the whole tensor.
 */
function fitToWindows(plan: PoolPlan, x: tf.Tensor4D, [rows, cols]: [AxisPlan, AxisPlan]): tf.Tensor4D {
  const padH: [number, number] = [rows.before, Math.max(rows.after, 0)];
  const padW: [number, number] = [cols.before, Math.max(cols.after, 0)];
  if (padH[0] + padH[1] + padW[0] + padW[1] === 0) return x;
  const fill = plan.kind.max ? Number.NEGATIVE_INFINITY : 0;
  return tf.pad(x, [[0, 0], padH, padW, [0, 0]], fill) as tf.Tensor4D;
}

/** Pools each channel's plane as a one-channel NHWC image: a reshape either side, where a backend pools those fast. */
function poolPlanes(input: tf.Tensor4D, run: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  const [n, c, h, w] = input.shape;
  const y = run(tf.reshape(input, [n * c, h, w, 1]));
  return tf.reshape(y, [n, c, y.shape[1], y.shape[2]]);
}

/** Pools in tfjs's NHWC layout, transposing there and back. */
function poolChannelsLast(input: tf.Tensor4D, run: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(run(tf.transpose(input, [0, 2, 3, 1]) as tf.Tensor4D), [0, 3, 1, 2]);
}

/**
 * Pools an NHWC tensor whose windows start at its first row and column ("valid", as many as `plans` say);
 * `plans` describe the original rows and columns.
 */
function poolWindows(
  plan: PoolPlan,
  x: tf.Tensor4D,
  plans: [AxisPlan, AxisPlan],
  inSize: [number, number],
): tf.Tensor4D {
  if (plan.kind.max) {
    if (plan.dilation[0] === 1 && plan.dilation[1] === 1)
      return tf.maxPool(x, plan.kernelSize, plan.stride, "valid");
    return dilatedMaxPool(plan, x, plans[0].out, plans[1].out);
  }
  const { countIncludePad, divisorOverride } = plan.kind;
  const mean = tf.avgPool(x, plan.kernelSize, plan.stride, "valid");
  // tfjs divides every window by kH·kW; PyTorch's divisor varies by window where padding or a ceil-mode
  // overhang is involved: rescale by kH·kW / divisor, a constant per output position.
  const rows = divisors(plan, plans[0], inSize[0], 0, countIncludePad);
  const cols = divisors(plan, plans[1], inSize[1], 1, countIncludePad);
  const [kh, kw] = plan.kernelSize;
  if (divisorOverride === null && rows.every((r) => r === kh) && cols.every((c) => c === kw)) return mean;
  const scale = new Float32Array(rows.length * cols.length);
  rows.forEach((r, i) => {
    cols.forEach((c, j) => {
      scale[i * cols.length + j] = (kh * kw) / (divisorOverride ?? r * c);
    });
  });
  return tf.mul(mean, tf.tensor3d(scale, [rows.length, cols.length, 1])) as tf.Tensor4D;
}

/**
 * Each window's extent along one axis for the divisor, as PyTorch's avg_pool counts it: the window clipped to
 * the padded input [−p, L + p), or to the input itself [0, L) without countIncludePad.
 */
function divisors(
  plan: PoolPlan,
  axisPlan: AxisPlan,
  length: number,
  axis: 0 | 1,
  countIncludePad: boolean,
): number[] {
  const k = plan.kernelSize[axis];
  const s = plan.stride[axis];
  const p = plan.padding[axis];
  return axisDivisors(k, s, p, axisPlan, length, countIncludePad);
}

/** {@link divisors} of one axis with kernel `k`, stride `s` and padding `p` (the 3-D poolings' too). */
export function axisDivisors(
  k: number,
  s: number,
  p: number,
  axisPlan: AxisPlan,
  length: number,
  countIncludePad: boolean,
): number[] {
  return Array.from({ length: axisPlan.out }, (_, i) => {
    const start = i * s - p;
    const end = Math.min(start + k, length + p);
    return countIncludePad ? end - start : Math.min(end, length) - Math.max(start, 0);
  });
}

/**
 * tfjs's max pooling has no dilation (and tf.pool none with a stride): each tap of the window is a strided
 * slice, the output their maximum, and the gradient goes to the first tap (row-major) holding it, as
 * PyTorch's kernel scans the window.
 */
function dilatedMaxPool(plan: PoolPlan, x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
  const [kh, kw] = plan.kernelSize;
  const [dh, dw] = plan.dilation;
  const [sh, sw] = plan.stride;
  const taps: tf.Tensor[] = [];
  for (let a = 0; a < kh; a++) {
    const rows = everyNth(x, 1, a * dh, outH, sh);
    for (let b = 0; b < kw; b++) taps.push(everyNth(rows, 2, b * dw, outW, sw));
  }
  return maxOverTaps(tf.stack(taps)) as tf.Tensor4D;
}

/**
 * `count` entries of `x` along `axis`, `step` apart from `begin`: a strided slice built from slice, pad and
 * reshape, which have gradients on every backend (tfjs's StridedSlice has none).
 */
export function everyNth(x: tf.Tensor, axis: number, begin: number, count: number, step: number): tf.Tensor {
  const shape = x.shape;
  const start = shape.map((_, i) => (i === axis ? begin : 0));
  const size = shape.map((d, i) => (i === axis ? (count - 1) * step + 1 : d));
  const part = tf.slice(x, start, size);
  if (step === 1) return part;
  // Pad to count·step, fold the axis into [count, step], keep the first of each step.
  const padded = tf.pad(
    part,
    shape.map((_, i): [number, number] => (i === axis ? [0, step - 1] : [0, 0])),
  );
  const folded = tf.reshape(padded, [...shape.slice(0, axis), count, step, ...shape.slice(axis + 1)]);
  const first = tf.slice(
    folded,
    folded.shape.map(() => 0),
    folded.shape.map((d, i) => (i === axis + 1 ? 1 : d)),
  );
  return tf.reshape(first, [...shape.slice(0, axis), count, ...shape.slice(axis + 1)]);
}

/**
 * The maximum over the first axis (a window's taps), its gradient going to the first tap holding it, as
 * PyTorch's max pooling routes it (tfjs's own max gradient goes to every tie).
 */
export const maxOverTaps = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const save = args.pop() as tf.GradSaveFunc;
  const stacked = args[0] as tf.Tensor;
  const max = tf.max(stacked, 0);
  // The first tap equal to the maximum: equal to it, with no earlier tap equal (a running count of 1).
  const equal = tf.cast(tf.equal(stacked, max), "int32");
  const first = tf.mul(equal, tf.cast(tf.equal(tf.cumsum(equal, 0), 1), "int32"));
  save([tf.cast(first, "float32")]);
  return {
    value: max,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0]!, tf.expandDims(dy, 0)),
  };
});

/** The windows of a (2-D-form) pooling plan in its own number of spatial dimensions. */
export function planWindows(plan: PoolPlan): PoolWindows {
  const own = (v: [number, number]) => (plan.spatialDims === 1 ? [v[1]] : [...v]);
  return {
    kernel: own(plan.kernelSize),
    stride: own(plan.stride),
    padding: own(plan.padding),
    dilation: own(plan.dilation),
    ceilMode: plan.ceilMode,
  };
}

/**
 * A max pooling's output, and with `returnIndices` the pair `[output, indices]` (each maximum's flat position in
 * its input plane), for batched or unbatched input.
 */
export function maxPoolResult(
  output: tf.Tensor,
  input: tf.Tensor,
  spatialDims: number,
  windows: PoolWindows,
  returnIndices: boolean | undefined,
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  if (!returnIndices) return output;
  const indices = tf.tidy(() => {
    const batched = input.rank === spatialDims + 2;
    const idx = maxPoolIndices(batched ? input : tf.expandDims(input, 0), windows);
    return batched ? idx : tf.squeeze(idx, [0]);
  });
  return [output, indices];
}

/**
 * Max pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.functional.max_pool1d`; with `returnIndices`,
 * `[output, indices]`.
 */
export function maxPool1d(
  input: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxPoolOptions & { returnIndices: true },
): [tf.Tensor, tf.Tensor];
/** Max pooling over `[N, C, L]` (or `[C, L]`) input. */
export function maxPool1d(input: tf.Tensor, kernelSize: IntTuple, options?: MaxPoolOptions): tf.Tensor;
export function maxPool1d(
  input: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxPoolOptions = {},
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  const plan = maxPoolPlan("maxPool1d", 1, kernelSize, options);
  return maxPoolResult(poolNd(plan, input), input, 1, planWindows(plan), options.returnIndices);
}

/**
 * Max pooling over `[N, C, H, W]` (or `[C, H, W]`) input, like `torch.nn.functional.max_pool2d`; with
 * `returnIndices`, `[output, indices]`.
 */
export function maxPool2d(
  input: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxPoolOptions & { returnIndices: true },
): [tf.Tensor, tf.Tensor];
/** Max pooling over `[N, C, H, W]` (or `[C, H, W]`) input. */
export function maxPool2d(input: tf.Tensor, kernelSize: IntTuple, options?: MaxPoolOptions): tf.Tensor;
export function maxPool2d(
  input: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxPoolOptions = {},
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  const plan = maxPoolPlan("maxPool2d", 2, kernelSize, options);
  return maxPoolResult(poolNd(plan, input), input, 2, planWindows(plan), options.returnIndices);
}

/** Average pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.functional.avg_pool1d`. */
export function avgPool1d(
  input: tf.Tensor,
  kernelSize: IntTuple,
  options: Omit<AvgPoolOptions, "divisorOverride"> = {},
): tf.Tensor {
  // PyTorch's avg_pool1d has no divisor_override: refuse it as the unknown option it is.
  checkOptions("avgPool1d", options, AVG_POOL1D_OPTIONS);
  return poolNd(avgPoolPlan("avgPool1d", 1, kernelSize, options), input);
}

/** Average pooling over `[N, C, H, W]` (or `[C, H, W]`) input, like `torch.nn.functional.avg_pool2d`. */
export function avgPool2d(input: tf.Tensor, kernelSize: IntTuple, options: AvgPoolOptions = {}): tf.Tensor {
  return poolNd(avgPoolPlan("avgPool2d", 2, kernelSize, options), input);
}

import { backendFeatures } from "../../runtime/backend-features";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { Module } from "../module";

type Pair = number | [number, number];

function pair(owner: string, name: string, value: Pair, min: number): [number, number] {
  const p: [number, number] = typeof value === "number" ? [value, value] : value;
  if (!Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < min)) {
    throw new FulmenError(
      `${owner}: ${name} must be ${min > 0 ? "a positive" : "a non-negative"} integer or a pair of them, got ${String(value)}.`,
    );
  }
  return p;
}

/** Options of the 2-D pooling layers, as PyTorch's (stride defaults to the kernel size). */
export interface Pool2dOptions {
  stride?: Pair;
  /** Implicit padding on both sides (−∞ for max pooling, zeros for average pooling). */
  padding?: Pair;
  /**
   * Round the output size up instead of down, so that a partial window at the end is pooled too — except one
   * that would start in the right padding, which PyTorch drops (default false).
   */
  ceilMode?: boolean;
}

/** Options of {@link MaxPool2d}: those of every 2-D pooling layer and the dilation. */
export interface MaxPool2dOptions extends Pool2dOptions {
  /** The spacing between a window's taps, as PyTorch's `dilation` (default 1). */
  dilation?: Pair;
}

/** Options of {@link AvgPool2d}: those of every 2-D pooling layer and the divisor's. */
export interface AvgPool2dOptions extends Pool2dOptions {
  /** Count the zero padding in each window's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead of by its size. */
  divisorOverride?: number;
}

/** One spatial dimension of a pooling: output size and the input range each window covers. */
interface AxisPlan {
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
function planAxis(length: number, kernel: number, stride: number, padding: number, ceil: boolean): AxisPlan {
  const span = length + 2 * padding - kernel;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= length + padding) out -= 1;
  // The windows cover [−p, (out − 1)·s + k − p): pad (or crop) the end to exactly that.
  return { out, before: padding, after: (out - 1) * stride + kernel - padding - length };
}

abstract class Pool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  /** The spacing between a window's taps (1 but for a dilated max pooling). */
  readonly dilation: [number, number];

  constructor(
    owner: string,
    kernelSize: Pair,
    options: Pool2dOptions & { dilation?: Pair },
    optionNames: readonly string[],
  ) {
    super();
    checkOptionNames(owner, options, optionNames);
    this.kernelSize = pair(owner, "kernelSize", kernelSize, 1);
    this.stride = pair(owner, "stride", options.stride ?? kernelSize, 1);
    this.padding = pair(owner, "padding", options.padding ?? 0, 0);
    this.dilation = pair(owner, "dilation", options.dilation ?? 1, 1);
    this.ceilMode = options.ceilMode ?? false;
    if (typeof this.ceilMode !== "boolean")
      throw new FulmenError(`${owner}: ceilMode must be true or false, got ${String(this.ceilMode)}.`);
    const [eh, ew] = this.extent();
    if (this.padding[0] * 2 > eh || this.padding[1] * 2 > ew) {
      throw new FulmenError(
        `${owner}: padding [${this.padding}] must be at most half the ${this.dilation.some((d) => d > 1) ? "dilated window's extent" : "kernel size"} [${eh},${ew}] (as in PyTorch).`,
      );
    }
  }

  /** Each window's extent, `(k − 1)·d + 1` per dimension. */
  protected extent(): [number, number] {
    return [(this.kernelSize[0] - 1) * this.dilation[0] + 1, (this.kernelSize[1] - 1) * this.dilation[1] + 1];
  }

  /**
   * Pools an NHWC tensor whose windows tile it exactly (already padded or cropped to the plan), "valid"
   * padding; `plans` describe the original rows and columns.
   */
  protected abstract pool(x: tf.Tensor4D, plans: [AxisPlan, AxisPlan], inSize: [number, number]): tf.Tensor4D;

  /** The fill value of the padding. */
  protected abstract readonly padValue: number;

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (x.rank !== 4 && x.rank !== 3)
        throw new FulmenError(
          `${this.constructor.name}: expected [N, C, H, W] or [C, H, W], got shape [${x.shape}].`,
        );
      const input = (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
      const [, , h, w] = input.shape;
      const [eh, ew] = this.extent();
      const plans: [AxisPlan, AxisPlan] = [
        planAxis(h, eh, this.stride[0], this.padding[0], this.ceilMode),
        planAxis(w, ew, this.stride[1], this.padding[1], this.ceilMode),
      ];
      if (plans[0].out < 1 || plans[1].out < 1) {
        throw new FulmenError(
          `${this.constructor.name}: input of shape [${x.shape}] is too small for kernelSize [${this.kernelSize}] with padding [${this.padding}]; the output would be empty.`,
        );
      }
      const run = (nhwc: tf.Tensor4D) => this.pool(this.fit(nhwc, plans), plans, [h, w]);
      const y = backendFeatures().channelsFirst
        ? this.poolPlanes(input, run)
        : this.poolChannelsLast(input, run);
      return x.rank === 3 ? tf.squeeze(y, [0]) : y;
    });
  }

  /** Pads (with the pooling's fill value) or crops an NHWC tensor to exactly the rows and columns the windows cover. */
  private fit(x: tf.Tensor4D, [rows, cols]: [AxisPlan, AxisPlan]): tf.Tensor4D {
    const [n, h, w, c] = x.shape;
    const cropH = Math.min(rows.after, 0);
    const cropW = Math.min(cols.after, 0);
    const cropped =
      cropH < 0 || cropW < 0 ? (tf.slice(x, [0, 0, 0, 0], [n, h + cropH, w + cropW, c]) as tf.Tensor4D) : x;
    const padH: [number, number] = [rows.before, Math.max(rows.after, 0)];
    const padW: [number, number] = [cols.before, Math.max(cols.after, 0)];
    if (padH[0] + padH[1] + padW[0] + padW[1] === 0) return cropped;
    return tf.pad(cropped, [[0, 0], padH, padW, [0, 0]], this.padValue) as tf.Tensor4D;
  }

  /** Pools each channel's plane as a one-channel NHWC image: a reshape either side, where a backend pools those fast. */
  private poolPlanes(input: tf.Tensor4D, run: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor {
    const [n, c, h, w] = input.shape;
    const y = run(tf.reshape(input, [n * c, h, w, 1]));
    return tf.reshape(y, [n, c, y.shape[1], y.shape[2]]);
  }

  /** Pools in tfjs's NHWC layout, transposing there and back. */
  private poolChannelsLast(input: tf.Tensor4D, run: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor {
    return tf.transpose(run(tf.transpose(input, [0, 2, 3, 1]) as tf.Tensor4D), [0, 3, 1, 2]);
  }

  protected override extraRepr(): string {
    return `kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}], ceilMode=${this.ceilMode}`;
  }
}

const POOL_OPTIONS = ["stride", "padding", "ceilMode"] as const;

/**
 * Max pooling over NCHW input, like `torch.nn.MaxPool2d` (padding counts as −∞; the gradient goes to the first
 * maximum of each window, in row-major order), dilated windows included. `returnIndices` is not supported.
 */
export class MaxPool2d extends Pool2d {
  protected readonly padValue = Number.NEGATIVE_INFINITY;

  constructor(kernelSize: Pair, options: MaxPool2dOptions = {}) {
    super("MaxPool2d", kernelSize, options, [...POOL_OPTIONS, "dilation"]);
  }

  protected pool(x: tf.Tensor4D, [rows, cols]: [AxisPlan, AxisPlan]): tf.Tensor4D {
    if (this.dilation[0] === 1 && this.dilation[1] === 1)
      return tf.maxPool(x, this.kernelSize, this.stride, "valid");
    return this.dilatedPool(x, rows.out, cols.out);
  }

  /**
   * tfjs's max pooling has no dilation (and tf.pool none with a stride): each tap of the window is a strided
   * slice, the output their maximum, and the gradient goes to the first tap (row-major) holding it, as
   * PyTorch's kernel scans the window.
   */
  private dilatedPool(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
    const [kh, kw] = this.kernelSize;
    const [dh, dw] = this.dilation;
    const [sh, sw] = this.stride;
    const taps: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) {
      const rows = everyNth(x, 1, a * dh, outH, sh);
      for (let b = 0; b < kw; b++) taps.push(everyNth(rows, 2, b * dw, outW, sw));
    }
    return maxOverTaps(tf.stack(taps)) as tf.Tensor4D;
  }

  protected override extraRepr(): string {
    const dilated = this.dilation[0] > 1 || this.dilation[1] > 1;
    return `${super.extraRepr()}${dilated ? `, dilation=[${this.dilation}]` : ""}`;
  }
}

/**
 * `count` entries of `x` along `axis`, `step` apart from `begin`: a strided slice built from slice, pad and
 * reshape, which have gradients on every backend (tfjs's StridedSlice has none).
 */
function everyNth(x: tf.Tensor, axis: number, begin: number, count: number, step: number): tf.Tensor {
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
const maxOverTaps = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
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

/**
 * Average pooling over NCHW input, like `torch.nn.AvgPool2d`: each window's sum over its size, the zero
 * padding included (`countIncludePad`, default) or not; a window that runs past the padding in ceil mode
 * counts only what lies within input and padding, as PyTorch does. `divisorOverride` replaces the divisor.
 */
export class AvgPool2d extends Pool2d {
  protected readonly padValue = 0;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Pair, options: AvgPool2dOptions = {}) {
    super("AvgPool2d", kernelSize, options, [...POOL_OPTIONS, "countIncludePad", "divisorOverride"]);
    this.countIncludePad = options.countIncludePad ?? true;
    if (typeof this.countIncludePad !== "boolean") {
      throw new FulmenError(
        `AvgPool2d: countIncludePad must be true or false, got ${String(this.countIncludePad)}.`,
      );
    }
    this.divisorOverride = options.divisorOverride ?? null;
    if (this.divisorOverride !== null) {
      checkNumber(
        "AvgPool2d",
        "divisorOverride",
        this.divisorOverride,
        (v) => Number.isInteger(v) && v > 0,
        "a positive integer",
      );
    }
  }

  protected pool(x: tf.Tensor4D, plans: [AxisPlan, AxisPlan], inSize: [number, number]): tf.Tensor4D {
    const mean = tf.avgPool(x, this.kernelSize, this.stride, "valid");
    // tfjs divides every window by kH·kW; PyTorch's divisor varies by window where padding or a ceil-mode
    // overhang is involved: rescale by kH·kW / divisor, a constant per output position.
    const rows = this.divisors(plans[0], inSize[0], 0);
    const cols = this.divisors(plans[1], inSize[1], 1);
    const [kh, kw] = this.kernelSize;
    const area = kh * kw;
    if (this.divisorOverride === null && rows.every((r) => r === kh) && cols.every((c) => c === kw))
      return mean;
    const scale = new Float32Array(rows.length * cols.length);
    rows.forEach((r, i) => {
      cols.forEach((c, j) => {
        scale[i * cols.length + j] = area / (this.divisorOverride ?? r * c);
      });
    });
    return tf.mul(mean, tf.tensor3d(scale, [rows.length, cols.length, 1])) as tf.Tensor4D;
  }

  /**
   * Each window's extent along one axis for the divisor, as PyTorch's avg_pool2d counts it: the window
   * clipped to the padded input [−p, L + p), or to the input itself [0, L) without countIncludePad.
   */
  private divisors(plan: AxisPlan, length: number, axis: 0 | 1): number[] {
    const k = this.kernelSize[axis];
    const s = this.stride[axis];
    const p = this.padding[axis];
    return Array.from({ length: plan.out }, (_, i) => {
      const start = i * s - p;
      const end = Math.min(start + k, length + p);
      return this.countIncludePad ? end - start : Math.min(end, length) - Math.max(start, 0);
    });
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, countIncludePad=${this.countIncludePad}`;
  }
}

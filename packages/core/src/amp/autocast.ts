import { processWide, withSetting } from "../runtime/process-wide";
import { tf } from "../runtime/tfjs";

/** The half-precision formats Fulmen emulates (tfjs has no 16-bit float dtype). */
export type HalfDtype = "bfloat16" | "float16";

/**
 * A 16-bit float format: `round` maps float32 values to the nearest value of the format (round to nearest
 * even, with the format's overflow and subnormals), still stored as float32. Precision plugins provide them.
 */
export interface HalfFormat {
  /** Which half format this is: `"bfloat16"` or `"float16"`. */
  readonly dtype: HalfDtype;
  /** Rounds every element to the format; not differentiable (the autocast ops define the gradients). */
  round(t: tf.Tensor): tf.Tensor;
}

/**
 * Which autocast region is active: "mixed" (PyTorch's `torch.autocast`: matmul/conv in half, the rest as the
 * inputs are) or "true" (the whole model in half).
 */
export interface AutocastState {
  /** The half format that ops run in inside the region. */
  format: HalfFormat;
  /**
   * `"mixed"`: matmul-class ops (Linear, Conv) run in half and other ops keep their inputs' precision;
   * `"true"`: the whole model runs in half.
   */
  mode: "mixed" | "true";
}

// One per process: the precision plugin opens autocast regions and marks half tensors through its copy of core,
// and the layers read them through theirs (an ES module build and a CommonJS build can both be loaded).
const autocast = processWide("amp/autocast@1", () => ({
  active: null as AutocastState | null,
  halfTensors: new WeakMap<tf.Tensor, HalfFormat>(),
}));
const halfTensors = autocast.halfTensors;

/** Runs `fn` with `state` as the active autocast region (nesting restores the outer one). */
export function withAutocast<T>(state: AutocastState | null, fn: () => T): T {
  return withSetting(autocast, "active", state, fn);
}

/** The active autocast region, or null. */
export function currentAutocast(): AutocastState | null {
  return autocast.active;
}

/** Records that `t` holds values of a half format (as a PyTorch half tensor would be). */
export function markHalf<T extends tf.Tensor>(t: T, format: HalfFormat): T {
  halfTensors.set(t, format);
  return t;
}

/** The half format a tensor's values are in, if it is an emulated half tensor. */
export function halfFormatOf(t: tf.Tensor): HalfFormat | undefined {
  return halfTensors.get(t);
}

/** A differentiable function of tensors, as the autocast wrappers take it. */
export type Differentiable = (...xs: tf.Tensor[]) => tf.Tensor;

function customOp(
  forward: (x: tf.Tensor) => tf.Tensor,
  backward: (dy: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
): tf.Tensor {
  const op = tf.customGrad(((input: tf.Tensor) => ({
    value: forward(input),
    gradFunc: (dy: tf.Tensor) => [backward(dy)],
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
  return op(x);
}

/** Rounds values to half on the way forward; lets the gradient through unchanged. */
function roundForward(x: tf.Tensor, format: HalfFormat): tf.Tensor {
  return customOp(
    (v) => format.round(v),
    (dy) => tf.clone(dy),
    x,
  );
}

/** Leaves values unchanged on the way forward; rounds the gradient to half on the way back. */
function roundBackward(x: tf.Tensor, format: HalfFormat): tf.Tensor {
  return customOp(
    (v) => tf.clone(v),
    (dy) => format.round(dy),
    x,
  );
}

/**
 * A cast to half (`x.to(bfloat16)`): the forward rounds; the backward passes the (half) gradient through,
 * as casting it back to float32 is exact. A tensor already in the format is returned as is.
 */
export function castToHalf(x: tf.Tensor, format: HalfFormat): tf.Tensor {
  if (halfFormatOf(x) === format) return x;
  return markHalf(roundForward(x, format), format);
}

/**
 * An op computed in half: float32 arithmetic on half inputs with the output rounded to half, and the gradient
 * of each input rounded to half (as a half kernel's backward produces half gradients).
 */
export function halfOp(fn: Differentiable, inputs: tf.Tensor[], format: HalfFormat): tf.Tensor {
  const y = fn(...inputs.map((x) => roundBackward(x, format)));
  return markHalf(roundForward(y, format), format);
}

/**
 * A matmul-class op (Linear, Conv2d) under autocast: its inputs are cast to half and it runs in half. Outside
 * an autocast region it is `fn` itself.
 */
export function lowerPrecisionOp(fn: Differentiable, inputs: tf.Tensor[]): tf.Tensor {
  const state = autocast.active;
  if (state === null) return fn(...inputs);
  return halfOp(
    fn,
    inputs.map((x) => castToHalf(x, state.format)),
    state.format,
  );
}

/** An element-wise op (activations, dropout): in half when its input is half, as PyTorch keeps the input's dtype. */
export function followInputOp(fn: Differentiable, x: tf.Tensor): tf.Tensor {
  const format = halfFormatOf(x);
  return format === undefined ? fn(x) : halfOp(fn, [x], format);
}

/**
 * The upcast autocast applies before float32-only ops (losses, normalisation in mixed mode): values are
 * unchanged, and the gradient flowing back into the half tensor is rounded to half.
 */
export function toFloat32(x: tf.Tensor): tf.Tensor {
  const format = halfFormatOf(x);
  if (format === undefined) return x;
  return roundBackward(x, format);
}

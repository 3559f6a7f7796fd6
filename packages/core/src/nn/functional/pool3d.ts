import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { asBatch } from "./conv";
import type { PoolWindows } from "./max-indices";
import {
  type AvgPoolOptions,
  type AxisPlan,
  avgKind,
  axisDivisors,
  everyNth,
  MAX_POOL_OPTIONS,
  type MaxPoolOptions,
  maxOverTaps,
  maxPoolResult,
  type PoolOptions,
  type PoolPlan,
  planAxis,
} from "./pool";
import { checkOptions, type IntTuple, tuple } from "./tuples";

/** A 3-D pooling's arguments, resolved (three numbers each: depth, height, width). */
export interface Pool3dPlan {
  /** The class or function name, for messages. */
  owner: string;
  /** The window, `[kD, kH, kW]`. */
  kernelSize: number[];
  /** The step of the window (default: the kernel size). */
  stride: number[];
  /** The implicit padding on both sides. */
  padding: number[];
  /** The spacing between a window's taps (1 when averaging). */
  dilation: number[];
  /** Round the output size up (see `PoolOptions.ceilMode`). */
  ceilMode: boolean;
  /** Max or average (with its divisor's rules). */
  kind: PoolPlan["kind"];
}

/** Checks and resolves a 3-D max pooling's arguments (`MaxPool3d` and `maxPool3d`). */
export function maxPool3dPlan(owner: string, kernelSize: IntTuple, options: MaxPoolOptions): Pool3dPlan {
  checkOptions(owner, options, MAX_POOL_OPTIONS);
  return plan3d(owner, kernelSize, options, options.dilation ?? 1, { max: true });
}

/** Checks and resolves a 3-D average pooling's arguments (`AvgPool3d` and `avgPool3d`). */
export function avgPool3dPlan(owner: string, kernelSize: IntTuple, options: AvgPoolOptions): Pool3dPlan {
  return plan3d(owner, kernelSize, options, 1, avgKind(owner, options));
}

function plan3d(
  owner: string,
  kernelSize: IntTuple,
  options: PoolOptions,
  dilation: IntTuple,
  kind: PoolPlan["kind"],
): Pool3dPlan {
  const plan: Pool3dPlan = {
    owner,
    kernelSize: tuple(owner, "kernelSize", kernelSize, 3, 1),
    stride: tuple(owner, "stride", options.stride ?? kernelSize, 3, 1),
    padding: tuple(owner, "padding", options.padding ?? 0, 3, 0),
    dilation: tuple(owner, "dilation", dilation, 3, 1),
    ceilMode: options.ceilMode ?? false,
    kind,
  };
  if (typeof plan.ceilMode !== "boolean") {
    throw new FulmenError(`${owner}: ceilMode must be true or false, got ${String(plan.ceilMode)}.`);
  }
  const extents = extent(plan);
  if (plan.padding.some((p, i) => p * 2 > extents[i]!)) {
    const dilated = plan.dilation.some((d) => d > 1);
    throw new FulmenError(
      `${owner}: padding [${plan.padding}] must be at most half the ${dilated ? "dilated window's extent" : "kernel size"} [${extents}] (as in PyTorch).`,
    );
  }
  return plan;
}

/** Each window's extent, `(k − 1)·d + 1` per dimension. */
function extent(plan: Pool3dPlan): number[] {
  return plan.kernelSize.map((k, i) => (k - 1) * plan.dilation[i]! + 1);
}

/**
 * Pools `[N, C, D, H, W]` (or unbatched `[C, D, H, W]`) input by `plan`: each channel's volume as a one-channel
 * NDHWC tensor (a reshape, no transposes), padded (−∞ for max, zeros for average) and cropped to exactly the
 * windows' extent, then tfjs's 3-D pooling with "valid" windows.
 */
export function pool3d(plan: Pool3dPlan, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const batch = asBatch(plan.owner, x, 3, "C, D, H, W");
    const [n, c, ...spatial] = batch.shape as number[];
    const extents = extent(plan);
    const plans = spatial.map((length, i) =>
      planAxis(length, extents[i]!, plan.stride[i]!, plan.padding[i]!, plan.ceilMode),
    );
    if (plans.some((p) => p.out < 1)) {
      throw new FulmenError(
        `${plan.owner}: input of shape [${x.shape}] is too small for kernelSize [${plan.kernelSize}] with padding [${plan.padding}]; the output would be empty.`,
      );
    }
    const flat = tf.reshape(batch, [n! * c!, ...spatial, 1]);
    const volumes = fitWindows(plan, flat as tf.Tensor5D, plans);
    const y = plan.kind.max ? maxWindows(plan, volumes, plans) : avgWindows(plan, volumes, plans, spatial);
    const out = tf.reshape(y, [n!, c!, ...plans.map((p) => p.out)]);
    return batch === x ? out : tf.squeeze(out, [0]);
  });
}

/** Pads (or crops) a one-channel NDHWC tensor to exactly the extent its windows cover. */
function fitWindows(plan: Pool3dPlan, x: tf.Tensor5D, plans: AxisPlan[]): tf.Tensor5D {
  const fill = plan.kind.max ? Number.NEGATIVE_INFINITY : 0;
  let y = x;
  if (plans.some((p) => p.before > 0 || p.after > 0)) {
    const pads = plans.map((p): [number, number] => [p.before, Math.max(p.after, 0)]);
    y = tf.pad(y, [[0, 0], ...pads, [0, 0]], fill);
  }
  if (plans.every((p) => p.after >= 0)) return y;
  // Floor mode leaves entries past the last window: crop them so that the windows end where the tensor does.
  const size = y.shape.map((s, i) => (i >= 1 && i <= 3 ? s + Math.min(plans[i - 1]!.after, 0) : s));
  return tf.slice(y, [0, 0, 0, 0, 0], size);
}

/**
 * Max pooling of a fitted one-channel NDHWC tensor, the gradient to each window's first maximum (in
 * depth-row-column order), as PyTorch's. tfjs's 3-D max pooling routes ties to the last maximum instead, so it
 * pools the volume reversed along every spatial axis (the windows line up, as the tensor ends where the windows
 * do) and reverses the result. Dilated windows have no tfjs op, and tfjs 4.22's CPU MaxPool3DGrad misplaces the
 * gradient when the window's height and width differ: those windows' taps are gathered and maximised instead.
 */
function maxWindows(plan: Pool3dPlan, x: tf.Tensor5D, plans: AxisPlan[]): tf.Tensor {
  const [kd, kh, kw] = plan.kernelSize as [number, number, number];
  const [sd, sh, sw] = plan.stride as [number, number, number];
  if (plan.dilation.every((d) => d === 1) && kh === kw) {
    const reversed = tf.reverse(x, [1, 2, 3]) as tf.Tensor5D;
    return tf.reverse(tf.maxPool3d(reversed, [kd, kh, kw], [sd, sh, sw], "valid"), [1, 2, 3]);
  }
  const [dd, dh, dw] = plan.dilation as [number, number, number];
  const [od, oh, ow] = plans.map((p) => p.out) as [number, number, number];
  const taps: tf.Tensor[] = [];
  for (let a = 0; a < kd; a++) {
    const depth = everyNth(x, 1, a * dd, od, sd);
    for (let b = 0; b < kh; b++) {
      const rows = everyNth(depth, 2, b * dh, oh, sh);
      for (let e = 0; e < kw; e++) taps.push(everyNth(rows, 3, e * dw, ow, sw));
    }
  }
  return maxOverTaps(tf.stack(taps));
}

/**
 * Average pooling of a fitted one-channel NDHWC tensor: tfjs divides every window by kD·kH·kW, PyTorch by the
 * window clipped to the padded input (or the input alone without countIncludePad), or by divisorOverride:
 * rescaled by a constant per output position.
 */
function avgWindows(plan: Pool3dPlan, x: tf.Tensor5D, plans: AxisPlan[], spatial: number[]): tf.Tensor {
  const [kd, kh, kw] = plan.kernelSize as [number, number, number];
  const [sd, sh, sw] = plan.stride as [number, number, number];
  const mean = tf.avgPool3d(x, [kd, kh, kw], [sd, sh, sw], "valid");
  if (plan.kind.max) return mean;
  const { countIncludePad, divisorOverride } = plan.kind;
  const per = plans.map((p, i) =>
    axisDivisors(plan.kernelSize[i]!, plan.stride[i]!, plan.padding[i]!, p, spatial[i]!, countIncludePad),
  );
  const full = kd * kh * kw;
  if (divisorOverride === null && per.every((v, i) => v.every((k) => k === plan.kernelSize[i]))) return mean;
  const [ds, hs, ws] = per as [number[], number[], number[]];
  const scale = new Float32Array(ds.length * hs.length * ws.length);
  let at = 0;
  for (const a of ds)
    for (const b of hs) for (const e of ws) scale[at++] = full / (divisorOverride ?? a * b * e);
  return tf.mul(mean, tf.tensor4d(scale, [ds.length, hs.length, ws.length, 1]));
}

/**
 * Max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like `torch.nn.functional.max_pool3d`; with
 * `returnIndices`, `[output, indices]`.
 */
export function maxPool3d(
  input: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxPoolOptions & { returnIndices: true },
): [tf.Tensor, tf.Tensor];
/** Max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input. */
export function maxPool3d(input: tf.Tensor, kernelSize: IntTuple, options?: MaxPoolOptions): tf.Tensor;
export function maxPool3d(
  input: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxPoolOptions = {},
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  const plan = maxPool3dPlan("maxPool3d", kernelSize, options);
  return maxPoolResult(pool3d(plan, input), input, 3, plan3dWindows(plan), options.returnIndices);
}

/** A 3-D pooling plan's windows. */
export function plan3dWindows(plan: Pool3dPlan): PoolWindows {
  return {
    kernel: plan.kernelSize,
    stride: plan.stride,
    padding: plan.padding,
    dilation: plan.dilation,
    ceilMode: plan.ceilMode,
  };
}

/** Average pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like `torch.nn.functional.avg_pool3d`. */
export function avgPool3d(input: tf.Tensor, kernelSize: IntTuple, options: AvgPoolOptions = {}): tf.Tensor {
  return pool3d(avgPool3dPlan("avgPool3d", kernelSize, options), input);
}

import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames, describeValue } from "../../utils/options";
import { detached } from "./detached";
import { pointwise } from "./pointwise";

/**
 * `F.affine_grid` and `F.grid_sample` for 4-D inputs (spatial transformers, warping): sampling positions in
 * [-1, 1] coordinates, read by bilinear or nearest interpolation with PyTorch's padding modes and its gradients
 * (to the input, and to the grid through the interpolation weights; 0 where a coordinate is clipped, boundary
 * included, as PyTorch's `clip_coordinates_set_grad`).
 */

/** Options of {@link gridSample}, PyTorch's keywords in camelCase. */
export interface GridSampleOptions {
  /** "bilinear" (default) or "nearest". PyTorch's "bicubic" is not implemented. */
  mode?: "bilinear" | "nearest";
  /** Outside the input: "zeros" (default), "border" (the nearest edge value) or "reflection". */
  paddingMode?: "zeros" | "border" | "reflection";
  /** -1 and 1 are the corner pixels' centres (true) or their outer edges (false, the default). */
  alignCorners?: boolean;
}

/** Options of {@link affineGrid}. */
export interface AffineGridOptions {
  /** As {@link GridSampleOptions.alignCorners} (default false). */
  alignCorners?: boolean;
}

/** `n` steps from -1 to 1, pulled in to pixel centres without alignCorners (PyTorch's `linspace_from_neg_one`). */
function steps(n: number, alignCorners: boolean): number[] {
  if (n <= 1) return [0];
  return Array.from({ length: n }, (_, i) => {
    const v = -1 + (2 * i) / (n - 1);
    return alignCorners ? v : (v * (n - 1)) / n;
  });
}

/**
 * The sampling grid `[N, H, W, 2]` of the affine maps `theta` `[N, 2, 3]` for an output of `size` `[N, C, H, W]`,
 * like `F.affine_grid`: each output pixel's (x, y) in [-1, 1] mapped by its batch entry's matrix.
 */
export function affineGrid(
  theta: tf.Tensor,
  size: readonly number[],
  options: AffineGridOptions = {},
): tf.Tensor {
  checkOptionNames("affineGrid", options, ["alignCorners"]);
  if (!Array.isArray(size) || size.length !== 4 || size.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new FulmenError(
      `affineGrid: size must be the output's [N, C, H, W] (4-D; 5-D volumes are not implemented yet), got ${describeValue(size)}.`,
    );
  }
  const [n, , h, w] = size as [number, number, number, number];
  if (theta.rank !== 3 || theta.shape[0] !== n || theta.shape[1] !== 2 || theta.shape[2] !== 3) {
    throw new FulmenError(
      `affineGrid: theta must be [${n}, 2, 3] for size [${size}], got shape [${theta.shape}].`,
    );
  }
  const ac = options.alignCorners ?? false;
  const xs = steps(w, ac);
  const ys = steps(h, ac);
  const base = new Float32Array(h * w * 3);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) base.set([xs[j]!, ys[i]!, 1], (i * w + j) * 3);
  }
  return tf.tidy(() => {
    const points = tf.tile(tf.tensor3d(base, [1, h * w, 3]), [n, 1, 1]);
    return tf.reshape(tf.matMul(points, theta, false, true), [n, h, w, 2]);
  });
}

/** A grid coordinate in [-1, 1] as a pixel coordinate along a side of `size` pixels. */
function unnormalize(coordinate: tf.Tensor, size: number, alignCorners: boolean): tf.Tensor {
  return alignCorners
    ? tf.mul(tf.add(coordinate, 1), (size - 1) / 2)
    : tf.div(tf.sub(tf.mul(tf.add(coordinate, 1), size), 1), 2);
}

/** `x` clipped to [0, size − 1], its gradient 0 at and beyond the bounds (PyTorch's `clip_coordinates_set_grad`). */
function clipCoordinates(x: tf.Tensor, size: number): tf.Tensor {
  return pointwise(
    (v) => tf.clipByValue(v, 0, size - 1),
    (v) => tf.cast(tf.logicalAnd(tf.greater(v, 0), tf.less(v, size - 1)), v.dtype),
  )(x);
}

/**
 * `x` reflected into `[twiceLow/2, twiceHigh/2]` (PyTorch's `reflect_coordinates`), its gradient ±1 by the
 * number of reflections.
 */
function reflectCoordinates(x: tf.Tensor, twiceLow: number, twiceHigh: number): tf.Tensor {
  if (twiceLow === twiceHigh) return tf.mul(x, 0);
  const min = twiceLow / 2;
  const span = (twiceHigh - twiceLow) / 2;
  const parts = (v: tf.Tensor) => {
    const shifted = tf.sub(v, min);
    const distance = tf.abs(shifted);
    const flips = tf.floor(tf.div(distance, span));
    const extra = tf.sub(distance, tf.mul(flips, span));
    const even = tf.equal(tf.mod(flips, 2), 0);
    return { shifted, extra, even };
  };
  return pointwise(
    (v) => {
      const { extra, even } = parts(v);
      return tf.add(tf.where(even, extra, tf.sub(span, extra)), min);
    },
    (v) => {
      const { shifted, even } = parts(v);
      const inward = tf.where(tf.less(shifted, 0), tf.fill(v.shape, -1), tf.onesLike(v));
      return tf.where(even, inward, tf.neg(inward));
    },
  )(x);
}

/** The pixel coordinate after the padding mode (border: clipped; reflection: reflected, then clipped). */
function sourceCoordinate(
  coordinate: tf.Tensor,
  size: number,
  paddingMode: "zeros" | "border" | "reflection",
  alignCorners: boolean,
): tf.Tensor {
  const x = unnormalize(coordinate, size, alignCorners);
  if (paddingMode === "border") return clipCoordinates(x, size);
  if (paddingMode === "reflection") {
    const reflected = alignCorners
      ? reflectCoordinates(x, 0, 2 * (size - 1))
      : reflectCoordinates(x, -1, 2 * size - 1);
    return clipCoordinates(reflected, size);
  }
  return x;
}

/**
 * `y` with `grid` among its inputs, for a zero gradient: nearest sampling does not depend on the grid smoothly
 * (PyTorch's gradient is 0), and tfjs refuses to differentiate with respect to a tensor an output does not use.
 */
function withZeroGradientTo(y: tf.Tensor, grid: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((value: tf.Tensor | tf.GradSaveFunc, positions: tf.Tensor | tf.GradSaveFunc) => ({
    value: tf.clone(value as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => [dy, tf.zerosLike(positions as tf.Tensor)],
  }));
  return op(y, grid);
}

/**
 * The input's values at integer pixels `(ys, xs)` (each `[N, P]`, int32), 0 outside the image: `[N, P, C]`
 * from the input as `[N, H·W, C]`.
 */
function pixels(flat: tf.Tensor, xs: tf.Tensor, ys: tf.Tensor, h: number, w: number): tf.Tensor {
  const inside = tf.logicalAnd(
    tf.logicalAnd(tf.greaterEqual(xs, 0), tf.less(xs, w)),
    tf.logicalAnd(tf.greaterEqual(ys, 0), tf.less(ys, h)),
  );
  const index = tf.add(tf.mul(tf.clipByValue(ys, 0, h - 1), w), tf.clipByValue(xs, 0, w - 1));
  const values = tf.gather(flat, tf.cast(index, "int32"), 1, 1);
  return tf.mul(values, tf.expandDims(tf.cast(inside, flat.dtype), 2));
}

/**
 * Samples `input` `[N, C, H, W]` at the positions of `grid` `[N, Hout, Wout, 2]` (x, y in [-1, 1]), like
 * `F.grid_sample`: returns `[N, C, Hout, Wout]`.
 */
export function gridSample(input: tf.Tensor, grid: tf.Tensor, options: GridSampleOptions = {}): tf.Tensor {
  checkOptionNames("gridSample", options, ["mode", "paddingMode", "alignCorners"]);
  const mode = options.mode ?? "bilinear";
  const paddingMode = options.paddingMode ?? "zeros";
  if (mode !== "bilinear" && mode !== "nearest") {
    throw new FulmenError(
      mode === "bicubic"
        ? "gridSample: mode 'bicubic' is not implemented yet; use 'bilinear' or 'nearest'."
        : `gridSample: unknown mode ${describeValue(mode)}; use 'bilinear' or 'nearest'.`,
    );
  }
  if (!["zeros", "border", "reflection"].includes(paddingMode)) {
    throw new FulmenError(
      `gridSample: paddingMode must be 'zeros', 'border' or 'reflection', got ${describeValue(paddingMode)}.`,
    );
  }
  if (input.rank !== 4 || grid.rank !== 4 || grid.shape[3] !== 2 || grid.shape[0] !== input.shape[0]) {
    throw new FulmenError(
      input.rank === 5
        ? "gridSample: 5-D volumes are not implemented yet; sample 4-D [N, C, H, W] inputs."
        : `gridSample: expected input [N, C, H, W] and grid [N, Hout, Wout, 2] with the same N, got [${input.shape}] and [${grid.shape}].`,
    );
  }
  const ac = options.alignCorners ?? false;
  const [n, c, h, w] = input.shape as [number, number, number, number];
  const [, hOut, wOut] = grid.shape as [number, number, number, number];
  return tf.tidy(() => {
    const flat = tf.transpose(tf.reshape(input, [n, c, h * w]), [0, 2, 1]);
    const points = tf.reshape(grid, [n, hOut * wOut, 2]);
    const [gx, gy] = tf.split(points, 2, 2).map((t) => tf.reshape(t, [n, hOut * wOut]));
    const ix = sourceCoordinate(gx!, w, paddingMode, ac);
    const iy = sourceCoordinate(gy!, h, paddingMode, ac);
    let sampled: tf.Tensor;
    if (mode === "nearest") {
      // PyTorch rounds half to even (nearbyint), as tf.round does
      sampled = withZeroGradientTo(pixels(flat, detached(tf.round(ix)), detached(tf.round(iy)), h, w), grid);
    } else {
      const x0 = detached(tf.floor(ix));
      const y0 = detached(tf.floor(iy));
      const x1 = tf.add(x0, 1);
      const y1 = tf.add(y0, 1);
      // the weights, differentiable in the coordinates (floor carries no gradient)
      const east = tf.sub(ix, x0);
      const west = tf.sub(x1, ix);
      const south = tf.sub(iy, y0);
      const north = tf.sub(y1, iy);
      const tap = (xs: tf.Tensor, ys: tf.Tensor, weight: tf.Tensor) =>
        tf.mul(pixels(flat, xs, ys, h, w), tf.expandDims(weight, 2));
      sampled = tf.addN([
        tap(x0, y0, tf.mul(west, north)),
        tap(x1, y0, tf.mul(east, north)),
        tap(x0, y1, tf.mul(west, south)),
        tap(x1, y1, tf.mul(east, south)),
      ]);
    }
    return tf.reshape(tf.transpose(sampled, [0, 2, 1]), [n, c, hOut, wOut]);
  });
}

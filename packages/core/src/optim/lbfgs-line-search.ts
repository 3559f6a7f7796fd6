import { tf } from "../runtime/tfjs";

/**
 * The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to `bounds` (default
 * the interval between x1 and x2); the interval's middle when the cubic has no minimiser. A port of PyTorch's
 * `torch.optim.lbfgs._cubic_interpolate` (itself from minFunc's polyinterp).
 */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: [number, number],
): number {
  const [xminBound, xmaxBound] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 ** 2 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos =
      x1 <= x2
        ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, xminBound), xmaxBound);
  }
  return (xminBound + xmaxBound) / 2;
}

/** The loss and flat gradient at `x + t·d` (the evaluation leaves the parameters at `x`). */
export type DirectionalEvaluation = (t: number) => { loss: number; flatGrad: tf.Tensor };

/** What {@link strongWolfe} found: the step, the loss and flat gradient there, and how many evaluations it took. */
export interface LineSearchResult {
  loss: number;
  flatGrad: tf.Tensor;
  t: number;
  funcEvals: number;
}

/** The value of a scalar computed by `fn`, with every tensor it made freed. */
export function readScalar(fn: () => tf.Tensor): number {
  const result = tf.tidy(fn);
  const value = result.dataSync()[0]!;
  result.dispose();
  return value;
}

/** A float32 dot product read back as a number (PyTorch keeps it as a float32 scalar tensor). */
export function dot(a: tf.Tensor, b: tf.Tensor): number {
  return readScalar(() => tf.sum(tf.mul(a, b)));
}

/**
 * A line search along `d` for a step satisfying the strong Wolfe conditions (sufficient decrease c1,
 * curvature c2), a port of PyTorch's `torch.optim.lbfgs._strong_wolfe` (from minFunc's lswolfe): bracketing,
 * then zooming with cubic interpolation. `f`, `g` and `gtd` are the loss, flat gradient and directional
 * derivative at t = 0. The returned `flatGrad` is `g` itself or a tensor the caller then owns; every other
 * gradient it evaluated is freed.
 */
export function strongWolfe(
  evaluate: DirectionalEvaluation,
  t0: number,
  d: tf.Tensor,
  f: number,
  g: tf.Tensor,
  gtd: number,
  c1 = 1e-4,
  c2 = 0.9,
  toleranceChange = 1e-9,
  maxLs = 25,
): LineSearchResult {
  const created: tf.Tensor[] = [];
  const at = (step: number) => {
    const result = evaluate(step);
    created.push(result.flatGrad);
    return { fNew: result.loss, gNew: result.flatGrad, gtdNew: dot(result.flatGrad, d) };
  };
  const dNorm = readScalar(() => tf.max(tf.abs(d)));
  let t = t0;
  let { fNew, gNew, gtdNew } = at(t);
  let funcEvals = 1;
  // Bracket an interval containing a point satisfying the Wolfe criteria.
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g;
  let gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: tf.Tensor[] = [];
  let bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [tPrev, t];
      bracketF = [fPrev, fNew];
      bracketG = [gPrev, gNew];
      bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t];
      bracketF = [fNew];
      bracketG = [gNew];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrev, t];
      bracketF = [fPrev, fNew];
      bracketG = [gPrev, gNew];
      bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    // Interpolate, extrapolating at most tenfold.
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const previousT = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = previousT;
    fPrev = fNew;
    gPrev = gNew;
    gtdPrev = gtdNew;
    ({ fNew, gNew, gtdNew } = at(t));
    funcEvals += 1;
    lsIter += 1;
  }
  if (lsIter === maxLs) {
    bracket = [0, t];
    bracketF = [f, fNew];
    bracketG = [g, gNew];
  }
  // Zoom: refine the bracket until a point satisfies the criteria.
  let insufficientProgress = false;
  let [lowPos, highPos] = bracketF[0]! <= bracketF[bracketF.length - 1]! ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1]! - bracket[0]!) * dNorm < toleranceChange) break;
    t = cubicInterpolate(
      bracket[0]!,
      bracketF[0]!,
      bracketGtd[0]!,
      bracket[1]!,
      bracketF[1]!,
      bracketGtd[1]!,
    );
    // Too close to an end of the bracket twice in a row, or outside it: move 10% of its length inside.
    const hi = Math.max(...bracket);
    const lo = Math.min(...bracket);
    const eps = 0.1 * (hi - lo);
    if (Math.min(hi - t, t - lo) < eps) {
      if (insufficientProgress || t >= hi || t <= lo) {
        t = Math.abs(t - hi) < Math.abs(t - lo) ? hi - eps : lo + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    ({ fNew, gNew, gtdNew } = at(t));
    funcEvals += 1;
    lsIter += 1;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]!) {
      // Armijo condition not satisfied or not lower than the lowest point: the new point becomes high.
      bracket[highPos] = t;
      bracketF[highPos] = fNew;
      bracketG[highPos] = gNew;
      bracketGtd[highPos] = gtdNew;
      [lowPos, highPos] = bracketF[0]! <= bracketF[1]! ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[highPos]! - bracket[lowPos]!) >= 0) {
        // The old high becomes the new low.
        bracket[highPos] = bracket[lowPos]!;
        bracketF[highPos] = bracketF[lowPos]!;
        bracketG[highPos] = bracketG[lowPos]!;
        bracketGtd[highPos] = bracketGtd[lowPos]!;
      }
      bracket[lowPos] = t;
      bracketF[lowPos] = fNew;
      bracketG[lowPos] = gNew;
      bracketGtd[lowPos] = gtdNew;
    }
  }
  const flatGrad = bracketG[lowPos]!;
  for (const tensor of created) if (tensor !== flatGrad) tensor.dispose();
  return { loss: bracketF[lowPos]!, flatGrad, t: bracket[lowPos]!, funcEvals };
}

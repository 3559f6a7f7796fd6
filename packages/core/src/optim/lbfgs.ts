import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { checkNumber, describeValue } from "../utils/options";
import { dot, readScalar, strongWolfe } from "./lbfgs-line-search";
import {
  type BaseOptimizerOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroupInput,
  type ParamState,
  type ParamsInput,
} from "./optimizer";

/** Hyperparameters of {@link LBFGS}, as in `torch.optim.LBFGS`. */
export interface LBFGSOptions extends BaseOptimizerOptions {
  /** Iterations per `step()` at most (default 20). */
  maxIter: number;
  /** Loss evaluations per `step()` at most (default maxIter * 5 / 4, rounded down). */
  maxEval: number;
  /** Stop when every gradient element is at most this in magnitude (default 1e-7). */
  toleranceGrad: number;
  /** Stop when the loss or the parameters change less than this (default 1e-9). */
  toleranceChange: number;
  /** How many past updates approximate the inverse Hessian (default 100). */
  historySize: number;
  /** `"strong_wolfe"` for a line search, or null for fixed steps of `lr` (default null). */
  lineSearchFn: "strong_wolfe" | null;
}

const NAMES = [
  "lr",
  "maxIter",
  "maxEval",
  "toleranceGrad",
  "toleranceChange",
  "historySize",
  "lineSearchFn",
] as const;

/** What the closure of {@link LBFGS.step} returns: the loss, as a scalar tensor or a number. */
export type LBFGSLoss = tf.Scalar | number;

/**
 * L-BFGS, equal to `torch.optim.LBFGS`: each `step(closure)` runs up to `maxIter` quasi-Newton iterations,
 * calling the closure (which clears the gradients, recomputes the loss, runs {@link backward} and returns the
 * loss) whenever it needs the loss and gradients at new parameters.
 *
 * Like PyTorch's, it takes one parameter group, and its state lives on the first parameter: `funcEvals`,
 * `nIter`, `d`, `t`, `oldDirs`, `oldStps`, `ro`, `hDiag`, `prevFlatGrad`, `prevLoss` (PyTorch's names in
 * camelCase; the history lists are stacked into `[history, numel]` tensors, `ro` into a vector; PyTorch's
 * `al` is scratch space, recomputed every iteration, and not kept).
 *
 * @example
 * const optimizer = new LBFGS(model, { lineSearchFn: "strong_wolfe" });
 * const loss = optimizer.step(() => {
 *   optimizer.zeroGrad();
 *   return backward(() => nn.mseLoss(model.forward(x), y), model);
 * });
 */
export class LBFGS extends Optimizer<LBFGSOptions> {
  /** L-BFGS evaluates the loss several times per step, so `step` always needs its closure. */
  override readonly requiresClosure: boolean = true;

  constructor(params: ParamsInput<LBFGSOptions>, options: Partial<LBFGSOptions> = {}) {
    const maxIter = options.maxIter ?? 20;
    super(
      params,
      {
        lr: 1,
        maxIter,
        // PyTorch's default, computed once from maxIter as PyTorch does at construction.
        maxEval: typeof maxIter === "number" ? Math.floor((maxIter * 5) / 4) : maxIter,
        toleranceGrad: 1e-7,
        toleranceChange: 1e-9,
        historySize: 100,
        lineSearchFn: null,
        ...stripUndefined(options),
      },
      NAMES,
    );
  }

  protected override validate(options: Partial<LBFGSOptions>): void {
    super.validate(options);
    const positiveInteger = (v: number) => Number.isInteger(v) && v >= 1;
    for (const key of ["maxIter", "maxEval", "historySize"] as const) {
      const value = options[key];
      if (value !== undefined) checkNumber("LBFGS", key, value, positiveInteger, "an integer >= 1");
    }
    for (const key of ["toleranceGrad", "toleranceChange"] as const) {
      const value = options[key];
      if (value !== undefined) checkNumber("LBFGS", key, value, (v) => v >= 0, ">= 0");
    }
    const fn = options.lineSearchFn;
    if (fn !== undefined && fn !== null && fn !== "strong_wolfe") {
      throw new FulmenError(
        `LBFGS: invalid lineSearchFn ${describeValue(fn)}; only "strong_wolfe" (or null, for fixed steps) is supported.`,
      );
    }
  }

  /** Refuses a second group: L-BFGS treats all parameters as one vector with one set of hyperparameters. */
  override addParamGroup(group: ParamGroupInput<LBFGSOptions>): void {
    if (this.paramGroups.length > 0) {
      throw new FulmenError(
        "LBFGS doesn't support per-parameter options (parameter groups); pass all parameters in one group.",
      );
    }
    super.addParamGroup(group);
  }

  /** Never called: L-BFGS updates all parameters together in {@link LBFGS.step}. */
  protected updateParameter(): void {
    throw new FulmenError("LBFGS updates its parameters only through step(closure).");
  }

  /**
   * Runs one L-BFGS optimisation step (up to `maxIter` iterations) and returns the closure's first loss, which
   * the caller owns; the losses of later evaluations are read and freed. The closure is required.
   */
  override step<T = void>(closure?: () => T): T | undefined {
    if (typeof closure !== "function") {
      throw new FulmenError(
        "LBFGS.step needs a closure that clears the gradients, computes the loss, runs backward and returns the loss: optimizer.step(() => { optimizer.zeroGrad(); return backward(() => lossOf(model), model); }).",
      );
    }
    const group = this.paramGroups[0]!;
    const params = group.params;
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearchFn } = group;
    // Like PyTorch, the whole state lives on the first parameter.
    const state: ParamState = this.state.get(params[0]!) ?? {};
    this.state.set(params[0]!, state);
    // The state's counters, written back however the step ends (as PyTorch updates them in place).
    let funcEvals = typeof state.funcEvals === "number" ? state.funcEvals : 0;
    let totalIter = typeof state.nIter === "number" ? state.nIter : 0;

    const origLoss = closure();
    let loss = lossValue(origLoss);
    let currentEvals = 1;
    funcEvals += 1;
    let flatGrad = this.gatherFlatGrad();
    // Tensors this step owns until they are stored in the state (or freed at the end).
    const history = this.loadHistory(state);
    let d = state.d instanceof tf.Tensor ? state.d : null;
    let prevFlatGrad = state.prevFlatGrad instanceof tf.Tensor ? state.prevFlatGrad : null;
    let t = typeof state.t === "number" ? state.t : lr;
    let hDiag = typeof state.hDiag === "number" ? state.hDiag : 1;
    let prevLoss = typeof state.prevLoss === "number" ? state.prevLoss : loss;
    const owned = new Set<tf.Tensor>();
    const own = (tensor: tf.Tensor) => {
      owned.add(tensor);
      return tensor;
    };
    const replaceFlatGrad = (next: tf.Tensor) => {
      if (next !== flatGrad) flatGrad.dispose();
      flatGrad = next;
    };
    try {
      // PyTorch compares float32 tensors with the tolerance rounded to float32.
      if (maxAbs(flatGrad) <= Math.fround(toleranceGrad)) return origLoss;
      let optimal = false;
      let nIter = 0;
      while (nIter < maxIter) {
        nIter += 1;
        totalIter += 1;
        // The descent direction.
        if (totalIter === 1 || d === null || prevFlatGrad === null) {
          d = own(tf.neg(flatGrad));
          history.clear();
          hDiag = 1;
        } else {
          const y = tf.sub(flatGrad, prevFlatGrad);
          const s = tf.mul(d, t);
          const ys = dot(y, s);
          if (ys > Math.fround(1e-10)) {
            history.push(y, s, Math.fround(1 / ys), historySize);
            hDiag = Math.fround(ys / dot(y, y));
          } else {
            y.dispose();
            s.dispose();
          }
          d = own(this.twoLoop(flatGrad, history, hDiag));
        }
        prevFlatGrad = own(tf.clone(flatGrad));
        prevLoss = loss;
        // The step length: a conservative first guess, then lr.
        if (totalIter === 1) {
          const inverse = Math.fround(1 / readScalar(() => tf.sum(tf.abs(flatGrad))));
          t = inverse < 1 ? Math.fround(inverse * Math.fround(lr)) : lr;
        } else {
          t = lr;
        }
        const gtd = dot(flatGrad, d);
        if (gtd > Math.fround(-toleranceChange)) break;
        let lsFuncEvals = 0;
        if (lineSearchFn === "strong_wolfe") {
          const xInit = params.map((p) => tf.keep(tf.clone(p.data)));
          const direction = d;
          try {
            const result = strongWolfe(
              (step) => this.directionalEvaluate(closure, xInit, step, direction),
              t,
              direction,
              loss,
              flatGrad,
              gtd,
            );
            loss = result.loss;
            replaceFlatGrad(result.flatGrad);
            t = result.t;
            lsFuncEvals = result.funcEvals;
          } finally {
            for (const x of xInit) x.dispose();
          }
          this.addGrad(t, d);
          optimal = maxAbs(flatGrad) <= Math.fround(toleranceGrad);
        } else {
          this.addGrad(t, d);
          // No re-evaluation after the last iteration: in a stochastic setting it would be wasted.
          if (nIter !== maxIter) {
            loss = lossValue(closure(), true);
            replaceFlatGrad(this.gatherFlatGrad());
            optimal = maxAbs(flatGrad) <= Math.fround(toleranceGrad);
            lsFuncEvals = 1;
          }
        }
        currentEvals += lsFuncEvals;
        funcEvals += lsFuncEvals;
        if (nIter === maxIter) break;
        if (currentEvals >= maxEval) break;
        if (optimal) break;
        // Lack of progress.
        const moved = readScalar(() => tf.max(tf.abs(tf.mul(d!, t))));
        if (moved <= Math.fround(toleranceChange)) break;
        if (Math.abs(loss - prevLoss) < toleranceChange) break;
      }
      // Keep the latest d and prevFlatGrad, free the superseded ones.
      for (const tensor of owned) if (tensor !== d && tensor !== prevFlatGrad) tensor.dispose();
      owned.clear();
      if (d !== null) this.setState(state, "d", d);
      state.t = t;
      this.storeHistory(state, history);
      state.hDiag = hDiag;
      if (prevFlatGrad !== null) this.setState(state, "prevFlatGrad", prevFlatGrad);
      state.prevLoss = prevLoss;
      return origLoss;
    } finally {
      state.funcEvals = funcEvals;
      state.nIter = totalIter;
      flatGrad.dispose();
      history.dispose();
      for (const tensor of owned) tensor.dispose();
    }
  }

  /** The L-BFGS two-loop recursion: the approximate inverse Hessian times the negative gradient. */
  private twoLoop(flatGrad: tf.Tensor, history: History, hDiag: number): tf.Tensor {
    return tf.tidy(() => {
      const k = history.dirs.length;
      const al: number[] = new Array(k);
      let q = tf.neg(flatGrad);
      for (let i = k - 1; i >= 0; i--) {
        // PyTorch keeps al[i] and be_i as float32 scalar tensors.
        al[i] = Math.fround(dot(history.stps[i]!, q) * history.ro[i]!);
        q = tf.sub(q, tf.mul(history.dirs[i]!, al[i]!));
      }
      let r = tf.mul(q, hDiag);
      for (let i = 0; i < k; i++) {
        const be = Math.fround(dot(history.dirs[i]!, r) * history.ro[i]!);
        r = tf.add(r, tf.mul(history.stps[i]!, Math.fround(al[i]! - be)));
      }
      return r;
    });
  }

  /** Every parameter's gradient (zeros where there is none), flattened into one vector the caller owns. */
  private gatherFlatGrad(): tf.Tensor {
    return tf.tidy(() =>
      tf.concat(
        this.paramGroups[0]!.params.map((p) =>
          p.grad === null ? tf.zeros([p.size]) : tf.reshape(p.grad, [-1]),
        ),
      ),
    );
  }

  /** Adds `stepSize · update` to the parameters, `update` being their flat concatenation. */
  private addGrad(stepSize: number, update: tf.Tensor): void {
    let offset = 0;
    for (const p of this.paramGroups[0]!.params) {
      const start = offset;
      tf.tidy(() => {
        const part = tf.reshape(tf.slice(update, [start], [p.size]), p.shape);
        p.data.assign(tf.add(p.data, tf.mul(part, stepSize)));
      });
      offset += p.size;
    }
  }

  /** The loss and flat gradient at `x + t·d`; the parameters are put back to `x` afterwards. */
  private directionalEvaluate(
    closure: () => unknown,
    x: tf.Tensor[],
    t: number,
    d: tf.Tensor,
  ): { loss: number; flatGrad: tf.Tensor } {
    this.addGrad(t, d);
    const loss = lossValue(closure(), true);
    const flatGrad = this.gatherFlatGrad();
    this.paramGroups[0]!.params.forEach((p, i) => {
      p.data.assign(x[i]!);
    });
    return { loss, flatGrad };
  }

  /** The stored history as lists of vectors (the state keeps them stacked). */
  private loadHistory(state: ParamState): History {
    const history = new History();
    const { oldDirs, oldStps, ro } = state;
    if (oldDirs instanceof tf.Tensor && oldStps instanceof tf.Tensor && ro instanceof tf.Tensor) {
      if (oldDirs.shape[0]! > 0) {
        history.dirs = tf.unstack(oldDirs).map((v) => tf.keep(v));
        history.stps = tf.unstack(oldStps).map((v) => tf.keep(v));
      }
      history.ro = Array.from(ro.dataSync());
    }
    return history;
  }

  /** Stores the history stacked into `[k, numel]` tensors and a `[k]` vector. */
  private storeHistory(state: ParamState, history: History): void {
    const numel = this.numel();
    const stack = (list: tf.Tensor[]) => (list.length > 0 ? tf.stack(list) : tf.zeros([0, numel]));
    this.setState(state, "oldDirs", stack(history.dirs));
    this.setState(state, "oldStps", stack(history.stps));
    this.setState(state, "ro", tf.tensor1d(history.ro, "float32"));
  }

  private numel(): number {
    return this.paramGroups[0]!.params.reduce((total, p) => total + p.size, 0);
  }

  /** Checks the flat state's shapes against the parameters, then loads it as every optimizer does. */
  override loadStateDict(stateDict: OptimizerStateDict): void {
    const numel = this.numel();
    for (const [id, s] of Object.entries(stateDict?.state ?? {})) {
      const shapeOf = (key: string) => (s[key] instanceof tf.Tensor ? (s[key] as tf.Tensor).shape : null);
      const bad = (key: string, expected: string) => {
        throw new FulmenError(
          `LBFGS.loadStateDict: state '${key}' of parameter ${id} has shape [${shapeOf(key)}], expected ${expected} (the parameters have ${numel} elements in all); load a state saved by an LBFGS over the same parameters.`,
        );
      };
      for (const key of ["d", "prevFlatGrad"]) {
        const shape = shapeOf(key);
        if (shape !== null && !(shape.length === 1 && shape[0] === numel)) bad(key, `[${numel}]`);
      }
      const k = shapeOf("ro")?.[0] ?? 0;
      for (const key of ["oldDirs", "oldStps"]) {
        const shape = shapeOf(key);
        if (shape !== null && !(shape.length === 2 && shape[0] === k && shape[1] === numel))
          bad(key, `[${k}, ${numel}] (one row per entry of 'ro')`);
      }
    }
    super.loadStateDict(stateDict);
  }

  /** The flat state was checked by {@link LBFGS.loadStateDict}; its shapes are not the first parameter's. */
  protected override stateShapeFits(key: string, value: tf.Tensor, param: Parameter): boolean {
    return (
      ["d", "prevFlatGrad", "oldDirs", "oldStps", "ro"].includes(key) ||
      super.stateShapeFits(key, value, param)
    );
  }
}

/** The update history: past gradient differences (`dirs`), steps (`stps`) and 1 / (y·s) (`ro`). */
class History {
  dirs: tf.Tensor[] = [];
  stps: tf.Tensor[] = [];
  ro: number[] = [];

  /** Appends an update (the history takes the tensors), dropping the oldest beyond `size`. */
  push(y: tf.Tensor, s: tf.Tensor, ro: number, size: number): void {
    if (this.dirs.length === size) {
      this.dirs.shift()!.dispose();
      this.stps.shift()!.dispose();
      this.ro.shift();
    }
    this.dirs.push(tf.keep(y));
    this.stps.push(tf.keep(s));
    this.ro.push(ro);
  }

  clear(): void {
    this.dispose();
    this.ro = [];
  }

  dispose(): void {
    for (const v of [...this.dirs, ...this.stps]) v.dispose();
    this.dirs = [];
    this.stps = [];
  }
}

/** The largest magnitude of a vector. */
function maxAbs(v: tf.Tensor): number {
  return readScalar(() => tf.max(tf.abs(v)));
}

/** The closure's loss as a number; with `dispose`, a loss tensor is freed once read (nobody else holds it). */
function lossValue(value: unknown, dispose = false): number {
  if (typeof value === "number") return value;
  if (value instanceof tf.Tensor && value.size === 1) {
    const loss = value.dataSync()[0]!;
    if (dispose) value.dispose();
    return loss;
  }
  throw new FulmenError(
    `LBFGS.step: the closure must return the loss as a scalar tensor or a number, got ${
      value instanceof tf.Tensor ? `a tensor of shape [${value.shape}]` : describeValue(value)
    }.`,
  );
}

/** Options without undefined entries, so that an explicit `maxEval: undefined` keeps the computed default. */
function stripUndefined<O extends object>(options: O): Partial<O> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<O>;
}

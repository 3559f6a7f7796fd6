import { backward, LBFGS, Parameter, tf } from "@fulmen/core";
import { type CaseOutcome, field, type GoldenCase, maxAbsDiff, type Nested } from "../golden";
import { describe, toFulmenOptions } from "../hparams";

/** A loss over the case's parameters, rebuilt with tfjs ops exactly as the generator wrote it in PyTorch. */
type Problem = (params: tf.Tensor[]) => tf.Scalar;

/**
 * The problems of `gen_optim.py`'s LBFGS cases, by name; `data` holds their inputs and targets, made into
 * tensors that are added to `made` (the caller frees them).
 */
function problemOf(name: string, data: Record<string, Nested>, made: tf.Tensor[]): Problem {
  const tensor = (key: string) => {
    const value = tf.tensor(field<number[]>({ kind: "lbfgs", ...data }, key));
    made.push(value);
    return value;
  };
  switch (name) {
    case "least_squares": {
      // mean((x @ w.T + b - y) ** 2)
      const x = tensor("x");
      const y = tensor("y");
      return ([w, b]) => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w!, false, true), b!), y)));
    }
    case "mlp": {
      // mean((tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2)
      const x = tensor("x");
      const y = tensor("y");
      return ([w1, b1, w2, b2]) => {
        const hidden = tf.tanh(tf.add(tf.matMul(x, w1!, false, true), b1!));
        return tf.mean(tf.square(tf.sub(tf.add(tf.matMul(hidden, w2!, false, true), b2!), y)));
      };
    }
    case "rosenbrock":
      // (1 - p0) ** 2 + 100 * (p1 - p0 ** 2) ** 2
      return ([p]) => {
        const p0 = tf.slice(p!, [0], [1]);
        const p1 = tf.slice(p!, [1], [1]);
        const value = tf.add(tf.square(tf.sub(1, p0)), tf.mul(100, tf.square(tf.sub(p1, tf.square(p0)))));
        return tf.reshape(value, []) as tf.Scalar;
      };
    default:
      throw new Error(`unknown LBFGS problem '${name}'; known: least_squares, mlp, rosenbrock`);
  }
}

/**
 * Replays an LBFGS case: `step(closure)` runs `steps` times on the case's problem, the closure clearing the
 * gradients and recomputing loss and gradients as a PyTorch closure does; compared after each step are the
 * parameters, the returned loss, and the state's `funcEvals` and `nIter` counters (any difference in a
 * counter exceeds the tolerance, so the iteration logic must match exactly).
 */
export function runLbfgsCase(c: GoldenCase): CaseOutcome {
  const hparams = field<Record<string, unknown>>(c, "hparams");
  const problemName = field<string>(c, "problem");
  const init = field<Nested[]>(c, "init");
  const steps = field<number>(c, "steps");
  const params = init.map((v) => new Parameter(v as number[]));
  const inputs: tf.Tensor[] = [];
  try {
    const problem = problemOf(problemName, field<Record<string, Nested>>(c, "data"), inputs);
    const optimizer = new LBFGS(params, toFulmenOptions(hparams));
    const closure = () => {
      optimizer.zeroGrad();
      return backward(() => problem(params.map((p) => p.data)), params);
    };
    const trajectory: Nested[][] = [];
    const losses: number[] = [];
    const funcEvals: number[] = [];
    const nIter: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = optimizer.step(closure)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      trajectory.push(params.map((p) => p.data.arraySync() as Nested));
      const state = optimizer.state.get(params[0]!)!;
      funcEvals.push(state.funcEvals as number);
      nIter.push(state.nIter as number);
    }
    optimizer.disposeState();
    const maxError = Math.max(
      maxAbsDiff(trajectory, field<Nested[][]>(c, "params_after_each_step")),
      maxAbsDiff(losses, field<number[]>(c, "losses")),
      maxAbsDiff(funcEvals, field<number[]>(c, "func_evals")),
      maxAbsDiff(nIter, field<number[]>(c, "n_iter")),
    );
    return {
      label: `lbfgs ${problemName} ${describe(hparams)}`,
      maxError,
      tolerance: 1e-5,
      results: { params_after_each_step: trajectory, losses, func_evals: funcEvals, n_iter: nIter },
    };
  } finally {
    for (const p of params) p.dispose();
    for (const t of inputs) t.dispose();
  }
}

import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  NAdam,
  type Optimizer,
  Parameter,
  type ParamsInput,
  RAdam,
  RMSprop,
  SGD,
  tf,
} from "@fulmen/core";
import { type CaseOutcome, field, type GoldenCase, maxAbsDiff, type Nested } from "../golden";
import { describe, toFulmenOptions } from "../hparams";

type OptimizerFactory = (params: ParamsInput<{ lr: number }>, options: Record<string, unknown>) => Optimizer;

/** PyTorch optimizer names and the Fulmen optimizers that replay them. */
export const OPTIMIZERS: Record<string, OptimizerFactory> = {
  SGD: (p, o) => new SGD(p, o),
  Adam: (p, o) => new Adam(p, o),
  AdamW: (p, o) => new AdamW(p, o),
  RMSprop: (p, o) => new RMSprop(p, o),
  Adagrad: (p, o) => new Adagrad(p, o),
  Adadelta: (p, o) => new Adadelta(p, o),
  Adamax: (p, o) => new Adamax(p, o),
  NAdam: (p, o) => new NAdam(p, o),
  RAdam: (p, o) => new RAdam(p, o),
};

/** Builds the named optimizer, with an error that lists the known names. */
export function makeOptimizer(
  name: string,
  params: ParamsInput<{ lr: number }>,
  hparams: Record<string, unknown>,
): Optimizer {
  const factory = OPTIMIZERS[name];
  if (factory === undefined) {
    throw new Error(`unknown optimizer '${name}'; known: ${Object.keys(OPTIMIZERS).join(", ")}`);
  }
  return factory(params, toFulmenOptions(hparams));
}

/** A case's `param_groups`: parameter indices and PyTorch keyword overrides per group. */
type GroupSpec = Record<string, unknown> & { params: number[] };

/** The parameters as the optimizer takes them: a plain list, or the case's groups with camelCase options. */
function paramsOf(c: GoldenCase, params: Parameter[]): ParamsInput<{ lr: number }> {
  if (!("param_groups" in c)) return params;
  return field<GroupSpec[]>(c, "param_groups").map(({ params: indices, ...options }) => ({
    ...toFulmenOptions(options),
    params: indices.map((i) => params[i]!),
  }));
}

/**
 * Replays an optimizer case: the given gradients are set on parameters, `step()` runs, weights are compared.
 * A case with `param_groups` builds those groups (indices into the parameters, hyperparameter overrides).
 */
export function runOptimizerCase(c: GoldenCase): CaseOutcome {
  const name = field<string>(c, "optimizer");
  const hparams = field<Record<string, unknown>>(c, "hparams");
  const init = field<Nested[]>(c, "init");
  const grads = field<Nested[][]>(c, "grads");
  const expected = field<Nested[][]>(c, "params_after_each_step");
  const params = init.map((v) => new Parameter(v as number[]));
  try {
    const optimizer = makeOptimizer(name, paramsOf(c, params), hparams);
    const trajectory: Nested[][] = [];
    for (const stepGrads of grads) {
      params.forEach((p, i) => {
        p.setGrad(tf.tensor(stepGrads[i] as number[], p.shape));
      });
      optimizer.step();
      trajectory.push(params.map((p) => p.data.arraySync() as Nested));
    }
    optimizer.disposeState();
    return {
      label: `optimizer ${name} ${describe(hparams)}${"param_groups" in c ? ` groups ${describe({ g: c.param_groups }).slice(3, -1)}` : ""}`,
      maxError: maxAbsDiff(trajectory, expected),
      tolerance: 1e-5,
      results: { params_after_each_step: trajectory },
    };
  } finally {
    for (const p of params) p.dispose();
  }
}

import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import {
  advanceStep,
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from "./optimizer";
import { penalizedGradient } from "./update-terms";

/** Hyperparameters of {@link Adagrad}, as in `torch.optim.Adagrad`. */
export interface AdagradOptions extends BaseOptimizerOptions {
  /** Learning-rate decay: step t uses `lr / (1 + (t - 1) * lrDecay)` (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

const NAMES = ["lr", "lrDecay", "weightDecay", "initialAccumulatorValue", "eps", "maximize"] as const;

/**
 * An optional fused kernel a backend may register for the Adagrad update (the native engine does): inputs
 * `param`, `grad`, `sum`; attrs `clr` (the step's decayed learning rate), `eps`, `weightDecay`, `maximize`;
 * outputs the new param and sum. It must equal the op-by-op update below bit for bit (each element-wise op
 * rounded to float32, scalar hyperparameters as float32).
 */
export const ADAGRAD_UPDATE_KERNEL = "FulmenAdagradUpdate";

/** Adagrad with learning-rate decay and L2 weight decay, equal to `torch.optim.Adagrad`. */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(
      params,
      {
        lr: 1e-2,
        lrDecay: 0,
        weightDecay: 0,
        initialAccumulatorValue: 0,
        eps: 1e-10,
        maximize: false,
        ...options,
      },
      NAMES,
    );
  }

  protected override validate(options: Partial<AdagradOptions>): void {
    super.validate(options);
    this.checkNonNegative(options, ["lrDecay", "eps", "weightDecay", "initialAccumulatorValue"]);
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<AdagradOptions>,
    state: ParamState,
  ): void {
    const step = advanceStep(state);
    const clr = group.lr / (1 + (step - 1) * group.lrDecay);
    const sumPrev =
      state.sum instanceof tf.Tensor
        ? state.sum
        : tf.fill(param.shape, group.initialAccumulatorValue, "float32");
    if (this.hasFusedKernel(ADAGRAD_UPDATE_KERNEL)) {
      const [paramOut, sumOut] = this.runFusedKernel(
        ADAGRAD_UPDATE_KERNEL,
        { param: param.data, grad, sum: sumPrev },
        { clr, eps: group.eps, weightDecay: group.weightDecay, maximize: group.maximize },
      );
      this.setState(state, "sum", sumOut!);
      param.data.assign(paramOut!);
      return;
    }
    const g = penalizedGradient(grad, param.data, group);
    const sum = tf.add(sumPrev, tf.mul(g, g));
    this.setState(state, "sum", sum);
    const std = tf.add(tf.sqrt(sum), group.eps);
    param.data.assign(tf.sub(param.data, tf.mul(tf.div(g, std), clr)));
  }
}

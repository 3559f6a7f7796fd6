import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { asFloat, broadcastPair, checkLossOptions, type Reduction, reduce } from "./common";

/** Options of {@link klDiv}, as in `torch.nn.functional.kl_div`. */
export interface KLDivOptions {
  /**
   * `batchmean` divides the sum by the batch size (the first dimension): the true KL divergence per sample.
   * `mean` (PyTorch's default, which it warns about) divides by the number of elements.
   */
  reduction?: Reduction | "batchmean";
  /** The target holds log-probabilities (default false: probabilities). */
  logTarget?: boolean;
}

/**
 * `t·log t` with PyTorch's `xlogy(t, t)`: 0 where `t = 0`, NaN for `t < 0`, and its autograd's gradient
 * `log t + t/t` (`log t` counted only where `t != 0`), which is NaN at `t = 0` as in PyTorch. Written as a
 * custom gradient because the `t == 0` mask has no tfjs gradient to flow through.
 */
const xlogx = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const save = args.pop() as tf.GradSaveFunc;
  const [t] = args as [tf.Tensor];
  save([t]);
  const zero = tf.equal(t, 0);
  const logSafe = tf.log(tf.where(zero, tf.onesLike(t), t));
  return {
    value: tf.where(zero, tf.zerosLike(t), tf.mul(t, logSafe)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const st = saved[0]!;
      const z = tf.equal(st, 0);
      const logPart = tf.where(z, tf.zerosLike(st), tf.log(tf.where(z, tf.onesLike(st), st)));
      return [tf.mul(dy, tf.add(logPart, tf.div(st, st)))];
    },
  };
}) as (t: tf.Tensor) => tf.Tensor;

/**
 * Kullback–Leibler divergence of a target from log-probabilities `input`, like `torch.nn.functional.kl_div`:
 * per element `t·(log t - input)` (0 where `t = 0`), or `exp(t)·(t - input)` with `logTarget`.
 */
export function klDiv(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: KLDivOptions & { reduction?: "mean" | "sum" | "batchmean" },
): tf.Scalar;
/** With `reduction: "none"`: the divergence of every element. */
export function klDiv(input: tf.Tensor, target: tf.Tensor, options: KLDivOptions): tf.Tensor;
export function klDiv(input: tf.Tensor, target: tf.Tensor, options: KLDivOptions = {}): tf.Tensor {
  const owner = "klDiv";
  const reduction = checkLossOptions(owner, options, ["reduction", "logTarget"], ["batchmean"]);
  return tf.tidy(() => {
    const [x, t] = broadcastPair(owner, toFloat32(input), asFloat(target));
    const loss = options.logTarget ? tf.mul(tf.exp(t), tf.sub(t, x)) : tf.sub(xlogx(t), tf.mul(t, x));
    if (reduction !== "batchmean") return reduce(loss, reduction, owner);
    // PyTorch: sum / input.size(0), or the plain sum for a scalar input.
    const total = tf.sum(loss);
    return input.rank === 0 ? total : tf.div(total, input.shape[0]!);
  });
}

import { followInputOp } from "../../amp/autocast";
import type { Generator } from "../../random/generator";
import { drawSeed, getDefaultGenerator } from "../../random/seed";
import { tf } from "../../runtime/tfjs";
import { checkNumber, checkOptionNames } from "../../utils/options";

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** The probability of zeroing an element (default 0.5). */
  p?: number;
  /** Apply dropout (default true, as `F.dropout`); false returns the input. */
  training?: boolean;
  /** Where the mask's randomness comes from (default: the global generator, seeded by `seedEverything`). */
  generator?: Generator;
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1/(1-p), like `F.dropout`; the identity
 * with `training: false` or `p` 0. Masks come from the seeded generator, so runs repeat.
 */
export function dropout(x: tf.Tensor, options: DropoutOptions = {}): tf.Tensor {
  checkOptionNames("dropout", options, ["p", "training", "generator"]);
  const p = options.p ?? 0.5;
  checkNumber("dropout", "p", p, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  if (options.training === false || p === 0) return x;
  const generator = options.generator ?? getDefaultGenerator();
  return tf.tidy(() => {
    if (p === 1) return tf.zerosLike(x);
    const u = tf.randomUniform(x.shape, 0, 1, "float32", drawSeed(generator));
    const scale = tf.mul(tf.cast(tf.greaterEqual(u, p), "float32"), 1 / (1 - p));
    return followInputOp((v) => tf.mul(v, scale), x);
  });
}

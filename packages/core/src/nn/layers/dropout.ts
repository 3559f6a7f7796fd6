import { followInputOp } from "../../amp/autocast";
import type { Generator } from "../../random/generator";
import { drawSeed, getDefaultGenerator } from "../../random/seed";
import { tf } from "../../runtime/tfjs";
import { checkNumber } from "../../utils/options";
import { Module } from "../module";

/**
 * Zeroes each element with probability `p` during training and scales the rest by 1/(1-p), like
 * `torch.nn.Dropout`; the identity in eval mode. Masks come from the seeded generator, so runs repeat.
 */
export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    private readonly generator: Generator = getDefaultGenerator(),
  ) {
    super();
    checkNumber("Dropout", "p", p, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    return tf.tidy(() => {
      if (this.p === 1) return tf.zerosLike(x);
      const u = tf.randomUniform(x.shape, 0, 1, "float32", drawSeed(this.generator));
      const scale = tf.mul(tf.cast(tf.greaterEqual(u, this.p), "float32"), 1 / (1 - this.p));
      return followInputOp((v) => tf.mul(v, scale), x);
    });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

import type { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber } from "../../utils/options";
import { cosineSimilarity, pairwiseDistance } from "../functional/distance";
import { Module } from "../module";

/** The cosine similarity of two inputs along `dim`, like `torch.nn.CosineSimilarity(dim, eps)` (1, 1e-8). */
export class CosineSimilarity extends Module {
  constructor(
    /** The dimension the vectors lie along (default 1). */
    readonly dim = 1,
    /** The smallest norm each vector is divided by (default 1e-8). */
    readonly eps = 1e-8,
  ) {
    super();
    if (!Number.isInteger(dim))
      throw new FulmenError(`CosineSimilarity: dim must be an integer, got ${dim}.`);
    checkNumber("CosineSimilarity", "eps", eps, (v) => v >= 0 && Number.isFinite(v), "a finite number ≥ 0");
  }

  forward(x1: tf.Tensor, x2: tf.Tensor): tf.Tensor {
    return cosineSimilarity(x1, x2, { dim: this.dim, eps: this.eps });
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}, eps=${this.eps}`;
  }
}

/**
 * The p-norm distance of `x1 − x2 + eps` over the last dimension, like `torch.nn.PairwiseDistance(p, eps,
 * keepdim)` (2, 1e-6, false).
 */
export class PairwiseDistance extends Module {
  constructor(
    /** The order of the norm (default 2). */
    readonly p = 2,
    /** Added to every difference before the norm (default 1e-6). */
    readonly eps = 1e-6,
    /** Keep the reduced last dimension with size 1 (default false). */
    readonly keepdim = false,
  ) {
    super();
    checkNumber("PairwiseDistance", "p", p, (v) => v >= 0, "a number ≥ 0 or Infinity");
    checkNumber("PairwiseDistance", "eps", eps, Number.isFinite, "a finite number");
  }

  forward(x1: tf.Tensor, x2: tf.Tensor): tf.Tensor {
    return pairwiseDistance(x1, x2, { p: this.p, eps: this.eps, keepdim: this.keepdim });
  }

  protected override extraRepr(): string {
    return `p=${this.p}, eps=${this.eps}, keepdim=${this.keepdim}`;
  }
}

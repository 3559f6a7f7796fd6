import { lowerPrecisionOp } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";

/** `x Wᵀ (+ b)`, the computation autocast runs in half. */
function affine(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const y = tf.matMul(x, w, false, true);
  return b === undefined ? y : tf.add(y, b);
}

/**
 * `y = x Wᵀ + b`, like `F.linear`: `weight` `[out, in]` (or `[in]` for one output with that dimension
 * dropped), `bias` `[out]` or none; `x` of any rank whose last dimension is `in`. Runs in half under autocast.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null = null): tf.Tensor {
  return tf.tidy(() => {
    if (!(x instanceof tf.Tensor)) {
      throw new FulmenError(`linear: expected a tensor input, got ${x === null ? "null" : typeof x}.`);
    }
    if (weight.rank !== 1 && weight.rank !== 2) {
      throw new FulmenError(`linear: weight must be [out, in] or [in], got shape [${weight.shape}].`);
    }
    const vectorWeight = weight.rank === 1;
    const w = vectorWeight ? tf.reshape(weight, [1, -1]) : weight;
    const [out, inFeatures] = w.shape as [number, number];
    if (x.rank === 0 || x.shape[x.rank - 1] !== inFeatures) {
      throw new FulmenError(
        `linear: input's last dimension is ${x.shape[x.rank - 1]} (shape [${x.shape}]) but the weight takes ${inFeatures} features (shape [${weight.shape}]).`,
      );
    }
    if (bias !== null && bias.size !== out) {
      throw new FulmenError(`linear: bias has ${bias.size} values for ${out} outputs; give one per output.`);
    }
    const flat = x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures]);
    const b = bias === null ? null : tf.reshape(bias, [out]);
    const inputs = b === null ? [flat, w] : [flat, w, b];
    const y = lowerPrecisionOp(affine, inputs);
    const lead = x.shape.slice(0, -1);
    return vectorWeight ? tf.reshape(y, lead) : x.rank === 2 ? y : tf.reshape(y, [...lead, out]);
  });
}

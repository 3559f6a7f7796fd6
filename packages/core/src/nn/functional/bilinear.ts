import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";

/**
 * `y_k = x1ᵀ A_k x2 + b_k`, like `F.bilinear`: `weight` `[out, in1, in2]`, `bias` `[out]` or none; the inputs
 * `[*, in1]` and `[*, in2]` with the same leading dimensions.
 */
export function bilinear(
  input1: tf.Tensor,
  input2: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
): tf.Tensor {
  if (weight.rank !== 3) {
    throw new FulmenError(`bilinear: weight must be [out, in1, in2], got shape [${weight.shape}].`);
  }
  const [out, in1, in2] = weight.shape as [number, number, number];
  const lead = input1.shape.slice(0, -1);
  if (
    input1.rank === 0 ||
    input1.shape[input1.rank - 1] !== in1 ||
    input2.shape[input2.rank - 1] !== in2 ||
    input2.shape.slice(0, -1).join() !== lead.join()
  ) {
    throw new FulmenError(
      `bilinear: expected inputs [*, ${in1}] and [*, ${in2}] with the same leading dimensions for a weight of shape [${weight.shape}], got [${input1.shape}] and [${input2.shape}].`,
    );
  }
  if (bias !== null && bias.size !== out) {
    throw new FulmenError(`bilinear: bias has ${bias.size} values for ${out} outputs; give one per output.`);
  }
  return tf.tidy(() => {
    const a = tf.reshape(input1, [-1, in1]);
    const b = tf.reshape(input2, [-1, in2]);
    // x1 A_k: [B, in1] · [in1, out·in2] → [B, out, in2], then the dot with x2 along in2
    const projected = tf.reshape(
      tf.matMul(a, tf.reshape(tf.transpose(weight, [1, 0, 2]), [in1, out * in2])),
      [-1, out, in2],
    );
    let y = tf.squeeze(tf.matMul(projected, tf.expandDims(b, 2)), [2]);
    if (bias !== null) y = tf.add(y, tf.reshape(bias, [out]));
    return tf.reshape(y, [...lead, out]);
  });
}

import { type ParameterSource, toParameterList } from "../../autograd/backward";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";

/**
 * `torch.nn.utils.parameters_to_vector` and `vector_to_parameters`: every parameter flattened into one vector
 * and back (second-order optimisers, weight averaging, hypernetworks).
 */

/** The parameters' values flattened and concatenated in order, like `parameters_to_vector` (the caller owns it). */
export function parametersToVector(params: ParameterSource): tf.Tensor1D {
  const list = toParameterList(params);
  if (list.length === 0) throw new FulmenError("parametersToVector: no parameters given.");
  return tf.tidy(
    () =>
      tf.concat(
        list.map((p) => tf.reshape(p.data, [-1])),
        0,
      ) as tf.Tensor1D,
  );
}

/** Copies consecutive slices of `vector` into the parameters, in order, like `vector_to_parameters`. */
export function vectorToParameters(vector: tf.Tensor, params: ParameterSource): void {
  const list = toParameterList(params);
  const total = list.reduce((s, p) => s + p.size, 0);
  if (vector.rank !== 1 || vector.size !== total) {
    throw new FulmenError(
      `vectorToParameters: expected a vector of ${total} values (the parameters' total size), got shape [${vector.shape}].`,
    );
  }
  let offset = 0;
  for (const p of list) {
    tf.tidy(() => p.assign(tf.reshape(tf.slice(vector, offset, p.size), p.shape)));
    offset += p.size;
  }
}

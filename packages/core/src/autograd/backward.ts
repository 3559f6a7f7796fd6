import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import type { Parameter } from "./parameter";

/** Anything that can list its parameters: a Module, or an iterable of parameters. */
export type ParameterSource =
  | Iterable<Parameter>
  | {
      /** The parameters to differentiate, as a module's `parameters()` lists them. */
      parameters(): Parameter[];
    };

/** Lists the parameters of a module or an iterable of parameters. */
export function toParameterList(source: ParameterSource): Parameter[] {
  return "parameters" in source && typeof source.parameters === "function"
    ? source.parameters()
    : [...(source as Iterable<Parameter>)];
}

/**
 * Fulmen's `loss.backward()`. TensorFlow.js differentiates a closure, not a finished tensor, so the loss is
 * computed by `closure` on the gradient tape; the gradient of every parameter of `params` that requires one is
 * added to its `grad` (two calls add up, as in PyTorch). Returns the loss, which the caller owns.
 *
 * @example
 * const loss = backward(() => crossEntropy(model.forward(x), y), model);
 * optimizer.step();
 */
export function backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
  // A disposed parameter (a model let go after training, still in a Fabric's list) cannot be in this loss.
  const trainable = toParameterList(params).filter((p) => p.requiresGrad && !p.isDisposed);
  if (trainable.length === 0) {
    throw new FulmenError(
      "backward: none of the given parameters requires a gradient; nothing to differentiate.",
    );
  }
  const { value, grads } = tf.variableGrads(
    () => {
      const loss = closure();
      if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
        throw new FulmenError(
          `backward: the closure must return a scalar loss tensor, got ${loss instanceof tf.Tensor ? `shape [${loss.shape}]` : typeof loss}. Reduce it with tf.mean or tf.sum.`,
        );
      }
      return loss;
    },
    trainable.map((p) => p.data),
  );
  for (const p of trainable) {
    const g = grads[p.data.name];
    if (g === undefined) continue;
    if (p.grad === null) {
      p.setGrad(g);
    } else {
      p.setGrad(tf.add(p.grad, g));
      g.dispose();
    }
  }
  return value;
}

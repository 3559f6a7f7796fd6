import type { ParameterSource } from "../autograd/backward";
import type { Module } from "../nn/module";
import type { Optimizer } from "../optim/optimizer";
import type { tf } from "../runtime/tfjs";

/**
 * A numeric format for training (Lightning's precision plugins): how modules are converted, what the forward
 * pass runs under, how the loss is differentiated (loss scaling) and how the optimizer steps (skipping on
 * overflow).
 */
export interface Precision {
  /** The Lightning name (`"32-true"`, `"16-mixed"`, …). */
  readonly name: string;
  /** Converts a module's parameters to the format (in place); returns the module. */
  convertModule<M extends Module>(module: M): M;
  /** Converts a module input to the format (float tensors become half in the half modes). */
  convertInput(input: tf.Tensor): tf.Tensor;
  /** Converts a module output back to float32 values. */
  convertOutput(output: tf.Tensor): tf.Tensor;
  /** Runs a forward computation under the format (autocast for mixed modes). */
  forwardContext<T>(fn: () => T): T;
  /** Differentiates the loss computed by `closure` into the parameters' grads; returns the (unscaled) loss. */
  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar;
  /** Brings gradients back to their true scale before clipping (a no-op without loss scaling). */
  unscaleGradients(optimizer: Optimizer): void;
  /**
   * Steps the optimizer; returns false when the step was skipped (overflow under loss scaling). A `closure` is
   * passed to `optimizer.step(closure)` (closure-based optimizers such as LBFGS call it, maybe several times);
   * a format that cannot run one (loss scaling) throws. Plugins that predate it may leave it out.
   */
  optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean;
  /** State to checkpoint (the loss scaler's). */
  stateDict(): Record<string, unknown>;
  /** Restores `Precision.stateDict`. */
  loadStateDict(state: Record<string, unknown>): void;
}

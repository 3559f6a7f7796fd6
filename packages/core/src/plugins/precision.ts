import { backward, type ParameterSource } from "../autograd/backward";
import type { Module } from "../nn/module";
import type { Optimizer } from "../optim/optimizer";
import type { tf } from "../runtime/tfjs";

/**
 * A numeric format for training (Lightning's `Precision` plugin base class): how modules are converted, what the
 * forward pass runs under, how the loss is differentiated (loss scaling) and how the optimizer steps (skipping on
 * overflow). Every method has Lightning's default, full float32 precision (`"32-true"`): a plugin extends the
 * class, gives its `name` and overrides only what its format changes.
 */
export abstract class Precision {
  /** The Lightning name (`"32-true"`, `"16-mixed"`, …). */
  abstract readonly name: string;

  /** Converts a module's parameters to the format (in place); returns the module. Default: unchanged. */
  convertModule<M extends Module>(module: M): M {
    return module;
  }

  /** Converts a module input to the format (float tensors become half in the half modes). Default: unchanged. */
  convertInput(input: tf.Tensor): tf.Tensor {
    return input;
  }

  /** Converts a module output back to float32 values. Default: unchanged. */
  convertOutput(output: tf.Tensor): tf.Tensor {
    return output;
  }

  /** Runs a forward computation under the format (autocast for mixed modes). Default: runs `fn` as it is. */
  forwardContext<T>(fn: () => T): T {
    return fn();
  }

  /**
   * Differentiates the loss computed by `closure` into the parameters' grads; returns the (unscaled) loss.
   * Default: plain backward.
   */
  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    return backward(closure, params);
  }

  /** Brings gradients back to their true scale before clipping. Default: nothing (no loss scaling). */
  unscaleGradients(_optimizer: Optimizer): void {}

  /**
   * Steps the optimizer; returns false when the step was skipped (overflow under loss scaling). A `closure` is
   * passed to `optimizer.step(closure)` (closure-based optimizers such as LBFGS call it, maybe several times);
   * a format that cannot run one (loss scaling) throws. Default: always steps.
   */
  optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    // Without a closure the call stays `step()` exactly; with one, the optimizer runs it (LBFGS, maybe often).
    if (closure === undefined) optimizer.step();
    else optimizer.step(closure);
    return true;
  }

  /** State to checkpoint (the loss scaler's). Default: none. */
  stateDict(): Record<string, unknown> {
    return {};
  }

  /** Restores what `stateDict` returned. Default: nothing to restore. */
  loadStateDict(_state: Record<string, unknown>): void {}
}

import {
  backward,
  type Module,
  type Optimizer,
  type ParameterSource,
  type Precision,
  precisionRegistry,
  type tf,
} from "@fulmen/core";

/**
 * `"32-true"`: everything in float32, the tfjs native format. Modules are unchanged, the forward pass runs as
 * is, backward differentiates the loss directly and the optimizer always steps.
 */
export class Float32Precision implements Precision {
  readonly name = "32-true";

  convertModule<M extends Module>(module: M): M {
    return module;
  }

  convertInput(input: tf.Tensor): tf.Tensor {
    return input;
  }

  convertOutput(output: tf.Tensor): tf.Tensor {
    return output;
  }

  forwardContext<T>(fn: () => T): T {
    return fn();
  }

  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    return backward(closure, params);
  }

  unscaleGradients(_optimizer: Optimizer): void {}

  optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    // Without a closure, the call stays `step()` exactly; with one, the optimizer runs it (LBFGS, maybe often).
    if (closure === undefined) optimizer.step();
    else optimizer.step(closure);
    return true;
  }

  stateDict(): Record<string, unknown> {
    return {};
  }

  loadStateDict(_state: Record<string, unknown>): void {}
}

precisionRegistry.register("32-true", () => new Float32Precision(), {
  description: "float32 weights and computation",
  packageName: "@fulmen/precision",
});

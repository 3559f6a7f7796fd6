import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";

/** Options of a {@link Parameter}. */
export interface ParameterOptions {
  /** Whether {@link backward} computes a gradient for it (default true). */
  requiresGrad?: boolean;
  /** A name for the underlying tfjs variable (must be unique in the process). */
  name?: string;
}

/**
 * A trainable tensor, like `torch.nn.Parameter`: `data` is the tfjs variable holding its value and `grad`
 * accumulates gradients across {@link backward} calls until the optimizer's `zeroGrad()` clears it.
 */
export class Parameter {
  /** The current value; optimizers update it in place with `assign`. */
  readonly data: tf.Variable;
  /** The accumulated gradient, or null when none has been computed since the last `zeroGrad()`. */
  grad: tf.Tensor | null = null;

  /** Wraps a copy of `value` (a tensor, or nested numbers) as a float32 parameter. */
  constructor(value: tf.Tensor | tf.TensorLike, options: ParameterOptions = {}) {
    const owned = value instanceof tf.Tensor ? null : tf.tensor(value, undefined, "float32");
    const source = owned ?? (value as tf.Tensor);
    if (source.dtype !== "float32") {
      owned?.dispose();
      throw new FulmenError(
        `Parameter: expected a float32 tensor, got ${source.dtype}. Cast it with tf.cast first.`,
      );
    }
    this.data = tf.variable(source, options.requiresGrad ?? true, options.name);
    tf.keep(this.data);
    owned?.dispose();
  }

  /** A parameter of the given shape filled with `value` (layers create theirs this way, then initialise them). */
  static full(shape: number[], value = 0, options: ParameterOptions = {}): Parameter {
    const init = tf.fill(shape, value, "float32");
    try {
      return new Parameter(init, options);
    } finally {
      init.dispose();
    }
  }

  /** Whether gradients are computed for this parameter. */
  get requiresGrad(): boolean {
    return this.data.trainable;
  }

  set requiresGrad(flag: boolean) {
    this.data.trainable = flag;
  }

  /** The parameter's shape. */
  get shape(): number[] {
    return this.data.shape;
  }

  /** The number of elements. */
  get size(): number {
    return this.data.size;
  }

  /** Copies `value` into the parameter (shape and dtype must match). */
  assign(value: tf.Tensor): void {
    if (!tf.util.arraysEqual(value.shape, this.data.shape)) {
      throw new FulmenError(
        `Parameter.assign: shape [${value.shape}] does not match the parameter's shape [${this.data.shape}].`,
      );
    }
    this.data.assign(value);
  }

  /** Replaces the accumulated gradient (the parameter keeps the tensor and disposes the one it had). */
  setGrad(grad: tf.Tensor | null): void {
    if (grad !== null && !tf.util.arraysEqual(grad.shape, this.data.shape)) {
      throw new FulmenError(
        `Parameter.setGrad: gradient shape [${grad.shape}] does not match [${this.data.shape}].`,
      );
    }
    if (this.grad !== null && this.grad !== grad) this.grad.dispose();
    this.grad = grad === null ? null : tf.keep(grad);
  }

  /** Frees the value and the gradient. */
  dispose(): void {
    this.setGrad(null);
    this.data.dispose();
  }
}

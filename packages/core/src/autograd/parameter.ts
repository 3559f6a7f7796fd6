import { processWide, withDepth } from "../runtime/process-wide";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";

// Whether parameters are being created without values (fabric.initModule({ emptyInit: true })), once per process.
const initState = processWide("autograd/deferred-init@1", () => ({ depth: 0 }));

const DEFERRED_REASON =
  "it was created under fabric.initModule({ emptyInit: true }) and gets its value when the model is set up " +
  "(fabric.setup(model), or the Trainer); set it up first, or call materializeDeferred(model).";

/**
 * Runs `fn` with parameter creation deferred (Lightning's `init_module(empty_init=True)`, PyTorch's meta device):
 * parameters made inside keep their shape but no value, and initialisers (`init.*_`, layers' `resetParameters`)
 * skip them; `materializeDeferred` from `@fulmen/core/plugin` (or a strategy's setup, unit by unit) gives them
 * their values later.
 */
export function deferParameterInit<T>(fn: () => T): T {
  return withDepth(initState, fn);
}

/** What a deferred parameter gets when it is materialised: a constant, or a value given at creation. */
type Pending = { fill: number } | { value: tf.Tensor };

/** A shape and a fill, for creating a parameter without allocating it (see {@link Parameter.full}). */
class Deferred {
  constructor(
    readonly shape: number[],
    readonly pending: Pending,
  ) {}
}

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
  /** The accumulated gradient, or null when none has been computed since the last `zeroGrad()`. */
  grad: tf.Tensor | null = null;
  private storage: tf.Variable | null;
  private readonly fixedShape: number[];
  private readonly fixedSize: number;
  private trainable: boolean;
  /** Why the storage is released (see {@link Parameter.releaseStorage}), for the error on access. */
  private releasedBecause = "";
  private disposed = false;
  /** What a parameter created under deferred initialisation gets when materialised, or null. */
  private pending: Pending | null = null;
  /** Whether the storage is a tensor lent by a sharding strategy (see {@link Parameter.lend}), not a variable. */
  private lent = false;
  /** A value shown in place of the storage (see {@link Parameter.overlay}), or null. */
  private shown: tf.Tensor | null = null;

  /** Wraps a copy of `value` (a tensor, or nested numbers) as a float32 parameter. */
  constructor(value: tf.Tensor | tf.TensorLike, options: ParameterOptions = {}) {
    this.trainable = options.requiresGrad ?? true;
    if (value instanceof Deferred) {
      this.fixedShape = [...value.shape];
      this.fixedSize = tf.util.sizeFromShape(value.shape);
      this.storage = null;
      this.pending = value.pending;
      this.releasedBecause = DEFERRED_REASON;
      return;
    }
    const owned = value instanceof tf.Tensor ? null : tf.tensor(value, undefined, "float32");
    const source = owned ?? (value as tf.Tensor);
    if (source.dtype !== "float32") {
      owned?.dispose();
      throw new FulmenError(
        `Parameter: expected a float32 tensor, got ${source.dtype}. Cast it with tf.cast first.`,
      );
    }
    this.fixedShape = [...source.shape];
    this.fixedSize = source.size;
    if (initState.depth > 0) {
      // Deferred: the value given is kept as it is (a custom module's own tensor), to be used when materialised.
      this.storage = null;
      this.pending = { value: tf.keep(tf.clone(source)) };
      this.releasedBecause = DEFERRED_REASON;
      owned?.dispose();
      return;
    }
    this.storage = tf.variable(source, this.trainable, options.name);
    tf.keep(this.storage);
    owned?.dispose();
  }

  /** Whether the parameter was created under {@link deferParameterInit} and has no value yet. */
  get isDeferred(): boolean {
    return this.pending !== null;
  }

  /**
   * Gives a deferred parameter the value it was created with (its fill, or the tensor it was given); returns
   * whether it was deferred. Initialisers run afterwards (a layer's `resetParameters`) then draw its values.
   */
  materialize(): boolean {
    const pending = this.pending;
    if (pending === null) return false;
    const value = "fill" in pending ? tf.fill(this.fixedShape, pending.fill, "float32") : pending.value;
    this.pending = null;
    try {
      this.restoreStorage(value);
    } finally {
      value.dispose();
    }
    return true;
  }

  /** A new parameter with a copy of this one's value (deferred if this one is), and the same `requiresGrad`. */
  copy(): Parameter {
    const options = { requiresGrad: this.trainable };
    const pending = this.pending;
    if (pending === null) return new Parameter(this.data, options);
    return new Parameter(
      new Deferred(
        this.fixedShape,
        "fill" in pending ? pending : { value: tf.keep(tf.clone(pending.value)) },
      ) as never,
      options,
    );
  }

  /**
   * The current value, a tfjs variable that optimizers update in place with `assign`. Throws while the storage
   * is released by a sharding strategy (see {@link Parameter.releaseStorage}).
   */
  get data(): tf.Variable {
    if (this.shown !== null) return this.shown as tf.Variable;
    if (this.storage === null)
      throw new FulmenError(
        `This parameter of shape [${this.fixedShape}] holds no value here: ${this.releasedBecause}`,
      );
    return this.storage;
  }

  /**
   * Shows `value` (a tensor the caller owns, computed from `data` on tfjs's tape, such as its cast to half) in
   * place of the variable until called with null, so that a module's forward reads the parameter in another
   * dtype while gradients still reach the variable: a strategy's mixed precision (FSDP's `param_dtype`).
   * `assign` is refused meanwhile.
   */
  overlay(value: tf.Tensor | null): void {
    if (value !== null && (!tf.util.arraysEqual(value.shape, this.fixedShape) || value.dtype !== "float32"))
      throw new FulmenError(
        `Parameter.overlay: expected a float32 tensor of shape [${this.fixedShape}], got ${value.dtype} [${value.shape}].`,
      );
    this.shown = value;
  }

  /** Whether the parameter holds its value (false while a sharding strategy has released it). */
  get isMaterialized(): boolean {
    return this.storage !== null;
  }

  /**
   * Frees the value, keeping shape, `requiresGrad` and gradient (PyTorch FSDP's freeing of a parameter's storage
   * between uses): a sharding strategy keeps only a shard of it elsewhere and calls
   * {@link Parameter.restoreStorage} before the parameter is used. Until then reading `data` throws an error
   * that gives `reason`.
   */
  releaseStorage(reason: string): void {
    if (!this.lent) this.storage?.dispose();
    this.lent = false;
    this.storage = null;
    this.dropPending();
    this.releasedBecause = reason;
  }

  private dropPending(): void {
    if (this.pending !== null && "value" in this.pending) this.pending.value.dispose();
    this.pending = null;
  }

  /** Gives a released (or present) parameter the value `value` (copied; shape must match) in a new variable. */
  restoreStorage(value: tf.Tensor): void {
    if (!tf.util.arraysEqual(value.shape, this.fixedShape) || value.dtype !== "float32")
      throw new FulmenError(
        `Parameter.restoreStorage: expected a float32 tensor of shape [${this.fixedShape}], got ${value.dtype} [${value.shape}].`,
      );
    if (!this.lent) this.storage?.dispose();
    this.lent = false;
    this.storage = tf.keep(tf.variable(value, this.trainable));
    this.dropPending();
  }

  /**
   * Makes `value`, a tensor the caller owns, the parameter's value until {@link Parameter.releaseStorage}: a
   * sharding strategy lends the gathered value as a tensor on tfjs's tape (the output of its own op), so that
   * the gradient reaching it arrives while backward runs rather than at its end, as a variable's would. The
   * value is read-only while lent (`assign` is refused); `data` returns it.
   */
  lend(value: tf.Tensor): void {
    if (!tf.util.arraysEqual(value.shape, this.fixedShape) || value.dtype !== "float32")
      throw new FulmenError(
        `Parameter.lend: expected a float32 tensor of shape [${this.fixedShape}], got ${value.dtype} [${value.shape}].`,
      );
    if (!this.lent) this.storage?.dispose();
    this.storage = value as tf.Variable;
    this.lent = true;
    this.dropPending();
  }

  /** A parameter of the given shape filled with `value` (layers create theirs this way, then initialise them). */
  static full(shape: number[], value = 0, options: ParameterOptions = {}): Parameter {
    if (initState.depth > 0) return new Parameter(new Deferred(shape, { fill: value }) as never, options);
    const init = tf.fill(shape, value, "float32");
    try {
      return new Parameter(init, options);
    } finally {
      init.dispose();
    }
  }

  /** Whether gradients are computed for this parameter. */
  get requiresGrad(): boolean {
    return this.trainable;
  }

  /** Sets whether gradients are computed for this parameter (and whether its tfjs variable is trainable). */
  set requiresGrad(flag: boolean) {
    this.trainable = flag;
    if (this.storage !== null && !this.lent) this.storage.trainable = flag;
  }

  /** The parameter's shape. */
  get shape(): number[] {
    return this.fixedShape;
  }

  /** The number of elements. */
  get size(): number {
    return this.fixedSize;
  }

  /** Copies `value` into the parameter (shape and dtype must match). */
  assign(value: tf.Tensor): void {
    if (!tf.util.arraysEqual(value.shape, this.fixedShape)) {
      throw new FulmenError(
        `Parameter.assign: shape [${value.shape}] does not match the parameter's shape [${this.fixedShape}].`,
      );
    }
    if (this.lent || this.shown !== null)
      throw new FulmenError(
        "Parameter.assign: the parameter holds a value gathered or cast by a strategy for the model's forward or backward, which cannot be assigned; assign outside the model's forward.",
      );
    this.data.assign(value);
  }

  /** Replaces the accumulated gradient (the parameter keeps the tensor and disposes the one it had). */
  setGrad(grad: tf.Tensor | null): void {
    if (grad !== null && !tf.util.arraysEqual(grad.shape, this.fixedShape)) {
      throw new FulmenError(
        `Parameter.setGrad: gradient shape [${grad.shape}] does not match [${this.fixedShape}].`,
      );
    }
    if (this.grad !== null && this.grad !== grad) this.grad.dispose();
    this.grad = grad === null ? null : tf.keep(grad);
  }

  /** Whether {@link Parameter.dispose} freed it (it then takes no part in any backward). */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the value and the gradient. */
  dispose(): void {
    this.disposed = true;
    this.setGrad(null);
    if (!this.lent) this.storage?.dispose();
    this.lent = false;
    this.storage = null;
    this.dropPending();
    this.releasedBecause = "it has been disposed.";
  }
}

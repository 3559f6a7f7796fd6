import {
  type Accelerator,
  type CheckpointContents,
  type CheckpointIO,
  FulmenError,
  type Module,
  type Optimizer,
  type ParameterSource,
  type Precision,
  type ReduceOp,
  type Strategy,
  strategyRegistry,
  tf,
} from "@fulmen/core";

/**
 * One process on one device (Lightning's `SingleDeviceStrategy`). The collectives are identities with the
 * shapes a distributed run would give for a world of one, so the same script later runs distributed.
 */
export class SingleDeviceStrategy implements Strategy {
  readonly name = "single_device";
  readonly worldSize: number = 1;
  readonly globalRank: number = 0;
  readonly localRank: number = 0;
  readonly nodeRank: number = 0;
  private accelerator: Accelerator | null = null;
  private precisionPlugin: Precision | null = null;

  get rootDevice(): string {
    return `${this.accelerator?.name ?? "cpu"}:0`;
  }

  connect(accelerator: Accelerator, precision: Precision): void {
    this.accelerator = accelerator;
    this.precisionPlugin = precision;
  }

  private get precision(): Precision {
    if (this.precisionPlugin === null) {
      throw new FulmenError(
        "SingleDeviceStrategy: connect() must be called with an accelerator and a precision first.",
      );
    }
    return this.precisionPlugin;
  }

  setupModule<M extends Module>(module: M): M {
    return this.precision.convertModule(module);
  }

  setupOptimizer<O extends Optimizer>(optimizer: O): O {
    return optimizer;
  }

  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    return this.precision.backward(closure, params);
  }

  optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    // The closure goes on only when given, so precision plugins without the parameter are called as before.
    return closure === undefined
      ? this.precision.optimizerStep(optimizer)
      : this.precision.optimizerStep(optimizer, closure);
  }

  allReduce(tensor: tf.Tensor, op: ReduceOp): tf.Tensor {
    if (!["sum", "mean", "max", "min"].includes(op)) {
      throw new FulmenError(`allReduce: unknown reduce op '${op}'; use "sum", "mean", "max" or "min".`);
    }
    return tf.clone(tensor);
  }

  allGather(tensor: tf.Tensor): tf.Tensor {
    return tf.clone(tensor);
  }

  broadcast<T>(value: T, src: number): T {
    if (src !== 0) throw new FulmenError(`broadcast: src ${src} does not exist in a world of size 1.`);
    return value;
  }

  saveCheckpoint(contents: CheckpointContents, path: string, io: CheckpointIO): void {
    io.save(contents, path);
  }

  loadCheckpoint(path: string, io: CheckpointIO): CheckpointContents {
    return io.load(path);
  }

  barrier(_name?: string): void {}

  teardown(): void {}
}

strategyRegistry.register("single_device", () => new SingleDeviceStrategy(), {
  description: "one process on one device",
  packageName: "@fulmen/fabric",
});

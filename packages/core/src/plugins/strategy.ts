import type { ParameterSource } from "../autograd/backward";
import type { CheckpointContents, CheckpointIO } from "../checkpoint/checkpoint-io";
import type { StateFilter } from "../checkpoint/state-codec";
import type { Module } from "../nn/module";
import type { Optimizer } from "../optim/optimizer";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import type { Accelerator } from "./accelerator";
import type { Precision } from "./precision";

/** How values are combined by {@link Strategy.allReduce}. */
export type ReduceOp = "sum" | "mean" | "max" | "min";

/**
 * How training is spread over processes and devices (Lightning's `Strategy` base class): rank information, how
 * modules and optimizers are prepared, how backward and optimizer steps run, the collectives and checkpoint
 * writing. Every member has a default for one process on one device (a world of one whose collectives return
 * their input, backward and steps through the precision, the checkpoint written by this process): a strategy
 * extends the class, gives its `name` and overrides what it changes (Fabric's `ParallelStrategy` overrides the
 * ranks and the collectives).
 */
export abstract class Strategy {
  /** The registry name (`"single_device"`, `"ddp"`, …). */
  abstract readonly name: string;
  private acceleratorPlugin: Accelerator | null = null;
  private precisionPlugin: Precision | null = null;

  /** How many processes the run has. Default: 1. */
  get worldSize(): number {
    return 1;
  }

  /** This process's rank among all processes. Default: 0. */
  get globalRank(): number {
    return 0;
  }

  /** This process's rank on its machine. Default: 0. */
  get localRank(): number {
    return 0;
  }

  /** This machine's rank among the machines. Default: 0. */
  get nodeRank(): number {
    return 0;
  }

  /** The device this process computes on (`"cpu:0"`). Default: the accelerator's device of this local rank. */
  get rootDevice(): string {
    return `${this.acceleratorPlugin?.name ?? "cpu"}:${this.localRank}`;
  }

  /**
   * For strategies that span processes: the connector tells how many devices per node and how many nodes the run
   * has, before checking `Strategy.worldSize`.
   */
  configureWorld?(world: { devices: number; numNodes: number }): void;
  /** Starts the other processes (if this one launches them) and connects the collectives; `fabric.launch()` calls it. */
  launch?(): Promise<void>;
  /** Runs `fn` without synchronising gradients across processes (gradient accumulation). */
  noBackwardSync?<T>(fn: () => T): T;
  /**
   * True when {@link Strategy.setupModule} gives the parameters of a module made under
   * `fabric.initModule({ emptyInit: true })` their values itself (a sharding strategy, unit by unit); otherwise
   * (the default) Fabric materialises the whole module before calling it.
   */
  get materializesDeferred(): boolean {
    return false;
  }
  /**
   * Clips gradients that the strategy holds itself (sharded strategies keep gradient shards outside the
   * parameters): by the global `maxNorm` across processes, returning the total norm, or by `clipVal`, returning
   * null. `fabric.clipGradients` calls it, after unscaling, where the strategy has it.
   */
  clipGradients?(
    module: Module,
    optimizer: Optimizer,
    options: { maxNorm?: number; clipVal?: number; normType: number; errorIfNonfinite: boolean },
  ): tf.Scalar | null;
  /**
   * Encodes the state `fabric.save` is given, where the strategy encodes it its own way (a sharded strategy
   * saving each process's parts without gathering them); otherwise Fabric encodes it with `encodeState`.
   */
  encodeCheckpoint?(state: Record<string, unknown>, filters: Record<string, StateFilter>): CheckpointContents;

  /** Connects the strategy to the chosen accelerator and precision, before anything is set up. */
  connect(accelerator: Accelerator, precision: Precision): void {
    this.acceleratorPlugin = accelerator;
    this.precisionPlugin = precision;
  }

  /** The accelerator given to `connect()`, or null before. */
  protected get accelerator(): Accelerator | null {
    return this.acceleratorPlugin;
  }

  /** The precision given to `connect()`. */
  protected get precision(): Precision {
    if (this.precisionPlugin === null)
      throw new FulmenError(
        `The "${this.name}" strategy: connect() must be called with an accelerator and a precision first.`,
      );
    return this.precisionPlugin;
  }

  /** Prepares a module (converting it to the precision, wrapping it for the strategy). Default: the precision's conversion. */
  setupModule<M extends Module>(module: M): M {
    return this.precision.convertModule(module);
  }

  /** Prepares an optimizer. Default: unchanged. */
  setupOptimizer<O extends Optimizer>(optimizer: O): O {
    return optimizer;
  }

  /** Differentiates a loss closure into the parameters' grads (through the precision); returns the loss. */
  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    return this.precision.backward(closure, params);
  }

  /**
   * Steps an optimizer (through the precision); returns whether the step was taken. A `closure` (which clears
   * the gradients, recomputes the loss with backward and returns it) is handed on to `optimizer.step(closure)`,
   * which may call it several times (LBFGS).
   */
  optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    // The closure goes on only when given, so precision plugins without the parameter are called as before.
    return closure === undefined
      ? this.precision.optimizerStep(optimizer)
      : this.precision.optimizerStep(optimizer, closure);
  }

  /** Combines a tensor across processes; returns a new tensor the caller owns. Default: a copy (a world of one). */
  allReduce(tensor: tf.Tensor, op: ReduceOp): tf.Tensor {
    if (!["sum", "mean", "max", "min"].includes(op))
      throw new FulmenError(`allReduce: unknown reduce op '${op}'; use "sum", "mean", "max" or "min".`);
    return tf.clone(tensor);
  }

  /** Stacks a tensor from every process along a new first dimension (not added when worldSize is 1). Default: a copy. */
  allGather(tensor: tf.Tensor): tf.Tensor {
    return tf.clone(tensor);
  }

  /** Sends a JSON-serialisable value from `src` to every process. Default: the value (a world of one). */
  broadcast<T>(value: T, src: number): T {
    if (src !== 0) throw new FulmenError(`broadcast: src ${src} does not exist in a world of size 1.`);
    return value;
  }

  /** Writes a checkpoint (deciding which processes write, and ending with a barrier). Default: rank 0 writes. */
  saveCheckpoint(contents: CheckpointContents, path: string, io: CheckpointIO): void {
    if (this.globalRank === 0) io.save(contents, path);
    this.barrier("saveCheckpoint");
  }

  /** Reads a checkpoint. */
  loadCheckpoint(path: string, io: CheckpointIO): CheckpointContents {
    return io.load(path);
  }

  /** Waits for every process. Default: nothing to wait for. */
  barrier(_name?: string): void {}

  /** Releases what the strategy holds. Default: nothing. */
  teardown(): void {}
}

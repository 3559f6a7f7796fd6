import type { ParameterSource } from "../autograd/backward";
import type { CheckpointContents, CheckpointIO } from "../checkpoint/checkpoint-io";
import type { StateFilter } from "../checkpoint/state-codec";
import type { Module } from "../nn/module";
import type { Optimizer } from "../optim/optimizer";
import type { tf } from "../runtime/tfjs";
import type { Accelerator } from "./accelerator";
import type { Precision } from "./precision";

/** How values are combined by {@link Strategy.allReduce}. */
export type ReduceOp = "sum" | "mean" | "max" | "min";

/**
 * How training is spread over processes and devices (Lightning's strategies): rank information, how modules and
 * optimizers are prepared, how backward and optimizer steps run, and the collectives.
 */
export interface Strategy {
  /** The registry name (`"single_device"`, `"ddp"`, …). */
  readonly name: string;
  readonly worldSize: number;
  readonly globalRank: number;
  readonly localRank: number;
  readonly nodeRank: number;
  /** The device this process computes on (`"cpu:0"`). */
  readonly rootDevice: string;
  /**
   * For strategies that span processes: the connector tells how many devices per node and how many nodes the run
   * has, before checking `Strategy.worldSize`.
   */
  configureWorld?(world: { devices: number; numNodes: number }): void;
  /** Starts the other processes (if this one launches them) and connects the collectives; `fabric.launch()` calls it. */
  launch?(): Promise<void>;
  /** Runs `fn` without synchronising gradients across processes (gradient accumulation). */
  noBackwardSync?<T>(fn: () => T): T;
  /** Connects the strategy to the chosen accelerator and precision, before anything is set up. */
  connect(accelerator: Accelerator, precision: Precision): void;
  /**
   * True when {@link Strategy.setupModule} gives the parameters of a module made under
   * `fabric.initModule({ emptyInit: true })` their values itself (a sharding strategy, unit by unit); otherwise
   * Fabric materialises the whole module before calling it.
   */
  readonly materializesDeferred?: boolean;
  /** Prepares a module (converting it to the precision, wrapping it for the strategy). */
  setupModule<M extends Module>(module: M): M;
  /** Prepares an optimizer. */
  setupOptimizer<O extends Optimizer>(optimizer: O): O;
  /** Differentiates a loss closure into the parameters' grads (through the precision); returns the loss. */
  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar;
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
   * Steps an optimizer (through the precision); returns whether the step was taken. A `closure` (which clears
   * the gradients, recomputes the loss with backward and returns it) is handed on to `optimizer.step(closure)`,
   * which may call it several times (LBFGS); strategies that predate it may leave it out.
   */
  optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean;
  /** Combines a tensor across processes; returns a new tensor the caller owns. */
  allReduce(tensor: tf.Tensor, op: ReduceOp): tf.Tensor;
  /** Stacks a tensor from every process along a new first dimension (not added when worldSize is 1). */
  allGather(tensor: tf.Tensor): tf.Tensor;
  /** Sends a JSON-serialisable value from `src` to every process. */
  broadcast<T>(value: T, src: number): T;
  /**
   * Encodes the state `fabric.save` is given, where the strategy encodes it its own way (a sharded strategy
   * saving each process's parts without gathering them); otherwise Fabric encodes it with `encodeState`.
   */
  encodeCheckpoint?(state: Record<string, unknown>, filters: Record<string, StateFilter>): CheckpointContents;
  /** Writes a checkpoint (deciding which processes write, and ending with a barrier). */
  saveCheckpoint(contents: CheckpointContents, path: string, io: CheckpointIO): void;
  /** Reads a checkpoint. */
  loadCheckpoint(path: string, io: CheckpointIO): CheckpointContents;
  /** Waits for every process. */
  barrier(name?: string): void;
  /** Releases what the strategy holds. */
  teardown(): void;
}

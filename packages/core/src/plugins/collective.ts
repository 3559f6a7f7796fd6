import type { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { PluginRegistry, sharedStore } from "./registry";
import type { ReduceOp } from "./strategy";

/** Data a collective can reduce: float32, int32, or 16-bit floats as raw bits (see {@link HalfBits}). */
export type ReducibleData = Float32Array | Int32Array | Uint16Array;
/** Data a collective can move without reducing it: anything reducible, and bytes. */
export type CollectiveData = ReducibleData | Uint8Array;
/** How a `Uint16Array` is read when it is reduced: IEEE half or bfloat16 bits. */
export type HalfBits = "float16" | "bfloat16";

/** Options of the reducing collectives. */
export interface ReduceOptions {
  /** Required for `Uint16Array` data: the 16-bit float format of its elements. */
  halfFormat?: HalfBits;
}

/**
 * A collective started in the background (see {@link Collective.allGatherStart}): it runs while this process
 * computes; `wait()` blocks until it is done and returns its result (and may be called inside tfjs's synchronous
 * gradient code). Every started collective must be waited for.
 */
export interface StartedCollective<T> {
  /** Blocks until the collective has finished and returns its result; call it exactly once. */
  wait(): T;
}

/**
 * Communication between the processes of a run (what PyTorch's process groups do): the distributed strategies
 * use it; Gloo's addon implements it across processes, and {@link SingleProcessCollective} for a world of one.
 * Every operation must be called by every process in the same order. The synchronous forms block until done (and
 * may be used inside tfjs's synchronous gradient code); the `Async` forms run off the event loop.
 */
export interface Collective {
  /** This process's rank in the collective, from 0 to `worldSize - 1`. */
  readonly rank: number;
  /** The number of processes in the collective. */
  readonly worldSize: number;
  /** Reduces `data` across processes in place (each process ends with the result). */
  allReduce(data: ReducibleData, op: ReduceOp, options?: ReduceOptions): void;
  /** {@link Collective.allReduce} off the event loop: resolves once `data` holds the result. */
  allReduceAsync(data: ReducibleData, op: ReduceOp, options?: ReduceOptions): Promise<void>;
  /**
   * Concatenates every process's `data` in rank order (all inputs have the same length). The result is written
   * into `out` when given (`worldSize` times as long, the same type) — an implementation may ignore it, so read
   * the returned array.
   */
  allGather<T extends CollectiveData>(data: T, out?: T): T;
  /** {@link Collective.allGather} off the event loop: resolves to the concatenation, a new array. */
  allGatherAsync<T extends CollectiveData>(data: T): Promise<T>;
  /**
   * Reduces `data` across processes and returns this rank's chunk (`data.length / worldSize` elements), written
   * into `out` when given (see {@link Collective.allGather}).
   */
  reduceScatter<T extends ReducibleData>(data: T, op: ReduceOp, options?: ReduceOptions, out?: T): T;
  /** {@link Collective.reduceScatter} off the event loop: resolves to this rank's reduced chunk. */
  reduceScatterAsync<T extends ReducibleData>(data: T, op: ReduceOp, options?: ReduceOptions): Promise<T>;
  /**
   * Starts {@link Collective.allGather} on a thread of its own and returns at once; its `wait()` gives the
   * result. What lets the sharded strategies gather the next unit's weights while tfjs computes the current one
   * (FSDP's prefetch). `data` must not change until then. Optional: without it, they gather when needed.
   */
  allGatherStart?<T extends CollectiveData>(data: T, out?: T): StartedCollective<T>;
  /** Starts {@link Collective.reduceScatter} on a thread of its own (see {@link Collective.allGatherStart}). */
  reduceScatterStart?<T extends ReducibleData>(
    data: T,
    op: ReduceOp,
    options?: ReduceOptions,
    out?: T,
  ): StartedCollective<T>;
  /** Copies `data` from `src` to every process in place. */
  broadcast(data: CollectiveData, src: number): void;
  /** {@link Collective.broadcast} off the event loop: resolves once `data` holds rank `src`'s values. */
  broadcastAsync(data: CollectiveData, src: number): Promise<void>;
  /** Waits for every process. */
  barrier(): void;
  /** {@link Collective.barrier} off the event loop: resolves once every process has reached it. */
  barrierAsync(): Promise<void>;
  /**
   * Splits the processes into subgroups (MPI's `Comm_split`, PyTorch's `new_subgroups_by_enumeration`): every
   * process calls it, in the same order, with its `color`; those with the same color form one subgroup, ranked
   * in their order here. Resolves to this process's subgroup. Optional: a backend without subgroups leaves it
   * out, and what needs them (FSDP's `HYBRID_SHARD` across machines) says so.
   */
  split?(color: number): Promise<Collective>;
  /** Ends the collective's connections (a split-off subgroup's too). */
  close(): void;
}

/** How the processes of a run meet: what a collective backend needs to connect. */
export interface CollectiveOptions {
  /** This process's global rank, from 0 to `worldSize - 1` (`RANK`). */
  rank: number;
  /** The number of processes that connect (`WORLD_SIZE`). */
  worldSize: number;
  /** Host of rank 0, which serves the rendezvous store (`MASTER_ADDR`). */
  mainAddress: string;
  /** Port of the rendezvous store (`MASTER_PORT`). */
  mainPort: number;
  /** How long an operation (and the rendezvous) may wait for a peer before failing; default 30 000 ms. */
  timeoutMs?: number;
  /** A shared directory to meet in instead of rank 0's TCP store. */
  fileStorePath?: string;
  /** The address this process's transport listens on; default: its address on the route to `mainAddress`. */
  hostname?: string;
}

/** Connects a collective across processes (a backend such as Gloo registers one). */
export type CollectiveFactory = (options: CollectiveOptions) => Promise<Collective>;

/** Collective backends by name (`"gloo"`), registered by the packages that implement them; one per process. */
export const collectiveRegistry = new PluginRegistry<CollectiveFactory>(
  "collective backend",
  sharedStore("collective"),
);

function checkOp(op: ReduceOp): void {
  if (!["sum", "mean", "max", "min"].includes(op))
    throw new FulmenError(`Unknown reduce op '${op}'; use "sum", "mean", "max" or "min".`);
}

/** Checks that a caller's output array has the `length` elements an operation writes. */
function checkOutput(length: number, out: CollectiveData, name: string): void {
  if (out.length !== length)
    throw new FulmenError(
      `${name}: the output array (${out.length} elements) does not fit the result (${length} elements); pass one that does, or none.`,
    );
}

/** The collective of a run with one process: every operation is the identity, with the right shapes. */
export class SingleProcessCollective implements Collective {
  /** Always 0. */
  readonly rank = 0;
  /** Always 1. */
  readonly worldSize = 1;

  allReduce(_data: ReducibleData, op: ReduceOp): void {
    checkOp(op);
  }

  /** Checks `op` and leaves `data` as it is: the reduction of one process's data is that data. */
  async allReduceAsync(data: ReducibleData, op: ReduceOp): Promise<void> {
    this.allReduce(data, op);
  }

  allGather<T extends CollectiveData>(data: T, out?: T): T {
    if (out === undefined) return data.slice() as T;
    checkOutput(data.length, out, "allGather");
    out.set(data as never);
    return out;
  }

  /** Resolves to a copy of `data`. */
  async allGatherAsync<T extends CollectiveData>(data: T): Promise<T> {
    return this.allGather(data);
  }

  reduceScatter<T extends ReducibleData>(data: T, op: ReduceOp, _options?: ReduceOptions, out?: T): T {
    checkOp(op);
    if (out === undefined) return data.slice() as T;
    checkOutput(data.length, out, "reduceScatter");
    out.set(data as never);
    return out;
  }

  /** Checks `op` and resolves to a copy of `data` (the only rank's chunk is the whole). */
  async reduceScatterAsync<T extends ReducibleData>(data: T, op: ReduceOp): Promise<T> {
    return this.reduceScatter(data, op);
  }

  allGatherStart<T extends CollectiveData>(data: T, out?: T): StartedCollective<T> {
    const result = this.allGather(data, out);
    return { wait: () => result };
  }

  reduceScatterStart<T extends ReducibleData>(
    data: T,
    op: ReduceOp,
    options?: ReduceOptions,
    out?: T,
  ): StartedCollective<T> {
    const result = this.reduceScatter(data, op, options, out);
    return { wait: () => result };
  }

  broadcast(_data: CollectiveData, src: number): void {
    if (src !== 0) throw new RangeError(`broadcast: src ${src} does not exist in a world of one process.`);
  }

  /** Leaves `data` as it is; rejects with a `RangeError` when `src` is not 0. */
  async broadcastAsync(data: CollectiveData, src: number): Promise<void> {
    this.broadcast(data, src);
  }

  barrier(): void {}

  /** Resolves at once: there is no other process to wait for. */
  async barrierAsync(): Promise<void> {}

  async split(color: number): Promise<Collective> {
    if (!Number.isInteger(color) || color < 0)
      throw new FulmenError(`split: the color must be a non-negative integer, got ${color}.`);
    return new SingleProcessCollective();
  }

  close(): void {}
}

/** Reduces the tensors a strategy holds through a collective, element-wise, returning a new tensor. */
export type TensorReducer = (tensor: tf.Tensor, op: ReduceOp) => tf.Tensor;

import type { tf } from "../runtime/tfjs";
import type { ReduceOp } from "./strategy";

/**
 * Communication between the processes of a run (what PyTorch's process groups do): the distributed strategies
 * use it; Gloo's addon implements it across processes, and {@link SingleProcessCollective} for a world of one.
 * Tensor data is float32 or int32; `TypedArray` forms let strategies send flat buffers (buckets) directly.
 */
export interface Collective {
  readonly rank: number;
  readonly worldSize: number;
  /** Reduces `data` across processes in place (each process ends with the result). */
  allReduce(data: Float32Array | Int32Array, op: ReduceOp): void;
  /** Concatenates every process's `data` in rank order (all inputs have the same length). */
  allGather(data: Float32Array | Int32Array): Float32Array | Int32Array;
  /** Copies `data` from `src` to every process in place. */
  broadcast(data: Float32Array | Int32Array | Uint8Array, src: number): void;
  /** Waits for every process. */
  barrier(): void;
  /** Ends the collective's connections. */
  close(): void;
}

/** The collective of a run with one process: every operation is the identity, with the right shapes. */
export class SingleProcessCollective implements Collective {
  readonly rank = 0;
  readonly worldSize = 1;

  allReduce(_data: Float32Array | Int32Array, _op: ReduceOp): void {}

  allGather(data: Float32Array | Int32Array): Float32Array | Int32Array {
    return data.slice();
  }

  broadcast(_data: Float32Array | Int32Array | Uint8Array, src: number): void {
    if (src !== 0) throw new RangeError(`broadcast: src ${src} does not exist in a world of one process.`);
  }

  barrier(): void {}

  close(): void {}
}

/** Reduces the tensors a strategy holds through a collective, element-wise, returning a new tensor. */
export type TensorReducer = (tensor: tf.Tensor, op: ReduceOp) => tf.Tensor;

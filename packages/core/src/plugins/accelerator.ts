import type { tf } from "../runtime/tfjs";

/**
 * Hardware that runs tensors: which tfjs backend it drives, whether it can be used here, and how many devices
 * it offers. Implemented by `cpu` (and, from their own packages, `wasm` and `cuda`).
 */
export interface Accelerator {
  /** The registry name (`"cpu"`). */
  readonly name: string;
  /** The tfjs backend this accelerator makes current. */
  readonly backendName: string;
  /**
   * Whether every kernel gives bit-identical results from run to run (no atomics, no autotuned algorithms). The
   * Trainer's `deterministic: true` requires it; absent means no such guarantee.
   */
  readonly deterministic?: boolean;
  /** Whether the accelerator can run on this machine (its backend is installed and loads). */
  isAvailable(): boolean;
  /** Why `isAvailable()` is false, with the fix, for the error a user sees when asking for it by name. */
  unavailableReason?(): string;
  /** How many devices `devices: "auto"` means. */
  autoDeviceCount(): number;
  /** Makes the backend current; resolves when it is ready. */
  setup(): Promise<void>;
  /** Releases what setup acquired. */
  teardown(): void;
  /**
   * Copies a float32 tensor's values into `target` at `offset` straight from where the backend keeps them, for
   * code that stages tensors in host buffers (DDP's gradient buckets). Absent: `dataSync()` and a copy, which
   * on backends whose memory is not a JS array allocates a temporary array each time.
   */
  copyToHost?(tensor: tf.Tensor, target: Float32Array, offset: number): void;
  /**
   * Whether a tensor made from a typed array copies the array (true where tensors live outside the JS heap:
   * wasm memory, a GPU). Staging buffers may then be reused at once; where it is false or absent the new
   * tensor may share the array, and the array must not be written again.
   */
  readonly uploadCopies?: boolean;
  /**
   * A host buffer for values that will become this accelerator's tensors (DDP's gradient buckets), which the
   * engine may take back and reuse once no tensor made from it remains. Absent: a new array each time.
   */
  stagingBuffer?(length: number): Float32Array;
  /**
   * Whether tensors live in memory of their own, apart from the host's (a GPU's): sharded strategies may then
   * offload shards and optimizer state to host memory (DeepSpeed's offload, FSDP's cpuOffload) to free it.
   */
  readonly hasDeviceMemory?: boolean;
}

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
}

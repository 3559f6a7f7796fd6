import type { DeviceBackend } from "@fulmen/accelerator-cuda";
import { tf } from "@fulmen/core";

/** What a group of checks gives: how many passed and failed, and why each failure failed. */
export interface Outcome {
  passed: number;
  failed: number;
  failures: string[];
}

/**
 * The proof's checks on one backend: each runs by name, a thrown error is its failure (the run goes on), and
 * the backend under proof is current again after each, whatever the check switched to.
 */
export class CheckRun {
  readonly outcome: Outcome = { passed: 0, failed: 0, failures: [] };

  constructor(readonly backendName: string) {}

  /** The backend under proof (current between checks). */
  get device(): DeviceBackend {
    return tf.engine().findBackend(this.backendName) as DeviceBackend;
  }

  /** Runs one named check. */
  async check(name: string, body: () => void | Promise<void>): Promise<void> {
    try {
      await body();
      this.outcome.passed++;
    } catch (error) {
      this.outcome.failed++;
      this.outcome.failures.push(`${name}: ${(error as Error).message}`);
    }
    await tf.setBackend(this.backendName);
  }

  /** `fn` on tfjs's cpu backend: the reference. */
  async onCpu<T>(fn: () => T): Promise<T> {
    await tf.setBackend("cpu");
    const result = fn();
    await tf.setBackend(this.backendName);
    return result;
  }
}

/** Fails the check with `message` unless `condition` holds. */
export function assert(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

/** Close to float32 precision: within `tolerance` relative (plus as much absolute), NaN for NaN. */
export function close(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (g === w) continue;
    if (Number.isNaN(w) ? !Number.isNaN(g) : !(Math.abs(g - w) <= tolerance * (1 + Math.abs(w))))
      return `element ${i}: ${g}, expected ${w}`;
  }
  return null;
}

/** Class ids 0, 1, …, classes - 1, 0, 1, … for `n` rows. */
export const labels = (n: number, classes: number): tf.Tensor1D =>
  tf.tensor1d(
    Array.from({ length: n }, (_, i) => i % classes),
    "int32",
  );

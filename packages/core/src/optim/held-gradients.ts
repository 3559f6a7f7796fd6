import type { tf } from "../runtime/tfjs";
import type { Optimizer } from "./optimizer";

/**
 * Gradients an optimizer keeps outside its parameters' `grad` (a sharded optimizer's gradient shards), for code
 * that must see every gradient: loss scaling unscales them and checks them for overflow. The holder installs
 * it with {@link setHeldGradients}; the precision plugins find it with {@link heldGradientsOf}.
 */
export interface HeldGradients {
  /** This process's held gradient tensors (owned by the holder), in a fixed order. */
  tensors(): tf.Tensor[];
  /** Replaces them, in the same order, with new tensors the holder keeps (and disposes the old ones). */
  replace(tensors: tf.Tensor[]): void;
  /**
   * Whether `flag` is true on any process (every process must call it): one process's shard overflowing must
   * make every process skip the step.
   */
  anyAcrossProcesses(flag: boolean): boolean;
}

// A symbol shared by every copy of core in the process (its ES and CommonJS builds).
const KEY = Symbol.for("@fulmen/core/held-gradients@1");

/** Installs `held` on `optimizer` (a sharded strategy on the optimizers it shards). */
export function setHeldGradients(optimizer: Optimizer, held: HeldGradients): void {
  Object.defineProperty(optimizer, KEY, { value: held, configurable: true, enumerable: false });
}

/** The gradients `optimizer` holds outside its parameters, or undefined for an ordinary optimizer. */
export function heldGradientsOf(optimizer: Optimizer): HeldGradients | undefined {
  return (optimizer as unknown as Record<symbol, HeldGradients | undefined>)[KEY];
}

import { FulmenError } from "../utils/errors";
import { processWide } from "./process-wide";
import { tf } from "./tfjs";

/** What tfjs's backends offer for rewriting a data buffer in place (the calls tfjs uses to move data between backends). */
interface BufferBackend {
  refCount(dataId: object): number;
  disposeData(dataId: object, force?: boolean): boolean;
  move(dataId: object, values: Float32Array, shape: number[], dtype: "float32", refCount: number): void;
}

/** The engine state whose byte count follows freed buffers (`tf.memory().numBytes`). */
interface EngineState {
  state: { numBytes: number };
}

// Buffers whose values are freed, with the bytes taken off tfjs's count, once per process (a buffer freed by
// one copy of the package may be refilled by another).
const freed = processWide("runtime/freed-storage@1", () => new WeakMap<object, number>());

function backendOf(t: tf.Tensor): BufferBackend {
  const backend = tf.engine().backend as unknown as Partial<BufferBackend>;
  if (typeof backend.move !== "function" || typeof backend.refCount !== "function")
    throw new FulmenError(
      `The "${tf.getBackend()}" backend cannot rewrite a tensor's data buffer in place (it lacks move/refCount), which sharded parameters need; use the "cpu", "host", "wasm" or "cuda" accelerator.`,
    );
  if (t.dtype !== "float32")
    throw new FulmenError(`freeTensorStorage: only float32 tensors are freed this way, got ${t.dtype}.`);
  return backend as BufferBackend;
}

/**
 * Frees the values of `t`'s data buffer while every tensor sharing it (tfjs's tape keeps copies of the tensors a
 * gradient needs) stays valid, as PyTorch FSDP resizes a gathered parameter's storage to zero after its forward:
 * {@link refillTensorStorage} writes values back before anything reads them again. Reading in between reads an
 * empty buffer, so only code that controls every reader (a sharding strategy) may call it. Returns false when
 * no tensor uses the buffer any more (nothing to free). `tf.memory().numBytes` leaves the buffer's bytes out
 * until it is refilled or {@link forgetFreedStorage} is called.
 */
export function freeTensorStorage(t: tf.Tensor): boolean {
  const backend = backendOf(t);
  const refs = backend.refCount(t.dataId);
  if (refs === 0 || freed.has(t.dataId)) return refs > 0;
  backend.disposeData(t.dataId, true);
  backend.move(t.dataId, new Float32Array(0), [0], "float32", refs);
  const bytes = 4 * t.size * refs;
  (tf.engine() as unknown as EngineState).state.numBytes -= bytes;
  freed.set(t.dataId, bytes);
  return true;
}

/**
 * Writes `values` (as many as `t` has elements) into `t`'s data buffer freed by {@link freeTensorStorage}, for
 * every tensor that shares it. Returns false when no tensor uses the buffer any more.
 */
export function refillTensorStorage(t: tf.Tensor, values: Float32Array): boolean {
  const backend = backendOf(t);
  if (values.length !== t.size)
    throw new FulmenError(`refillTensorStorage: ${values.length} values for a tensor of ${t.size} elements.`);
  const refs = backend.refCount(t.dataId);
  forgetFreedStorage(t);
  if (refs === 0) return false;
  backend.disposeData(t.dataId, true);
  backend.move(t.dataId, values, t.shape, "float32", refs);
  return true;
}

/**
 * Stops tracking a buffer freed by {@link freeTensorStorage} that will not be refilled (its tensors are about to
 * be disposed): `tf.memory().numBytes` counts the tensors still sharing it again, as tfjs does for any buffer,
 * and drops them as they are disposed. Without it, the bytes taken off at freeing would be taken off twice.
 */
export function forgetFreedStorage(t: tf.Tensor): void {
  const bytes = freed.get(t.dataId);
  if (bytes === undefined) return;
  freed.delete(t.dataId);
  (tf.engine() as unknown as EngineState).state.numBytes += bytes;
}

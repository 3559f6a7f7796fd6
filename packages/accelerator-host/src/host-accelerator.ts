import { cpus } from "node:os";
import { type Accelerator, FulmenError, tf } from "@fulmen/core";
import { acceleratorRegistry } from "@fulmen/core/plugin";
import "@tensorflow/tfjs-backend-cpu";
import { HostEngineBackend } from "./host-backend";
import { isEngineAvailable, loadEngine } from "./native-engine";
import { HOST_BACKEND, registerHostBackend } from "./register-host-backend";

/** How many ranks share this machine (set by Fulmen's launcher, torchrun or `fulmen run`). */
function localWorldSize(env: NodeJS.ProcessEnv): number {
  const n = Number(env.LOCAL_WORLD_SIZE ?? env.FULMEN_DEVICES ?? 1);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/**
 * The native engine's host build as an accelerator (`accelerator: "host"`): GEMMs on OpenBLAS, the rest on
 * tfjs's CPU kernels over the same memory. It uses this process's share of the cores — all of them alone, an
 * equal share under DDP — never more (oversubscribed BLAS threads make every rank slower).
 */
export class HostAccelerator implements Accelerator {
  readonly name: string = "host";
  readonly backendName: string = HOST_BACKEND;
  /** OpenBLAS with a fixed thread count computes every product in one fixed order. */
  readonly deterministic: boolean = true;

  isAvailable(): boolean {
    return isEngineAvailable();
  }

  /** Why the engine cannot load here: the build's own reason and how to build it. */
  unavailableReason(): string {
    try {
      loadEngine();
      return "it is available";
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  autoDeviceCount(): number {
    return 1;
  }

  /** The BLAS threads this process uses. */
  threads(): number {
    return loadEngine().threads();
  }

  async setup(): Promise<void> {
    const engine = loadEngine();
    registerHostBackend(engine);
    engine.setThreads(Math.max(1, Math.floor(cpus().length / localWorldSize(process.env))));
    if (!(await tf.setBackend(HOST_BACKEND)))
      throw new FulmenError(`The host engine's tfjs backend "${HOST_BACKEND}" failed to initialise.`);
  }

  teardown(): void {}

  /** Reads the stored values in place: no copy, and (unlike dataSync) the engine may still recycle them. */
  copyToHost(tensor: tf.Tensor, target: Float32Array, offset: number): void {
    const backend = tf.backend();
    if (backend instanceof HostEngineBackend && tensor.dtype === "float32" && backend.holds(tensor))
      target.set(backend.floats(tensor), offset);
    else target.set(tensor.dataSync() as Float32Array, offset);
  }

  /** From the engine's pool: the array returns to it once every tensor made from it is gone. */
  stagingBuffer(length: number): Float32Array {
    const backend = tf.backend();
    return backend instanceof HostEngineBackend
      ? backend.allocate(Float32Array, length)
      : new Float32Array(length);
  }
}

acceleratorRegistry.register("host", () => new HostAccelerator(), {
  description: "the native engine's CPU build: OpenBLAS GEMMs, tfjs CPU kernels for the rest",
  packageName: "@fulmen/accelerator-host",
});

import { createRequire } from "node:module";
import { type Accelerator, FulmenError, tf } from "@fulmen/core";
import { acceleratorRegistry } from "@fulmen/core/plugin";
import { withoutAddedProcessHandlers } from "./process-handlers";
import { registerWasmKernels } from "./register-kernels";

const BACKEND_PACKAGE = "@tensorflow/tfjs-backend-wasm";
// The backend package is CommonJS: loading it with require finds it exactly where isAvailable looked.
const load = createRequire(import.meta.url);

/**
 * tfjs's WebAssembly backend (SIMD; single-threaded in Node), with Fulmen's kernels registered so that every
 * layer of core's `nn` trains on it, fast. Needs the optional dependency `@tensorflow/tfjs-backend-wasm`.
 */
export class WasmAccelerator implements Accelerator {
  readonly name: string = "wasm";
  readonly backendName: string = "wasm";
  /** tfjs's wasm kernels run one fixed sequence of operations per call: results are bit-identical run to run. */
  readonly deterministic: boolean = true;

  isAvailable(): boolean {
    try {
      load.resolve(BACKEND_PACKAGE);
      return true;
    } catch {
      return false;
    }
  }

  autoDeviceCount(): number {
    return 1;
  }

  async setup(): Promise<void> {
    try {
      load(BACKEND_PACKAGE);
    } catch (e) {
      throw new FulmenError(
        `The wasm accelerator needs ${BACKEND_PACKAGE}: install it (pnpm add ${BACKEND_PACKAGE}@4.22.0). (${(e as Error).message})`,
      );
    }
    // Instantiating the wasm module installs Emscripten's process error handlers; they are taken off again.
    if (!(await withoutAddedProcessHandlers(() => tf.setBackend(this.backendName)))) {
      throw new FulmenError(
        'The wasm backend failed to initialise; see the messages above, or use accelerator: "cpu".',
      );
    }
    await tf.ready();
    registerWasmKernels();
  }

  teardown(): void {}

  /** Tensors live in the wasm heap: making one from an array copies it in. */
  readonly uploadCopies: boolean = true;

  copyToHost(tensor: tf.Tensor, target: Float32Array, offset: number): void {
    const backend = tf.backend() as unknown as Partial<WasmHeapAccess>;
    if (tensor.dtype === "float32" && backend.dataIdMap?.has(tensor.dataId) && backend.typedArrayFromHeap) {
      // A view on the heap, read before anything else runs on it (the heap may move when it grows).
      target.set(backend.typedArrayFromHeap(tensor) as Float32Array, offset);
    } else {
      target.set(tensor.dataSync() as Float32Array, offset);
    }
  }
}

/** The wasm backend's view of its heap (public methods of tfjs's BackendWasm). */
interface WasmHeapAccess {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(info: { shape: number[]; dtype: tf.DataType; dataId: object }): tf.TypedArray;
}

acceleratorRegistry.register("wasm", () => new WasmAccelerator(), {
  description: "tfjs's WebAssembly backend (SIMD) with Fulmen's training kernels",
  packageName: "@fulmen/fabric",
});

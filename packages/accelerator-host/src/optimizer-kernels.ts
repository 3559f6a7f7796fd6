import { tf } from "@fulmen/core";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { NativeEngine } from "./native-engine";
import { UPDATE_SPECS, type UpdateSpec } from "./optimizer-updates";

/** A fused update kernel on the host engine: its state read in place, fresh outputs from the engine's pool. */
function hostUpdateKernel(engine: NativeEngine, spec: UpdateSpec): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as Record<string, unknown>;
    const backend = args.backend as HostEngineBackend;
    const shape = inputs.param!.shape;
    const n = tf.util.sizeFromShape(shape);
    const outputs = spec
      .outputs(attrs)
      .map((present) => (present ? backend.allocate(Float32Array, n) : null));
    const run = engine[spec.method] as (...values: Array<Float32Array | number[] | null>) => void;
    run(
      ...spec.inputs.map((name) => {
        const t = inputs[name];
        return t === undefined ? null : backend.floats(t);
      }),
      ...outputs,
      spec.hyper(attrs),
    );
    return outputs.flatMap((values) =>
      values === null ? [] : [backend.makeTensorInfo(shape, "float32", values)],
    );
  };
}

/** Registers the engine's fused optimizer kernels (core's *_UPDATE_KERNEL contracts) for `backendName`. */
export function registerOptimizerKernels(engine: NativeEngine, backendName: string): void {
  for (const spec of UPDATE_SPECS)
    tf.registerKernel({
      kernelName: spec.kernelName,
      backendName,
      kernelFunc: hostUpdateKernel(engine, spec),
    });
}

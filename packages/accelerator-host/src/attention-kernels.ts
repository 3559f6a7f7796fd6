import { tf } from "@fulmen/core";
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL } from "@fulmen/core/plugin";
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import { outputsOf } from "./kernel-outputs";
import type { AttentionShapeArgs, NativeEngine } from "./native-engine";

// Scaled dot-product attention as one native kernel each way (native/attention_host.cc): the scale, the two
// batched products, the mask and the softmax forward, and their gradients backward, without a dispatch between.

/** The engine's shape arguments from `q [N, L, E]`, `k [N, S, E]`, `v [N, S, Ev]` and core's attrs. */
function shapeArgs(q: TensorInfo, k: TensorInfo, v: TensorInfo, attrs: NamedAttrMap): AttentionShapeArgs {
  const [, l, e] = q.shape as [number, number, number];
  const a = attrs as unknown as Record<string, number> & { causal?: boolean };
  return [
    a.outer!,
    a.inner!,
    l,
    k.shape[1]!,
    e,
    v.shape[2]!,
    a.strideOuter!,
    a.strideInner!,
    a.strideRow!,
    a.strideCol!,
    a.scale!,
    a.causal === true,
  ];
}

/** `{q, k, v, bias?}` → `[output, weights]` (core's ATTENTION_KERNEL contract). */
function attentionKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { q, k, v, bias } = args.inputs as Record<string, TensorInfo>;
    const backend = args.backend as HostEngineBackend;
    const shape = shapeArgs(q!, k!, v!, args.attrs ?? {});
    const [n, l, s, ev] = [q!.shape[0]!, shape[2], shape[3], shape[5]];
    const out = outputsOf(backend, [
      [n, l, ev],
      [n, l, s],
    ]);
    const [output, weights] = out.arrays as [Float32Array, Float32Array];
    const read = (t: TensorInfo) => backend.floats(t);
    const mask = bias === undefined ? null : read(bias);
    engine.attention(read(q!), read(k!), read(v!), mask, output, weights, ...shape);
    return out.infos();
  };
}

/** `{dOutput, dWeights?, q, k, v, weights}` → `[dq, dk, dv, dBias]` (core's ATTENTION_GRAD_KERNEL contract). */
function attentionGradKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const i = args.inputs as Record<string, TensorInfo>;
    const backend = args.backend as HostEngineBackend;
    const attrs = args.attrs ?? {};
    const shape = shapeArgs(i.q!, i.k!, i.v!, attrs);
    const biasShape = attrs.biasShape as number[];
    const biasSize = attrs.hasBias === true ? biasShape.reduce((p, d) => p * d, 1) : 0;
    const out = outputsOf(backend, [i.q!.shape, i.k!.shape, i.v!.shape, [biasSize]]);
    const [dq, dk, dv, dBias] = out.arrays as [Float32Array, Float32Array, Float32Array, Float32Array];
    const read = (name: string) => backend.floats(i[name]!);
    engine.attentionGrad(
      read("dOutput"),
      i.dWeights === undefined ? null : read("dWeights"),
      read("q"),
      read("k"),
      read("v"),
      read("weights"),
      dq,
      dk,
      dv,
      biasSize > 0 ? dBias : null,
      ...shape,
    );
    return out.infos();
  };
}

/** Registers the engine's fused attention kernels (core's ATTENTION pair) for `backendName`. */
export function registerAttentionKernels(engine: NativeEngine, backendName: string): void {
  tf.registerKernel({ kernelName: ATTENTION_KERNEL, backendName, kernelFunc: attentionKernel(engine) });
  tf.registerKernel({
    kernelName: ATTENTION_GRAD_KERNEL,
    backendName,
    kernelFunc: attentionGradKernel(engine),
  });
}

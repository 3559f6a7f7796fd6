import {
  ADAGRAD_UPDATE_KERNEL,
  ADAM_UPDATE_KERNEL,
  RMSPROP_UPDATE_KERNEL,
  SGD_UPDATE_KERNEL,
  tf,
} from "@fulmen/core";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { NativeEngine } from "./native-engine";

/** What a fused update kernel works with: its attrs, its inputs' values, and outputs of the parameter's size. */
interface UpdateContext<A> {
  attrs: A;
  /** The values of input `name`; null when the kernel was not given it (state the options leave out). */
  input(name: string): Float32Array | null;
  /** A fresh output array, or null when `present` is false. */
  output(present?: boolean): Float32Array | null;
}

/**
 * A fused update kernel (core's `*_UPDATE_KERNEL` contracts): `body` fills its outputs through the engine and
 * returns them in the contract's order, null for those the options leave out; they become the kernel's tensors.
 */
function updateKernel<A>(body: (u: UpdateContext<A>) => Array<Float32Array | null>): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const backend = args.backend as HostEngineBackend;
    const shape = inputs.param!.shape;
    const n = tf.util.sizeFromShape(shape);
    const outputs = body({
      attrs: args.attrs as unknown as A,
      input: (name) => {
        const t = inputs[name];
        return t === undefined ? null : backend.floats(t);
      },
      output: (present = true) => (present ? backend.allocate(Float32Array, n) : null),
    });
    return outputs.flatMap((values) =>
      values === null ? [] : [backend.makeTensorInfo(shape, "float32", values)],
    );
  };
}

interface AdamAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  stepSize: number;
  biasCorrection2Sqrt: number;
  decoupled: boolean;
  amsgrad: boolean;
  maximize: boolean;
}

/** Adam/AdamW (ADAM_UPDATE_KERNEL): param, expAvg, expAvgSq[, maxExpAvgSq]. */
const adamUpdate = (engine: NativeEngine) =>
  updateKernel<AdamAttrs>(({ attrs: a, input, output }) => {
    const [param, expAvg, expAvgSq, maxExpAvgSq] = [output(), output(), output(), output(a.amsgrad)];
    engine.adamUpdate(
      input("param")!,
      input("grad")!,
      input("expAvg")!,
      input("expAvgSq")!,
      input("maxExpAvgSq"),
      param!,
      expAvg!,
      expAvgSq!,
      maxExpAvgSq,
      [
        a.lr,
        a.beta1,
        a.beta2,
        a.eps,
        a.weightDecay,
        a.stepSize,
        a.biasCorrection2Sqrt,
        a.decoupled ? 1 : 0,
        a.amsgrad ? 1 : 0,
        a.maximize ? 1 : 0,
      ],
    );
    return [param, expAvg, expAvgSq, maxExpAvgSq];
  });

interface SgdAttrs {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  hasBuffer: boolean;
}

/** SGD (SGD_UPDATE_KERNEL): param[, momentumBuffer]. */
const sgdUpdate = (engine: NativeEngine) =>
  updateKernel<SgdAttrs>(({ attrs: a, input, output }) => {
    const [param, buffer] = [output(), output(a.momentum !== 0)];
    engine.sgdUpdate(input("param")!, input("grad")!, input("momentumBuffer"), param!, buffer, [
      a.lr,
      a.momentum,
      a.dampening,
      a.weightDecay,
      a.nesterov ? 1 : 0,
      a.maximize ? 1 : 0,
      a.hasBuffer ? 1 : 0,
    ]);
    return [param, buffer];
  });

interface RmspropAttrs {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/** RMSprop (RMSPROP_UPDATE_KERNEL): param, squareAvg[, gradAvg][, momentumBuffer]. */
const rmspropUpdate = (engine: NativeEngine) =>
  updateKernel<RmspropAttrs>(({ attrs: a, input, output }) => {
    const [param, squareAvg, gradAvg, buffer] = [
      output(),
      output(),
      output(a.centered),
      output(a.momentum > 0),
    ];
    engine.rmspropUpdate(
      input("param")!,
      input("grad")!,
      input("squareAvg")!,
      input("gradAvg"),
      input("momentumBuffer"),
      param!,
      squareAvg!,
      gradAvg,
      buffer,
      [a.lr, a.alpha, a.eps, a.weightDecay, a.momentum, a.centered ? 1 : 0, a.maximize ? 1 : 0],
    );
    return [param, squareAvg, gradAvg, buffer];
  });

interface AdagradAttrs {
  clr: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/** Adagrad (ADAGRAD_UPDATE_KERNEL): param, sum. */
const adagradUpdate = (engine: NativeEngine) =>
  updateKernel<AdagradAttrs>(({ attrs: a, input, output }) => {
    const [param, sum] = [output(), output()];
    engine.adagradUpdate(input("param")!, input("grad")!, input("sum")!, param!, sum!, [
      a.clr,
      a.eps,
      a.weightDecay,
      a.maximize ? 1 : 0,
    ]);
    return [param, sum];
  });

/** Registers the engine's fused optimizer kernels for `backendName`. */
export function registerOptimizerKernels(engine: NativeEngine, backendName: string): void {
  const kernels: Array<[string, KernelFunc]> = [
    [ADAM_UPDATE_KERNEL, adamUpdate(engine)],
    [SGD_UPDATE_KERNEL, sgdUpdate(engine)],
    [RMSPROP_UPDATE_KERNEL, rmspropUpdate(engine)],
    [ADAGRAD_UPDATE_KERNEL, adagradUpdate(engine)],
  ];
  for (const [kernelName, kernelFunc] of kernels) tf.registerKernel({ kernelName, backendName, kernelFunc });
}

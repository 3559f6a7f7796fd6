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

/** Core's fused Adam/AdamW update (ADAM_UPDATE_KERNEL) in one native pass. */
function adamUpdateKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs as unknown as AdamAttrs;
    const backend = args.backend as HostEngineBackend;
    const param = inputs.param!;
    const n = param.shape.reduce((p, d) => p * d, 1);
    const outs = [
      backend.allocate(Float32Array, n),
      backend.allocate(Float32Array, n),
      backend.allocate(Float32Array, n),
    ];
    const maxOut = a.amsgrad ? backend.allocate(Float32Array, n) : null;
    engine.adamUpdate(
      backend.floats(param),
      backend.floats(inputs.grad!),
      backend.floats(inputs.expAvg!),
      backend.floats(inputs.expAvgSq!),
      a.amsgrad ? backend.floats(inputs.maxExpAvgSq!) : null,
      outs[0]!,
      outs[1]!,
      outs[2]!,
      maxOut,
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
    return [...outs, ...(maxOut === null ? [] : [maxOut])].map((values) =>
      backend.makeTensorInfo(param.shape, "float32", values),
    );
  };
}

interface SgdAttrs {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  hasBuffer: boolean;
}

/** Core's fused SGD update (SGD_UPDATE_KERNEL) in one native pass. */
function sgdUpdateKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs as unknown as SgdAttrs;
    const backend = args.backend as HostEngineBackend;
    const param = inputs.param!;
    const n = param.shape.reduce((p, d) => p * d, 1);
    const paramOut = backend.allocate(Float32Array, n);
    const bufferOut = a.momentum !== 0 ? backend.allocate(Float32Array, n) : null;
    engine.sgdUpdate(
      backend.floats(param),
      backend.floats(inputs.grad!),
      a.momentum !== 0 ? backend.floats(inputs.momentumBuffer!) : null,
      paramOut,
      bufferOut,
      [
        a.lr,
        a.momentum,
        a.dampening,
        a.weightDecay,
        a.nesterov ? 1 : 0,
        a.maximize ? 1 : 0,
        a.hasBuffer ? 1 : 0,
      ],
    );
    return [paramOut, ...(bufferOut === null ? [] : [bufferOut])].map((values) =>
      backend.makeTensorInfo(param.shape, "float32", values),
    );
  };
}

interface RmspropAttrs {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

/** Core's fused RMSprop update (RMSPROP_UPDATE_KERNEL): outputs param, squareAvg, [gradAvg], [momentumBuffer]. */
function rmspropUpdateKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs as unknown as RmspropAttrs;
    const backend = args.backend as HostEngineBackend;
    const param = inputs.param!;
    const n = param.shape.reduce((p, d) => p * d, 1);
    const momentum = a.momentum > 0;
    const paramOut = backend.allocate(Float32Array, n);
    const squareAvgOut = backend.allocate(Float32Array, n);
    const gradAvgOut = a.centered ? backend.allocate(Float32Array, n) : null;
    const bufferOut = momentum ? backend.allocate(Float32Array, n) : null;
    engine.rmspropUpdate(
      backend.floats(param),
      backend.floats(inputs.grad!),
      backend.floats(inputs.squareAvg!),
      a.centered ? backend.floats(inputs.gradAvg!) : null,
      momentum ? backend.floats(inputs.momentumBuffer!) : null,
      paramOut,
      squareAvgOut,
      gradAvgOut,
      bufferOut,
      [a.lr, a.alpha, a.eps, a.weightDecay, a.momentum, a.centered ? 1 : 0, a.maximize ? 1 : 0],
    );
    return [paramOut, squareAvgOut, gradAvgOut, bufferOut].flatMap((values) =>
      values === null ? [] : [backend.makeTensorInfo(param.shape, "float32", values)],
    );
  };
}

interface AdagradAttrs {
  clr: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/** Core's fused Adagrad update (ADAGRAD_UPDATE_KERNEL): outputs param, sum. */
function adagradUpdateKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs as unknown as AdagradAttrs;
    const backend = args.backend as HostEngineBackend;
    const param = inputs.param!;
    const n = param.shape.reduce((p, d) => p * d, 1);
    const paramOut = backend.allocate(Float32Array, n);
    const sumOut = backend.allocate(Float32Array, n);
    engine.adagradUpdate(
      backend.floats(param),
      backend.floats(inputs.grad!),
      backend.floats(inputs.sum!),
      paramOut,
      sumOut,
      [a.clr, a.eps, a.weightDecay, a.maximize ? 1 : 0],
    );
    return [paramOut, sumOut].map((values) => backend.makeTensorInfo(param.shape, "float32", values));
  };
}

/** Registers the engine's fused optimizer kernels for `backendName`. */
export function registerOptimizerKernels(engine: NativeEngine, backendName: string): void {
  tf.registerKernel({ kernelName: ADAM_UPDATE_KERNEL, backendName, kernelFunc: adamUpdateKernel(engine) });
  tf.registerKernel({ kernelName: SGD_UPDATE_KERNEL, backendName, kernelFunc: sgdUpdateKernel(engine) });
  tf.registerKernel({
    kernelName: RMSPROP_UPDATE_KERNEL,
    backendName,
    kernelFunc: rmspropUpdateKernel(engine),
  });
  tf.registerKernel({
    kernelName: ADAGRAD_UPDATE_KERNEL,
    backendName,
    kernelFunc: adagradUpdateKernel(engine),
  });
}

import {
  ADAGRAD_UPDATE_KERNEL,
  ADAM_UPDATE_KERNEL,
  RMSPROP_UPDATE_KERNEL,
  SGD_UPDATE_KERNEL,
} from "@fulmen/core/plugin";

/**
 * One of core's fused optimizer-update kernels as the engine runs it, on the host and on a device alike: the
 * engine method takes the kernel's inputs in `inputs` order (null for state the options leave out), then the
 * outputs (null likewise), then — on a device — the element count, then the hyperparameter list.
 */
export interface UpdateSpec {
  /** The core kernel this runs (`ADAM_UPDATE_KERNEL`, `SGD_UPDATE_KERNEL`, ... of `@fulmen/core`). */
  kernelName: string;
  /** The engine method that runs it, on the host engine and on the device alike. */
  method: "adamUpdate" | "sgdUpdate" | "rmspropUpdate" | "adagradUpdate";
  /** The kernel's input names, in the order the engine method takes them (an absent one passed as null). */
  inputs: readonly string[];
  /** Which of the contract's outputs these options produce, in order. */
  outputs(attrs: Record<string, unknown>): boolean[];
  /** The engine's hyperparameter list (native/optimizer.h's *StepOf order). */
  hyper(attrs: Record<string, unknown>): number[];
}

const num = (v: unknown) => v as number;
const flag = (v: unknown) => (v ? 1 : 0);

/** Adam/AdamW, SGD, RMSprop and Adagrad. */
export const UPDATE_SPECS: readonly UpdateSpec[] = [
  {
    kernelName: ADAM_UPDATE_KERNEL,
    method: "adamUpdate",
    inputs: ["param", "grad", "expAvg", "expAvgSq", "maxExpAvgSq"],
    outputs: (a) => [true, true, true, Boolean(a.amsgrad)],
    hyper: (a) => [
      num(a.lr),
      num(a.beta1),
      num(a.beta2),
      num(a.eps),
      num(a.weightDecay),
      num(a.stepSize),
      num(a.biasCorrection2Sqrt),
      flag(a.decoupled),
      flag(a.amsgrad),
      flag(a.maximize),
    ],
  },
  {
    kernelName: SGD_UPDATE_KERNEL,
    method: "sgdUpdate",
    inputs: ["param", "grad", "momentumBuffer"],
    outputs: (a) => [true, num(a.momentum) !== 0],
    hyper: (a) => [
      num(a.lr),
      num(a.momentum),
      num(a.dampening),
      num(a.weightDecay),
      flag(a.nesterov),
      flag(a.maximize),
      flag(a.hasBuffer),
    ],
  },
  {
    kernelName: RMSPROP_UPDATE_KERNEL,
    method: "rmspropUpdate",
    inputs: ["param", "grad", "squareAvg", "gradAvg", "momentumBuffer"],
    outputs: (a) => [true, true, Boolean(a.centered), num(a.momentum) > 0],
    hyper: (a) => [
      num(a.lr),
      num(a.alpha),
      num(a.eps),
      num(a.weightDecay),
      num(a.momentum),
      flag(a.centered),
      flag(a.maximize),
    ],
  },
  {
    kernelName: ADAGRAD_UPDATE_KERNEL,
    method: "adagradUpdate",
    inputs: ["param", "grad", "sum"],
    outputs: () => [true, true],
    hyper: (a) => [num(a.clr), num(a.eps), num(a.weightDecay), flag(a.maximize)],
  },
];

import type { Parameter } from "../autograd/parameter";
import type { Generator } from "../random/generator";
import { getDefaultGenerator } from "../random/seed";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { isMaterializing } from "./deferred-init";

/** The non-linearities {@link calculateGain} knows, as in `torch.nn.init.calculate_gain`. */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "selu";

/** `torch.nn.init.calculate_gain`. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new FulmenError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'.`);
  }
}

/** Fan-in and fan-out of a weight of PyTorch layout (`[out, in, ...kernel]`). */
export function calculateFanInAndFanOut(shape: readonly number[]): {
  /** `shape[1]` times the kernel size (the product of `shape[2:]`): the inputs each output sums over. */
  fanIn: number;
  /** `shape[0]` times the kernel size (the product of `shape[2:]`). */
  fanOut: number;
} {
  if (shape.length < 2) {
    throw new FulmenError(`Fan in and fan out need a tensor of at least 2 dimensions, got shape [${shape}].`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function fill(param: Parameter, sample: () => number): Parameter {
  // A deferred parameter (fabric.initModule({ emptyInit: true })) is initialised when materialised, not now:
  // skipping it here also leaves the random generator where an eager model's initialisation would find it.
  if (param.isDeferred || (isMaterializing() && !param.isMaterialized)) return param;
  const values = new Float32Array(param.size);
  for (let i = 0; i < values.length; i++) values[i] = sample();
  tf.tidy(() => param.assign(tf.tensor(values, param.shape, "float32")));
  return param;
}

/** Fills with U(a, b). */
export function uniform_(
  param: Parameter,
  a = 0,
  b = 1,
  generator: Generator = getDefaultGenerator(),
): Parameter {
  return fill(param, () => generator.uniform(a, b));
}

/** Fills with N(mean, std²). */
export function normal_(
  param: Parameter,
  mean = 0,
  std = 1,
  generator: Generator = getDefaultGenerator(),
): Parameter {
  return fill(param, () => generator.normal(mean, std));
}

/** Fills with a constant. */
export function constant_(param: Parameter, value: number): Parameter {
  if (param.isDeferred || (isMaterializing() && !param.isMaterialized)) return param;
  tf.tidy(() => param.assign(tf.fill(param.shape, value, "float32")));
  return param;
}

/** Fills with zeros. */
export function zeros_(param: Parameter): Parameter {
  return constant_(param, 0);
}

/** Fills with ones. */
export function ones_(param: Parameter): Parameter {
  return constant_(param, 1);
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (default 0). */
  a?: number;
  /** Preserve the variance of the forward ("fan_in", default) or backward ("fan_out") pass. */
  mode?: "fan_in" | "fan_out";
  /** The non-linearity that follows (default "leaky_relu"). */
  nonlinearity?: Nonlinearity;
  /** The random generator to draw from (default: the process-wide default generator, as in PyTorch). */
  generator?: Generator;
}

function kaimingStd(param: Parameter, options: KaimingOptions): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(param.shape);
  const fan = (options.mode ?? "fan_in") === "fan_in" ? fanIn : fanOut;
  return calculateGain(options.nonlinearity ?? "leaky_relu", options.a ?? 0) / Math.sqrt(fan);
}

/** `torch.nn.init.kaiming_uniform_`. */
export function kaimingUniform_(param: Parameter, options: KaimingOptions = {}): Parameter {
  const bound = Math.sqrt(3) * kaimingStd(param, options);
  return uniform_(param, -bound, bound, options.generator);
}

/** `torch.nn.init.kaiming_normal_`. */
export function kaimingNormal_(param: Parameter, options: KaimingOptions = {}): Parameter {
  return normal_(param, 0, kaimingStd(param, options), options.generator);
}

/** `torch.nn.init.xavier_uniform_`. */
export function xavierUniform_(param: Parameter, gain = 1, generator?: Generator): Parameter {
  const { fanIn, fanOut } = calculateFanInAndFanOut(param.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(param, -bound, bound, generator);
}

/** `torch.nn.init.xavier_normal_`. */
export function xavierNormal_(param: Parameter, gain = 1, generator?: Generator): Parameter {
  const { fanIn, fanOut } = calculateFanInAndFanOut(param.shape);
  return normal_(param, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}

/**
 * The default initialisation of PyTorch's Linear and convolution layers: weight Kaiming-uniform with a = √5
 * (U(±1/√fanIn)), bias U(±1/√fanIn).
 */
export function defaultLayerInit_(weight: Parameter, bias: Parameter | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias !== null) {
    const { fanIn } = calculateFanInAndFanOut(weight.shape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

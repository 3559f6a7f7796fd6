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

/** Options of {@link truncNormal_}, as `torch.nn.init.trunc_normal_`'s keywords. */
export interface TruncNormalOptions {
  /** The normal's mean (default 0). */
  mean?: number;
  /** The normal's standard deviation (default 1). */
  std?: number;
  /** The lowest value (default -2). */
  a?: number;
  /** The highest value (default 2). */
  b?: number;
  /** The random generator to draw from (default: the process-wide default generator). */
  generator?: Generator;
}

/** The standard normal's CDF (Abramowitz & Stegun 7.1.26 for erf, error below 1.5e-7: enough for a bound). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return 0.5 * (1 + (x < 0 ? -erf : erf));
}

/**
 * `torch.nn.init.trunc_normal_`: N(mean, std²) restricted to [a, b]. Drawn by rejection from the normal, which
 * gives exactly the truncated distribution (PyTorch inverts the CDF instead: the same distribution, other draws);
 * an interval holding almost none of the normal's mass is refused rather than sampled for ever.
 */
export function truncNormal_(param: Parameter, options: TruncNormalOptions = {}): Parameter {
  const { mean = 0, std = 1, a = -2, b = 2 } = options;
  if (!(std > 0) || !(a < b) || [mean, std, a, b].some((v) => Number.isNaN(v))) {
    throw new FulmenError(`truncNormal_: needs std > 0 and a < b, got std ${std}, a ${a}, b ${b}.`);
  }
  const mass = normalCdf((b - mean) / std) - normalCdf((a - mean) / std);
  if (mass < 1e-4) {
    throw new FulmenError(
      `truncNormal_: [${a}, ${b}] holds ${mass.toExponential(1)} of N(${mean}, ${std}²)'s mass; choose bounds nearer the mean.`,
    );
  }
  const generator = options.generator ?? getDefaultGenerator();
  return fill(param, () => {
    for (;;) {
      const v = generator.normal(mean, std);
      if (v >= a && v <= b) return v;
    }
  });
}

/**
 * `torch.nn.init.orthogonal_`: a (semi-)orthogonal matrix, as PyTorch builds it — the Q of a QR decomposition
 * of a normal matrix `[rows, numel/rows]` (transposed when wider than tall), its columns' signs fixed by R's
 * diagonal, times `gain`.
 */
export function orthogonal_(
  param: Parameter,
  gain = 1,
  generator: Generator = getDefaultGenerator(),
): Parameter {
  if (param.shape.length < 2) {
    throw new FulmenError(
      `orthogonal_: only tensors of 2 or more dimensions are supported, got shape [${param.shape}].`,
    );
  }
  if (param.isDeferred || (isMaterializing() && !param.isMaterialized)) return param;
  const rows = param.shape[0]!;
  const cols = param.size / rows;
  const values = new Float32Array(param.size);
  for (let i = 0; i < values.length; i++) values[i] = generator.normal(0, 1);
  tf.tidy(() => {
    let flat: tf.Tensor2D = tf.tensor2d(values, [rows, cols]);
    if (rows < cols) flat = tf.transpose(flat);
    const [q, r] = tf.linalg.qr(flat);
    const signs = tf.sign(tf.sum(tf.mul(r, tf.eye(r.shape[0]!, r.shape[1])), 0));
    let result: tf.Tensor = tf.mul(q, signs);
    if (rows < cols) result = tf.transpose(result);
    param.assign(tf.reshape(tf.mul(result, gain), param.shape));
  });
  return param;
}

/** `torch.nn.init.eye_`: the identity in a 2-D parameter (ones on the diagonal of a rectangular one). */
export function eye_(param: Parameter): Parameter {
  if (param.shape.length !== 2) {
    throw new FulmenError(`eye_: only 2-D parameters are supported, got shape [${param.shape}].`);
  }
  if (param.isDeferred || (isMaterializing() && !param.isMaterialized)) return param;
  tf.tidy(() => param.assign(tf.eye(param.shape[0]!, param.shape[1]!)));
  return param;
}

/**
 * `torch.nn.init.dirac_`: a convolution weight `[out, in/groups, ...kernel]` (3 to 5 dimensions) that passes its
 * input through — a 1 at the kernel's centre connecting output channel d of each group to input channel d.
 */
export function dirac_(param: Parameter, groups = 1): Parameter {
  const shape = param.shape;
  if (shape.length < 3 || shape.length > 5) {
    throw new FulmenError(`dirac_: only 3-, 4- and 5-D parameters are supported, got shape [${shape}].`);
  }
  if (!Number.isInteger(groups) || groups < 1 || shape[0]! % groups !== 0) {
    throw new FulmenError(
      `dirac_: the output channels (${shape[0]}) must be divisible by groups (${groups}).`,
    );
  }
  if (param.isDeferred || (isMaterializing() && !param.isMaterialized)) return param;
  const perGroup = shape[0]! / groups;
  const values = new Float32Array(param.size);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((s, v) => s * v, 1));
  const centre = shape.slice(2).reduce((offset, k, i) => offset + Math.floor(k / 2) * strides[i + 2]!, 0);
  for (let g = 0; g < groups; g++) {
    for (let d = 0; d < Math.min(perGroup, shape[1]!); d++) {
      values[(g * perGroup + d) * strides[0]! + d * strides[1]! + centre] = 1;
    }
  }
  tf.tidy(() => param.assign(tf.tensor(values, shape, "float32")));
  return param;
}

import { currentAutocast, followInputOp, halfFormatOf, toFloat32 } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import {
  backendHasKernels,
  fusedLayerNorm,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
} from "../fused-kernels";

/**
 * PyTorch's normalisation functions (`F.layer_norm`, `F.group_norm`, `F.instance_norm`, `F.rms_norm`), shared
 * with the modules. Variances are biased (divided by n), as PyTorch normalises; autocast keeps them in float32.
 */

/** Options of {@link layerNorm}. */
export interface LayerNormFunctionOptions {
  /** Scale of shape `normalizedShape` (none by default). */
  weight?: tf.Tensor | null;
  /** Shift of shape `normalizedShape` (none by default). */
  bias?: tf.Tensor | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** Options of {@link groupNorm}. */
export type GroupNormFunctionOptions = LayerNormFunctionOptions;

/** Options of {@link rmsNorm}. */
export interface RmsNormFunctionOptions {
  /** Scale of shape `normalizedShape` (none by default). */
  weight?: tf.Tensor | null;
  /** Added to the mean square; null (default) is the machine epsilon of the input's dtype, as PyTorch. */
  eps?: number | null;
}

/** Options of {@link instanceNorm}. */
export interface InstanceNormFunctionOptions {
  /** Per-channel running mean; with `useInputStats` it is updated in place, so it must be a `tf.Variable`. */
  runningMean?: tf.Tensor | null;
  /** Per-channel running (unbiased) variance; updated in place like `runningMean`. */
  runningVar?: tf.Tensor | null;
  /** Per-channel scale (none by default). */
  weight?: tf.Tensor | null;
  /** Per-channel shift (none by default). */
  bias?: tf.Tensor | null;
  /** Normalise with each instance's statistics (default true); false uses the running ones. */
  useInputStats?: boolean;
  /** Weight of this batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** Runs `fn` in float32 under mixed autocast (normalisation is precision-sensitive), else in the input's dtype. */
function normPrecision(x: tf.Tensor, fn: (v: tf.Tensor) => tf.Tensor): tf.Tensor {
  if (currentAutocast()?.mode === "mixed") return fn(toFloat32(x));
  return followInputOp(fn, x);
}

function checkEps(owner: string, eps: number): void {
  checkNumber(owner, "eps", eps, (v) => v >= 0, "a non-negative number");
}

/** `tensor` reshaped to broadcast against `x` along dimension 1 (per channel), checked to hold `channels` values. */
function perChannel(
  owner: string,
  name: string,
  tensor: tf.Tensor,
  channels: number,
  rank: number,
): tf.Tensor {
  if (tensor.size !== channels) {
    throw new FulmenError(
      `${owner}: ${name} has ${tensor.size} values but the input has ${channels} channels.`,
    );
  }
  return tf.reshape(tensor, [channels, ...Array<number>(Math.max(rank - 2, 0)).fill(1)]);
}

/**
 * Layer normalisation over the trailing `normalizedShape` dimensions, like `F.layer_norm`:
 * `(x − mean) / sqrt(var + eps) · weight + bias`.
 */
export function layerNorm(
  x: tf.Tensor,
  normalizedShape: number | readonly number[],
  options: LayerNormFunctionOptions = {},
): tf.Tensor {
  checkOptionNames("layerNorm", options, ["weight", "bias", "eps"]);
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const eps = options.eps ?? 1e-5;
  checkEps("layerNorm", eps);
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  return normPrecision(x, (v) =>
    tf.tidy(() => {
      const k = shape.length;
      if (k > v.rank || !tf.util.arraysEqual(v.shape.slice(v.rank - k), shape)) {
        throw new FulmenError(
          `layerNorm: input shape [${v.shape}] does not end with normalizedShape [${shape}]; normalise over the input's trailing dimensions.`,
        );
      }
      if (v.dtype === "float32" && backendHasKernels(LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL)) {
        const size = shape.reduce((p, d) => p * d, 1);
        return fusedLayerNorm(v, weight, bias, size, eps);
      }
      const axes = Array.from({ length: k }, (_, i) => v.rank - k + i);
      const mean = tf.mean(v, axes, true);
      const centered = tf.sub(v, mean);
      const variance = tf.mean(tf.square(centered), axes, true);
      let y = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
      if (weight !== null) y = tf.mul(y, weight);
      if (bias !== null) y = tf.add(y, bias);
      return y;
    }),
  );
}

/**
 * Group normalisation, like `F.group_norm`: the channels (dimension 1) of each sample are split into
 * `numGroups` groups, each normalised over its channels and every spatial position; then a per-channel affine.
 */
export function groupNorm(
  x: tf.Tensor,
  numGroups: number,
  options: GroupNormFunctionOptions = {},
): tf.Tensor {
  checkOptionNames("groupNorm", options, ["weight", "bias", "eps"]);
  const eps = options.eps ?? 1e-5;
  checkEps("groupNorm", eps);
  checkNumber("groupNorm", "numGroups", numGroups, (v) => Number.isInteger(v) && v > 0, "a positive integer");
  if (x.rank < 2) {
    throw new FulmenError(
      `groupNorm: expected an input of shape [N, C, *], got [${x.shape}]; add a batch dimension.`,
    );
  }
  const [n, c] = x.shape as [number, number];
  if (c % numGroups !== 0) {
    throw new FulmenError(
      `groupNorm: ${c} channels cannot be split into ${numGroups} groups; make C a multiple of numGroups.`,
    );
  }
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  return normPrecision(x, (v) =>
    tf.tidy(() => {
      if (v.dtype === "float32" && backendHasKernels(LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL)) {
        // each (sample, group) is a row of the backend's fused layer norm, without its affine
        const size = v.size / (n * numGroups);
        const rows = fusedLayerNorm(tf.reshape(v, [n * numGroups, size]), null, null, size, eps);
        let y = tf.reshape(rows, v.shape);
        if (weight !== null) y = tf.mul(y, perChannel("groupNorm", "weight", weight, c, v.rank));
        if (bias !== null) y = tf.add(y, perChannel("groupNorm", "bias", bias, c, v.rank));
        return y;
      }
      const grouped = tf.reshape(v, [n, numGroups, -1]);
      const mean = tf.mean(grouped, 2, true);
      const centered = tf.sub(grouped, mean);
      const variance = tf.mean(tf.square(centered), 2, true);
      let y = tf.reshape(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), v.shape);
      if (weight !== null) y = tf.mul(y, perChannel("groupNorm", "weight", weight, c, v.rank));
      if (bias !== null) y = tf.add(y, perChannel("groupNorm", "bias", bias, c, v.rank));
      return y;
    }),
  );
}

/**
 * Root-mean-square normalisation over the trailing `normalizedShape` dimensions, like today's `F.rms_norm`:
 * `x / sqrt(mean(x²) + eps) · weight`, eps defaulting to the machine epsilon of the input's dtype.
 */
export function rmsNorm(
  x: tf.Tensor,
  normalizedShape: number | readonly number[],
  options: RmsNormFunctionOptions = {},
): tf.Tensor {
  checkOptionNames("rmsNorm", options, ["weight", "eps"]);
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const weight = options.weight ?? null;
  if (options.eps != null) checkEps("rmsNorm", options.eps);
  // torch.finfo(dtype).eps of the dtype the norm runs in: a half input keeps its half unless mixed autocast
  // upcasts it to float32.
  const format = currentAutocast()?.mode === "mixed" ? undefined : halfFormatOf(x);
  const eps = options.eps ?? machineEpsilon(format?.dtype);
  return normPrecision(x, (v) =>
    tf.tidy(() => {
      const k = shape.length;
      if (k > v.rank || !tf.util.arraysEqual(v.shape.slice(v.rank - k), shape)) {
        throw new FulmenError(
          `rmsNorm: input shape [${v.shape}] does not end with normalizedShape [${shape}]; normalise over the input's trailing dimensions.`,
        );
      }
      const axes = Array.from({ length: k }, (_, i) => v.rank - k + i);
      const y = tf.mul(v, tf.rsqrt(tf.add(tf.mean(tf.square(v), axes, true), eps)));
      return weight === null ? y : tf.mul(y, weight);
    }),
  );
}

/** `torch.finfo(dtype).eps`: float32's 2^-23, float16's 2^-10, bfloat16's 2^-7. */
function machineEpsilon(dtype: string | undefined): number {
  if (dtype === "float16") return 2 ** -10;
  if (dtype === "bfloat16") return 2 ** -7;
  return 2 ** -23;
}

/** What {@link instanceNormCore} computes: the output and, when it used input statistics, the next running ones. */
export interface InstanceNormResult {
  /** The normalised input, of the input's shape `[N, C, *]`. */
  output: tf.Tensor;
  /** The running mean after this batch, `[C]` (null unless running statistics were given and updated). */
  nextRunningMean: tf.Tensor | null;
  /** The running variance after this batch, `[C]` (null unless running statistics were given and updated). */
  nextRunningVar: tf.Tensor | null;
}

/**
 * The body of instance normalisation on a batched input `[N, C, *]`: each (sample, channel) normalised over
 * its spatial positions, or with the running statistics when `useInputStats` is false. With input statistics
 * and running ones given, returns the running statistics PyTorch would store: blended by `momentum` with the
 * mean over the batch of each instance's mean and unbiased variance.
 */
export function instanceNormCore(
  owner: string,
  x: tf.Tensor,
  options: InstanceNormFunctionOptions,
): InstanceNormResult {
  const eps = options.eps ?? 1e-5;
  const momentum = options.momentum ?? 0.1;
  const useInputStats = options.useInputStats ?? true;
  checkEps(owner, eps);
  checkNumber(owner, "momentum", momentum, (v) => v >= 0 && v <= 1, "a number in [0, 1]");
  const runningMean = options.runningMean ?? null;
  const runningVar = options.runningVar ?? null;
  if ((runningMean === null) !== (runningVar === null)) {
    throw new FulmenError(`${owner}: give both runningMean and runningVar, or neither.`);
  }
  if (x.rank < 3) {
    throw new FulmenError(
      `${owner}: expected a batched input of shape [N, C, *] with spatial dimensions, got [${x.shape}].`,
    );
  }
  const [n, c] = x.shape as [number, number];
  const spatial = x.shape.slice(2).reduce((p, d) => p * d, 1);
  if (!useInputStats && runningMean === null) {
    throw new FulmenError(
      `${owner}: useInputStats false needs runningMean and runningVar to normalise with.`,
    );
  }
  if (useInputStats && spatial <= 1) {
    throw new FulmenError(
      `${owner}: expected more than 1 spatial element when using input statistics, got input of shape [${x.shape}].`,
    );
  }
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  // tidy keeps the tensors of the returned object (its nulls are skipped).
  const result = tf.tidy(() => {
    let nextRunningMean: tf.Tensor | null = null;
    let nextRunningVar: tf.Tensor | null = null;
    // Autocast has no float32 rule for instance norm (unlike layer and group norm): it follows its input.
    const output = followInputOp((v) => {
      const flat = tf.reshape(v, [n, c, spatial]);
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (useInputStats) {
        mean = tf.mean(flat, 2, true);
        variance = tf.mean(tf.square(tf.sub(flat, mean)), 2, true);
        if (runningMean !== null && runningVar !== null) {
          // Only the buffers use these (nothing differentiates them).
          const batchMean = tf.mean(tf.reshape(mean, [n, c]), 0);
          const unbiased = tf.mul(tf.reshape(variance, [n, c]), spatial / (spatial - 1));
          const batchVar = tf.mean(unbiased, 0);
          nextRunningMean = tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(batchMean, momentum));
          nextRunningVar = tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(batchVar, momentum));
        }
      } else {
        mean = tf.reshape(runningMean!, [1, c, 1]);
        variance = tf.reshape(runningVar!, [1, c, 1]);
      }
      let y = tf.reshape(tf.mul(tf.sub(flat, mean), tf.rsqrt(tf.add(variance, eps))), v.shape);
      if (weight !== null) y = tf.mul(y, perChannel(owner, "weight", weight, c, v.rank));
      if (bias !== null) y = tf.add(y, perChannel(owner, "bias", bias, c, v.rank));
      return y;
    }, x);
    return { output, nextRunningMean, nextRunningVar } as unknown as tf.TensorContainer;
  });
  return result as unknown as InstanceNormResult;
}

/**
 * Instance normalisation, like `F.instance_norm`, on `[N, C, *]`. As in PyTorch, running statistics given
 * with `useInputStats` (the default) are updated in place: pass them as `tf.Variable`s.
 */
export function instanceNorm(x: tf.Tensor, options: InstanceNormFunctionOptions = {}): tf.Tensor {
  checkOptionNames("instanceNorm", options, [
    "runningMean",
    "runningVar",
    "weight",
    "bias",
    "useInputStats",
    "momentum",
    "eps",
  ]);
  const { runningMean, runningVar } = options;
  const updates = (options.useInputStats ?? true) && runningMean != null;
  if (updates && !(runningMean instanceof tf.Variable && runningVar instanceof tf.Variable)) {
    throw new FulmenError(
      "instanceNorm: running statistics are updated in place, so runningMean and runningVar must be tf.Variables (or pass useInputStats: false to normalise with them).",
    );
  }
  const result = instanceNormCore("instanceNorm", x, options);
  if (result.nextRunningMean !== null && result.nextRunningVar !== null) {
    (runningMean as tf.Variable).assign(result.nextRunningMean);
    (runningVar as tf.Variable).assign(result.nextRunningVar);
    tf.dispose([result.nextRunningMean, result.nextRunningVar]);
  }
  return result.output;
}

/** Options of {@link batchNorm}, `F.batch_norm`'s keywords after the running statistics. */
export interface BatchNormFunctionOptions {
  /** Per-channel scale (none by default). */
  weight?: tf.Tensor | null;
  /** Per-channel shift (none by default). */
  bias?: tf.Tensor | null;
  /** Normalise with the batch's statistics and update the running ones (default false: use the running ones). */
  training?: boolean;
  /** Weight of this batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalisation, like `F.batch_norm(input, running_mean, running_var, ...)`, on `[N, C, *]`: each channel
 * normalised over the batch and every spatial position. In training the batch's statistics are used and, as in
 * PyTorch, running statistics given are updated in place (pass `tf.Variable`s; null for none); otherwise the
 * running statistics are required and used.
 */
export function batchNorm(
  x: tf.Tensor,
  runningMean: tf.Tensor | null,
  runningVar: tf.Tensor | null,
  options: BatchNormFunctionOptions = {},
): tf.Tensor {
  const owner = "batchNorm";
  checkOptionNames(owner, options, ["weight", "bias", "training", "momentum", "eps"]);
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  checkEps(owner, eps);
  checkNumber(owner, "momentum", momentum, (v) => v >= 0 && v <= 1, "a number in [0, 1]");
  if ((runningMean == null) !== (runningVar == null)) {
    throw new FulmenError(`${owner}: give both runningMean and runningVar, or neither (null).`);
  }
  if (x.rank < 2) {
    throw new FulmenError(`${owner}: expected an input of shape [N, C, *], got [${x.shape}].`);
  }
  const c = x.shape[1]!;
  const axes = [0, ...x.shape.slice(2).map((_, i) => i + 2)];
  const count = axes.reduce((s, a) => s * x.shape[a]!, 1);
  if (!training && runningMean == null) {
    throw new FulmenError(
      `${owner}: without training the running statistics are what it normalises with; pass runningMean and runningVar, or training: true.`,
    );
  }
  if (training && count <= 1) {
    throw new FulmenError(
      `${owner}: expected more than 1 value per channel when training, got input of shape [${x.shape}].`,
    );
  }
  const updates = training && runningMean != null;
  if (updates && !(runningMean instanceof tf.Variable && runningVar instanceof tf.Variable)) {
    throw new FulmenError(
      `${owner}: running statistics are updated in place when training, so runningMean and runningVar must be tf.Variables (or null).`,
    );
  }
  for (const [name, t] of [
    ["runningMean", runningMean],
    ["runningVar", runningVar],
  ] as const) {
    if (t != null && t.size !== c) {
      throw new FulmenError(`${owner}: ${name} has ${t.size} values but the input has ${c} channels.`);
    }
  }
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  return tf.tidy(() => {
    const output = normPrecision(x, (v) => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (training) {
        ({ mean, variance } = tf.moments(v, axes, true));
        if (updates) {
          // PyTorch stores the unbiased variance and normalises with the biased one.
          const unbiased = tf.mul(tf.reshape(variance, [c]), count / (count - 1));
          (runningMean as tf.Variable).assign(
            tf.add(tf.mul(runningMean!, 1 - momentum), tf.mul(tf.reshape(mean, [c]), momentum)),
          );
          (runningVar as tf.Variable).assign(
            tf.add(tf.mul(runningVar!, 1 - momentum), tf.mul(unbiased, momentum)),
          );
        }
      } else {
        mean = perChannel(owner, "runningMean", runningMean!, c, v.rank);
        variance = perChannel(owner, "runningVar", runningVar!, c, v.rank);
      }
      let y = tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, eps)));
      if (weight !== null) y = tf.mul(y, perChannel(owner, "weight", weight, c, v.rank));
      if (bias !== null) y = tf.add(y, perChannel(owner, "bias", bias, c, v.rank));
      return y;
    });
    return output;
  });
}

import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { FulmenError } from "../../../utils/errors";
import { checkOptionNames } from "../../../utils/options";
import { checkLossOptions, type Reduction } from "./common";

/** Options of {@link ctcLoss}, as in `torch.nn.functional.ctc_loss`. */
export interface CTCLossOptions {
  /** The blank class (default 0). */
  blank?: number;
  /** `mean` divides each sample's loss by its target length (at least 1), then averages over the batch. */
  reduction?: Reduction;
  /** Replace infinite losses (targets the input is too short for) and their gradients by 0 (default false). */
  zeroInfinity?: boolean;
}

/** Lengths as plain integers: a tensor (`[N]` or a scalar) or an array of numbers. */
export type Lengths = tf.Tensor | number[] | number;

/** {@link CTCLossOptions} with the lengths by keyword. */
export interface CTCLossKeywordOptions extends CTCLossOptions {
  /** Each sample's number of time steps in `logProbs`, at most `T`: one integer per sample. */
  inputLengths: Lengths;
  /** Each sample's number of target labels (at most `S` with padded targets `[N, S]`): one per sample. */
  targetLengths: Lengths;
}

/** An options object rather than lengths (a tensor, an array or a number). */
function isOptionsObject(v: unknown): v is CTCLossOptions {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof tf.Tensor);
}

function isKeywordOptions(v: unknown): v is CTCLossKeywordOptions {
  return isOptionsObject(v);
}

function readLengths(owner: string, name: string, lengths: Lengths, batch: number): number[] {
  const values =
    typeof lengths === "number"
      ? [lengths]
      : Array.isArray(lengths)
        ? lengths
        : Array.from(lengths.dataSync() as ArrayLike<number>);
  if (values.length !== batch || values.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new FulmenError(
      `${owner}: ${name} must hold ${batch} non-negative integers (one per sample), got [${values.join(", ")}].`,
    );
  }
  return values;
}

function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** One sample's negative log likelihood and PyTorch's gradient of it for the log-probabilities `[T, C]`. */
interface SampleResult {
  nll: number;
  /** `exp(lp) - exp(lcab + nll - lp)` for the sample's first `inputLength` steps (PyTorch's backward kernel). */
  grad: Float64Array;
}

/**
 * The CTC forward–backward of one sample in float64, as PyTorch's CPU kernels compute it: log-space alphas
 * and betas over the extended label sequence (blanks around and between the labels); the gradient is
 * PyTorch's `exp(lp) - exp(log Σ_{s: l'_s = c} α_t(s)·β_t(s) + nll - lp)`, the gradient of the logits before a
 * log-softmax, which PyTorch returns for the log-probabilities themselves.
 */
function ctcSample(
  lp: Float32Array,
  offset: (t: number, c: number) => number,
  numClasses: number,
  inputLength: number,
  labels: number[],
  blank: number,
): SampleResult {
  const S = 2 * labels.length + 1;
  const ext = Array.from({ length: S }, (_, s) => (s % 2 === 0 ? blank : labels[(s - 1) / 2]!));
  const T = inputLength;
  const at = (t: number, s: number) => lp[offset(t, ext[s]!)]!;
  const NEG = Number.NEGATIVE_INFINITY;
  const alpha = new Float64Array(T * S).fill(NEG);
  const beta = new Float64Array(T * S).fill(NEG);
  const grad = new Float64Array(T * numClasses);
  if (T === 0) {
    // No step to emit anything: the empty target has likelihood 1, any other 0.
    return { nll: labels.length === 0 ? 0 : Number.POSITIVE_INFINITY, grad };
  }
  alpha[0] = at(0, 0);
  if (S > 1) alpha[1] = at(0, 1);
  for (let t = 1; t < T; t++) {
    for (let s = 0; s < S; s++) {
      let v = alpha[(t - 1) * S + s]!;
      if (s >= 1) v = logAddExp(v, alpha[(t - 1) * S + s - 1]!);
      if (s >= 2 && ext[s] !== blank && ext[s] !== ext[s - 2]) v = logAddExp(v, alpha[(t - 1) * S + s - 2]!);
      alpha[t * S + s] = v === NEG ? NEG : v + at(t, s);
    }
  }
  const last = (T - 1) * S;
  const logLikelihood = S > 1 ? logAddExp(alpha[last + S - 1]!, alpha[last + S - 2]!) : alpha[last + S - 1]!;
  const nll = -logLikelihood;
  beta[last + S - 1] = at(T - 1, S - 1);
  if (S > 1) beta[last + S - 2] = at(T - 1, S - 2);
  for (let t = T - 2; t >= 0; t--) {
    for (let s = 0; s < S; s++) {
      let v = beta[(t + 1) * S + s]!;
      if (s + 1 < S) v = logAddExp(v, beta[(t + 1) * S + s + 1]!);
      if (s + 2 < S && ext[s] !== blank && ext[s + 2] !== ext[s])
        v = logAddExp(v, beta[(t + 1) * S + s + 2]!);
      beta[t * S + s] = v === NEG ? NEG : v + at(t, s);
    }
  }
  const lcab = new Float64Array(numClasses);
  for (let t = 0; t < T; t++) {
    lcab.fill(NEG);
    for (let s = 0; s < S; s++) {
      const c = ext[s]!;
      lcab[c] = logAddExp(lcab[c]!, alpha[t * S + s]! + beta[t * S + s]!);
    }
    for (let c = 0; c < numClasses; c++) {
      const l = lp[offset(t, c)]!;
      grad[t * numClasses + c] = Math.exp(l) - Math.exp(lcab[c]! + nll - l);
    }
  }
  return { nll, grad };
}

/**
 * Connectionist temporal classification loss, like `torch.nn.functional.ctc_loss`: log-probabilities
 * `[T, N, C]` (or unbatched `[T, C]`, a log-softmax over C), targets padded `[N, S]` or concatenated 1-D (the
 * `targetLengths` give each sample's share), and the lengths per sample. Returns each sample's negative log
 * likelihood (`none`), their sum, or (`mean`) the mean of each divided by its target length. The gradient is
 * PyTorch's own (see `ctcSample`): it matches PyTorch's for the log-probabilities exactly, and is the
 * true gradient of the logits behind a log-softmax. Computed on the CPU in float64 (it reads the tensors).
 */
export function ctcLoss(
  logProbs: tf.Tensor,
  targets: tf.Tensor,
  inputLengths: Lengths,
  targetLengths: Lengths,
  options?: CTCLossOptions,
): tf.Tensor;
/** The lengths given by keyword, as Python's `ctc_loss(lp, t, input_lengths=…, target_lengths=…)` allows. */
export function ctcLoss(logProbs: tf.Tensor, targets: tf.Tensor, options: CTCLossKeywordOptions): tf.Tensor;
export function ctcLoss(
  logProbs: tf.Tensor,
  targets: tf.Tensor,
  third: Lengths | CTCLossKeywordOptions,
  fourth?: Lengths | CTCLossOptions,
  fifth?: CTCLossOptions,
): tf.Tensor {
  const owner = "ctcLoss";
  let inputLengths: Lengths;
  let targetLengths: Lengths;
  let options: CTCLossOptions;
  if (isKeywordOptions(third)) {
    checkOptionNames(owner, third, ["inputLengths", "targetLengths", "blank", "reduction", "zeroInfinity"]);
    const { inputLengths: i, targetLengths: t, ...rest } = third;
    if (i === undefined || t === undefined || fourth !== undefined) {
      throw new FulmenError(
        `${owner}: give inputLengths and targetLengths either both positionally or both in the options object.`,
      );
    }
    [inputLengths, targetLengths, options] = [i, t, rest];
  } else {
    if (fourth === undefined || isOptionsObject(fourth)) {
      throw new FulmenError(
        `${owner}: targetLengths is missing; call ctcLoss(logProbs, targets, inputLengths, targetLengths, options).`,
      );
    }
    [inputLengths, targetLengths, options] = [third, fourth, fifth ?? {}];
  }
  const reduction = checkLossOptions(owner, options, ["blank", "reduction", "zeroInfinity"]);
  const blank = options.blank ?? 0;
  const zeroInfinity = options.zeroInfinity ?? false;
  if (logProbs.rank !== 3 && logProbs.rank !== 2) {
    throw new FulmenError(
      `${owner}: logProbs must be [T, N, C] (or unbatched [T, C]); got [${logProbs.shape}].`,
    );
  }
  const unbatched = logProbs.rank === 2;
  const [T, N, C] = unbatched ? [logProbs.shape[0]!, 1, logProbs.shape[1]!] : (logProbs.shape as number[]);
  if (!Number.isInteger(blank) || blank < 0 || blank >= C!) {
    throw new FulmenError(
      `${owner}: blank ${blank} is not a class of the ${C} classes; give an index in [0, ${C}).`,
    );
  }
  if (targets.dtype !== "int32") {
    throw new FulmenError(
      `${owner}: targets must be int32 class indices, got ${targets.dtype}; cast them with tf.cast(t, "int32").`,
    );
  }
  const inLens = readLengths(owner, "inputLengths", inputLengths, N!);
  const tgtLens = readLengths(owner, "targetLengths", targetLengths, N!);
  const tgt = Array.from(targets.dataSync() as ArrayLike<number>);
  const padded = unbatched ? false : targets.rank === 2;
  if (!unbatched && !padded && targets.rank !== 1) {
    throw new FulmenError(
      `${owner}: targets must be padded [N, S] or concatenated 1-D; got [${targets.shape}].`,
    );
  }
  const maxS = padded ? targets.shape[1]! : tgt.length;
  let start = 0;
  const labelsPerSample = tgtLens.map((len, n) => {
    if (inLens[n]! > T!) {
      throw new FulmenError(
        `${owner}: inputLengths[${n}] = ${inLens[n]} exceeds the ${T} steps of logProbs.`,
      );
    }
    const from = padded ? n * maxS : start;
    if ((padded && len > maxS) || (!padded && start + len > tgt.length)) {
      throw new FulmenError(
        `${owner}: targetLengths[${n}] = ${len} runs past the targets of shape [${targets.shape}].`,
      );
    }
    start += len;
    const labels = tgt.slice(from, from + len);
    for (const l of labels) {
      if (!Number.isInteger(l) || l < 0 || l >= C! || l === blank) {
        throw new FulmenError(
          `${owner}: target label ${l} of sample ${n} is not a class in [0, ${C}) other than the blank (${blank}).`,
        );
      }
    }
    return labels;
  });
  return tf.tidy(() =>
    ctcReduce(toFloat32(logProbs), inLens, tgtLens, labelsPerSample, blank, zeroInfinity, reduction),
  );
}

/** Runs `ctcSample` on every sample and reduces, with PyTorch's gradient attached to `x`. */
function ctcReduce(
  x: tf.Tensor,
  inLens: number[],
  tgtLens: number[],
  labelsPerSample: number[][],
  blank: number,
  zeroInfinity: boolean,
  reduction: Reduction,
): tf.Tensor {
  const unbatched = x.rank === 2;
  const [T, N, C] = unbatched ? [x.shape[0]!, 1, x.shape[1]!] : (x.shape as number[]);
  const lpData = x.dataSync() as Float32Array;
  const results = labelsPerSample.map((labels, n) =>
    ctcSample(lpData, (t, c) => (t * N! + n) * C! + c, C!, inLens[n]!, labels, blank),
  );
  const nll = results.map((r) => (zeroInfinity && r.nll === Number.POSITIVE_INFINITY ? 0 : r.nll));
  const fullGrad = new Float32Array(T! * N! * C!);
  results.forEach((r, n) => {
    if (zeroInfinity && r.nll === Number.POSITIVE_INFINITY) return;
    for (let t = 0; t < inLens[n]!; t++)
      for (let c = 0; c < C!; c++) fullGrad[(t * N! + n) * C! + c] = r.grad[t * C! + c]!;
  });
  const perSample = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const lp = args[0] as tf.Tensor;
    return {
      value: tf.tensor1d(nll, "float32"),
      gradFunc: (dy: tf.Tensor) =>
        tf.mul(tf.tensor3d(fullGrad, [T!, N!, C!]), tf.reshape(dy, [1, N!, 1])).reshape(lp.shape),
    };
  }) as (lp: tf.Tensor) => tf.Tensor;
  const losses = perSample(x);
  if (reduction === "none") return unbatched ? tf.reshape(losses, []) : losses;
  if (reduction === "sum") return tf.sum(losses);
  const divisors = tf.tensor1d(
    tgtLens.map((l) => Math.max(l, 1)),
    "float32",
  );
  return tf.mean(tf.div(losses, divisors));
}

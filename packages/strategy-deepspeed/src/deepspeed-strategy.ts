import {
  type Accelerator,
  clipGradNorm_,
  clipGradValue_,
  FulmenError,
  type Module,
  type Optimizer,
  type Parameter,
  type ParameterSource,
  type Precision,
  tf,
  toParameterList,
} from "@fulmen/core";
import { DDPStrategy, type ParallelStrategyOptions } from "@fulmen/fabric";
import { ShardedOptimizer } from "./sharded-optimizer";

/** Options of {@link DeepSpeedStrategy}, with Lightning's `DeepSpeedStrategy` names. */
export interface DeepSpeedStrategyOptions extends ParallelStrategyOptions {
  /**
   * The ZeRO stage: 1 shards the optimizer state, 2 also the gradients (default 2, as in Lightning). Stage 3
   * (parameters sharded too) is not implemented yet in this version.
   */
  stage?: 1 | 2 | 3;
  /** Keep the optimizer state in host memory: not implemented yet in this version (an error when true). */
  offloadOptimizer?: boolean;
  /** Keep the parameters in host memory: not implemented yet in this version (an error when true). */
  offloadParameters?: boolean;
  /** A DeepSpeed JSON config (a path or an object): not implemented yet in this version (an error when given). */
  config?: string | Record<string, unknown>;
}

const OPTION_NAMES = [
  "stage",
  "offloadOptimizer",
  "offloadParameters",
  "config",
  "clusterEnvironment",
  "processGroupBackend",
  "timeoutMs",
  "fileStorePath",
];

/** Checks the options, refusing (never ignoring) what this version does not implement. */
function checkOptions(options: DeepSpeedStrategyOptions): 1 | 2 {
  const unknown = Object.keys(options).filter((k) => !OPTION_NAMES.includes(k));
  if (unknown.length > 0)
    throw new FulmenError(
      `DeepSpeedStrategy: unknown option(s) ${unknown.map((k) => `'${k}'`).join(", ")}; valid options are ${OPTION_NAMES.join(", ")}.`,
    );
  const stage = options.stage ?? 2;
  if (stage === 3)
    throw new FulmenError(
      "DeepSpeedStrategy: ZeRO stage 3 (parameters sharded) is not implemented yet in this version of Fulmen; use stage 1 or 2.",
    );
  if (stage !== 1 && stage !== 2)
    throw new FulmenError(
      `DeepSpeedStrategy: stage must be 1 or 2 (ZeRO stage 3 is not implemented yet), got ${String(stage)}; for no sharding use strategy "ddp".`,
    );
  if (options.offloadOptimizer === true || options.offloadParameters === true)
    throw new FulmenError(
      "DeepSpeedStrategy: offloadOptimizer / offloadParameters (the *_offload strategies) are not implemented yet in this version of Fulmen; use deepspeed_stage_1 or deepspeed_stage_2 without offload.",
    );
  if (options.config !== undefined)
    throw new FulmenError(
      "DeepSpeedStrategy: a DeepSpeed JSON config is not implemented yet in this version of Fulmen; pass the options (stage) directly instead.",
    );
  return stage;
}

/**
 * DeepSpeed's ZeRO data parallelism (Lightning's `DeepSpeedStrategy`, stages 1 and 2), a DDP strategy whose
 * optimizer state (stage 1) and gradients (stage 2) are sharded across ranks: each rank keeps AdamW's moments only
 * for its contiguous shard of each parameter group's flat, padded float32 buffer and steps only that shard; the
 * updated shards are all-gathered into every rank's full parameters. In stage 2, a synchronised backward
 * reduce-scatters the gradients, so each rank keeps only its gradient shard (the parameters' `grad` is null).
 * Every rank starts from rank 0's weights (as DDP). Gradient clipping uses the norm across shards; checkpoints
 * hold the full state in the ordinary format, which loads on any number of ranks.
 */
export class DeepSpeedStrategy extends DDPStrategy {
  override readonly name: string = "deepspeed";
  /** The ZeRO stage (1 or 2). */
  readonly stage: 1 | 2;
  private sharded: ShardedOptimizer[] = [];

  constructor(options: DeepSpeedStrategyOptions = {}) {
    const stage = checkOptions(options);
    const { stage: _s, offloadOptimizer: _o, offloadParameters: _p, config: _c, ...parallel } = options;
    super(parallel);
    this.stage = stage;
  }

  override connect(accelerator: Accelerator, precision: Precision): void {
    if (precision.name !== "32-true")
      throw new FulmenError(
        `DeepSpeedStrategy: precision "${precision.name}" is not implemented yet with ZeRO in this version of Fulmen; use precision "32-true".`,
      );
    super.connect(accelerator, precision);
  }

  override setupOptimizer<O extends Optimizer>(optimizer: O): O {
    this.sharded.push(new ShardedOptimizer(optimizer, this.collective, this.stage === 2));
    return optimizer;
  }

  override backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    if (this.stage === 1) return super.backward(closure, params);
    const loss = this.precision.backward(closure, params);
    if (this.syncGradients) {
      for (const optimizer of this.sharded) optimizer.reduceScatterGradients();
      // Parameters no optimizer shards (none in the usual setup) are averaged as DDP does.
      const rest = toParameterList(params).filter(
        (p) => p.requiresGrad && !this.sharded.some((o) => o.owns(p)),
      );
      if (rest.length > 0) this.gradientReducer.allReduce(rest);
    }
    return loss;
  }

  /**
   * Clips by the global norm (or by value). Stage 1 holds the full averaged gradients in the parameters, as DDP
   * does; stage 2 combines each rank's gradient shards' partial norms with an all-reduce.
   */
  clipGradients(
    module: Module,
    _optimizer: Optimizer,
    options: { maxNorm?: number; clipVal?: number; normType: number; errorIfNonfinite: boolean },
  ): tf.Scalar | null {
    const { maxNorm, clipVal, normType, errorIfNonfinite } = options;
    if (this.stage === 1) {
      if (maxNorm !== undefined) return clipGradNorm_(module, maxNorm, normType, { errorIfNonfinite });
      clipGradValue_(module, clipVal!);
      return null;
    }
    const params = new Set(toParameterList(module));
    const shards = this.sharded
      .flatMap((o) => o.groups)
      .filter((g) => g.grad !== null && g.layout.params.some((p) => params.has(p)));
    const loose = [...params].filter((p) => p.grad !== null);
    if (maxNorm === undefined) {
      clipGradValue_(loose, clipVal!);
      for (const g of shards) replace(g, tf.clipByValue(g.grad!, -clipVal!, clipVal!));
      return null;
    }
    if (!(maxNorm >= 0)) throw new FulmenError(`clipGradients: maxNorm must be >= 0, got ${maxNorm}.`);
    const total = globalNorm(
      shards.map((g) => g.grad!),
      loose,
      normType,
      (value, op) => {
        const data = Float32Array.of(value);
        this.collective.allReduce(data, op);
        return data[0]!;
      },
    );
    if (errorIfNonfinite && !Number.isFinite(total))
      throw new FulmenError(
        `clipGradients: the total norm of order ${normType} is ${total}, so the gradients cannot be clipped. Set errorIfNonfinite: false to clip anyway.`,
      );
    const totalTensor = tf.scalar(total);
    tf.tidy(() => {
      const coef = tf.minimum(tf.div(maxNorm, tf.add(totalTensor, 1e-6)), 1);
      for (const p of loose) p.setGrad(tf.mul(p.grad!, coef));
      for (const g of shards) replace(g, tf.mul(g.grad!, coef));
    });
    return totalTensor;
  }

  override teardown(): void {
    super.teardown();
    this.sharded = [];
  }
}

/** Replaces a group's gradient shard, keeping the new one past the surrounding tidy. */
function replace(group: { grad: tf.Tensor1D | null }, value: tf.Tensor): void {
  const old = group.grad;
  group.grad = tf.keep(value) as tf.Tensor1D;
  old?.dispose();
}

/**
 * The `normType`-norm of all gradients: the shards (disjoint across ranks) combine across ranks through
 * `reduce`; the parameters' own gradients (the same on every rank) count once.
 */
function globalNorm(
  shards: tf.Tensor[],
  replicated: Parameter[],
  normType: number,
  reduce: (value: number, op: "sum" | "max") => number,
): number {
  if (!(normType > 0) && normType !== Number.POSITIVE_INFINITY)
    throw new FulmenError(`clipGradients: normType must be a positive number or Infinity, got ${normType}.`);
  const partial = (tensors: tf.Tensor[]): number =>
    tensors.length === 0
      ? 0
      : tf.tidy(() => {
          const parts = tensors.map((t) =>
            normType === Number.POSITIVE_INFINITY
              ? tf.max(tf.abs(t))
              : normType === 2
                ? tf.sum(tf.square(t))
                : tf.sum(tf.pow(tf.abs(t), normType)),
          );
          const combined = normType === Number.POSITIVE_INFINITY ? tf.max(tf.stack(parts)) : tf.addN(parts);
          return combined.dataSync()[0]!;
        });
  const local = partial(shards);
  const own = partial(replicated.map((p) => p.grad!));
  if (normType === Number.POSITIVE_INFINITY) return Math.max(reduce(local, "max"), own);
  return (reduce(local, "sum") + own) ** (1 / normType);
}

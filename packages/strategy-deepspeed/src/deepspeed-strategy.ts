import {
  type Accelerator,
  type Collective,
  FulmenError,
  type Module,
  type Optimizer,
  type Parameter,
  type Precision,
} from "@fulmen/core";
import { type ParallelStrategyOptions, ShardedStrategy, type ShardingPlan } from "@fulmen/fabric";
import { GradScaler } from "@fulmen/precision";
import {
  DEFAULT_PERSISTENCE_THRESHOLD,
  type ResolvedDeepSpeedConfig,
  readDeepSpeedConfig,
} from "./deepspeed-config";

/** Options of {@link DeepSpeedStrategy}, with Lightning's `DeepSpeedStrategy` names. */
export interface DeepSpeedStrategyOptions extends ParallelStrategyOptions {
  /**
   * The ZeRO stage: 1 shards the optimizer state, 2 also the gradients (default, as in Lightning), 3 also the
   * parameters (each module with parameters of its own gathers them for its forward and backward).
   */
  stage?: 1 | 2 | 3;
  /**
   * Keep the optimizer state in host memory between steps (ZeRO-Offload), where the accelerator has memory of its
   * own (a GPU); each shard's state comes to the device for its step.
   */
  offloadOptimizer?: boolean;
  /** Keep the parameter shards in host memory (stage 3), gathered onto the device only around their module. */
  offloadParameters?: boolean;
  /**
   * A DeepSpeed JSON config (a path or an object), as Lightning's `config`: `zero_optimization.stage`,
   * `gradient_clipping` and `bf16.enabled` are honoured; keys whose work Fulmen does another way are accepted
   * with a printed note; offloading, fp16's loss scaler, optimizer/scheduler sections and unknown keys are errors.
   */
  config?: string | Record<string, unknown>;
  /**
   * `"full"` (default): checkpoints gather the whole state into one ordinary file. `"sharded"`: a checkpoint is
   * a folder (as DeepSpeed's are) where every rank writes the parts of the model and optimizer state it holds,
   * with metadata; it loads on any number of ranks, and `fulmen consolidate FOLDER OUT` makes one file of it.
   */
  stateDictType?: "full" | "sharded";
}

const OPTION_NAMES = [
  "stage",
  "offloadOptimizer",
  "offloadParameters",
  "config",
  "stateDictType",
  "clusterEnvironment",
  "processGroupBackend",
  "timeoutMs",
  "fileStorePath",
];

/** Checks the options, refusing (never ignoring) what this version does not implement. */
function checkOptions(options: DeepSpeedStrategyOptions): {
  stage: 1 | 2 | 3;
  config: ResolvedDeepSpeedConfig | null;
  offload: { optimizer: boolean; parameters: boolean };
} {
  const unknown = Object.keys(options).filter((k) => !OPTION_NAMES.includes(k));
  if (unknown.length > 0)
    throw new FulmenError(
      `DeepSpeedStrategy: unknown option(s) ${unknown.map((k) => `'${k}'`).join(", ")}; valid options are ${OPTION_NAMES.join(", ")}.`,
    );
  const config = options.config === undefined ? null : readDeepSpeedConfig(options.config);
  if (config !== null && options.stage !== undefined && options.stage !== config.stage)
    throw new FulmenError(
      `DeepSpeedStrategy: stage ${options.stage} disagrees with the config's zero_optimization.stage ${config.stage}; give one of them.`,
    );
  const stage = config?.stage ?? options.stage ?? 2;
  if (stage !== 1 && stage !== 2 && stage !== 3)
    throw new FulmenError(
      `DeepSpeedStrategy: stage must be 1, 2 or 3, got ${String(stage)}; for no sharding use strategy "ddp".`,
    );
  if ((options.offloadParameters === true || config?.offloadParameters === true) && stage !== 3)
    throw new FulmenError(
      `DeepSpeedStrategy: offloadParameters needs stage 3 (the parameters are sharded only there), got stage ${stage}.`,
    );
  return {
    stage,
    config,
    offload: {
      optimizer: options.offloadOptimizer === true || config?.offloadOptimizer === true,
      parameters: options.offloadParameters === true || config?.offloadParameters === true,
    },
  };
}

/**
 * DeepSpeed's ZeRO data parallelism (Lightning's `DeepSpeedStrategy`): DDP whose optimizer state (stage 1),
 * gradients (stage 2) and parameters (stage 3) are sharded across ranks. Each rank keeps AdamW's moments only for
 * its shard of each flat, padded float32 buffer and steps only that shard. Stage 2 reduce-scatters the gradients
 * after a synchronised backward, so each rank keeps only its gradient shard (the parameters' `grad` is null).
 * Stage 3 keeps only each rank's shard of the parameters too: every module that owns parameters gathers them
 * for its forward and again for its backward, as DeepSpeed's parameter hooks do; parameters under the
 * persistence threshold stay whole.
 * Every rank starts from rank 0's weights (as DDP). Gradient clipping uses the norm across shards; checkpoints
 * hold the full state in the ordinary format, which loads on any number of ranks.
 */
export class DeepSpeedStrategy extends ShardedStrategy {
  /** The strategy's registered name, `"deepspeed"` (as Lightning's `strategy="deepspeed"`). */
  override readonly name: string = "deepspeed";
  /** The ZeRO stage. */
  readonly stage: 1 | 2 | 3;
  /** What the DeepSpeed config given as `config` set, or null. */
  readonly config: ResolvedDeepSpeedConfig | null;

  constructor(options: DeepSpeedStrategyOptions = {}) {
    const { stage, config, offload } = checkOptions(options);
    const {
      stage: _s,
      offloadOptimizer: _o,
      offloadParameters: _p,
      config: _c,
      stateDictType,
      ...parallel
    } = options;
    if (stateDictType !== undefined && stateDictType !== "full" && stateDictType !== "sharded")
      throw new FulmenError(
        `DeepSpeedStrategy: stateDictType must be "full" or "sharded", got ${String(stateDictType)}.`,
      );
    super(parallel, stateDictType ?? "full");
    this.stage = stage;
    this.config = config;
    this.offloading = offload;
  }

  private readonly offloading: { optimizer: boolean; parameters: boolean };

  /** What is kept in host memory: `offloadOptimizer`, `offloadParameters` or the config's offload keys. */
  protected override get offload(): {
    /** Parameter shards in host memory (stage 3): `offloadParameters` or the config's `offload_param`. */
    parameters: boolean;
    /** Optimizer state in host memory between steps: `offloadOptimizer` or config `offload_optimizer`. */
    optimizer: boolean;
  } {
    return this.offloading;
  }

  override connect(accelerator: Accelerator, precision: Precision): void {
    if (this.config?.bf16 === true && precision.name !== "bf16-mixed")
      throw new FulmenError(
        `DeepSpeedStrategy: the config enables bf16 but the precision is "${precision.name}"; pass precision: "bf16-mixed" (or disable bf16 in the config).`,
      );
    const fp16 = this.config?.fp16 ?? null;
    if (fp16 !== null) {
      const mixed = precision as Precision & { useScaler?(scaler: GradScaler): void };
      if (precision.name !== "16-mixed" || typeof mixed.useScaler !== "function")
        throw new FulmenError(
          `DeepSpeedStrategy: the config enables fp16 but the precision is "${precision.name}"; pass precision: "16-mixed" (or disable fp16 in the config).`,
        );
      // DeepSpeed's loss scaler: 2^initial_scale_power, grown every loss_scale_window clean steps, backed off
      // only after `hysteresis` overflows, never below min_loss_scale; or a fixed loss_scale.
      mixed.useScaler(
        new GradScaler({
          initScale: fp16.lossScale > 0 ? fp16.lossScale : 2 ** fp16.initialScalePower,
          growthInterval: fp16.lossScaleWindow,
          hysteresis: fp16.hysteresis,
          minScale: fp16.minLossScale,
          dynamic: fp16.lossScale === 0,
        }),
      );
    }
    super.connect(accelerator, precision);
  }

  /** Once the collective is connected, rank 0 prints the config's notes (keys Fulmen handles another way). */
  protected override onLaunched(collective: Collective): void {
    super.onLaunched(collective);
    if (collective.rank === 0)
      for (const note of this.config?.notes ?? []) console.warn(`[fulmen] DeepSpeed config: ${note}`);
  }

  /** With the config's `gradient_clipping`, clips by the global norm across shards before stepping (as DeepSpeed's engine). */
  override optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    const maxNorm = this.config?.gradientClipping ?? 0;
    if (maxNorm > 0) {
      const params = [...new Set(optimizer.paramGroups.flatMap((g) => g.params))];
      this.clipParameters(params, { maxNorm, normType: 2, errorIfNonfinite: false })?.dispose();
    }
    return super.optimizerStep(optimizer, closure);
  }

  /**
   * DeepSpeed's file names in a sharded checkpoint folder: the model states (stages 1 and 2: rank 0's
   * `mp_rank_00_model_states`, the whole weights; stage 3: every rank's `zero_pp_rank_R_mp_rank_00_model_states`,
   * its parameter shards) and one `zero_pp_rank_R_mp_rank_00_optim_states` per rank, in safetensors, each with
   * the save's generation in its name (the folder's `fulmen-sharded.json`, written last, says which).
   */
  protected override checkpointFiles(
    rank: number,
    generation: string,
  ): {
    /** The model states file of `rank`: `[zero_pp_rank_R_]mp_rank_00_model_states.GENERATION.safetensors`. */
    model: string;
    /** The optimizer states file: `zero_pp_rank_R_mp_rank_00_optim_states.GENERATION.safetensors`. */
    optimizer: string;
  } {
    const model =
      this.stage === 3 || rank !== 0
        ? `zero_pp_rank_${rank}_mp_rank_00_model_states`
        : "mp_rank_00_model_states";
    return {
      model: `${model}.${generation}.safetensors`,
      optimizer: `zero_pp_rank_${rank}_mp_rank_00_optim_states.${generation}.safetensors`,
    };
  }

  /** The config's `overlap_comm`; by default on (DeepSpeed's default for stage 3, the only stage with overlap here). */
  protected override get overlapCommunication(): boolean {
    return this.config?.overlapComm ?? true;
  }

  protected get plan(): ShardingPlan {
    return { optimizerState: true, gradients: this.stage >= 2, parameters: this.stage === 3 };
  }

  /**
   * Stage 3 keeps parameters of at most `stage3_param_persistence_threshold` elements (1e5 unless the config
   * says otherwise) whole, as DeepSpeed does: gathering a bias or a norm's weight per use would cost a
   * collective call each for almost no memory.
   */
  protected override keepsWhole(param: Parameter): boolean {
    return param.size <= (this.config?.paramPersistenceThreshold ?? DEFAULT_PERSISTENCE_THRESHOLD);
  }

  /** Stage 3's units: every module below the root that owns parameters itself (DeepSpeed gathers per module). */
  protected unitsOf(root: Module): Module[] {
    return root.modules().filter((m) => m !== root && m.parameters(false).length > 0);
  }
}

import {
  Adagrad,
  Adam,
  AdamW,
  type Collective,
  FulmenError,
  type Optimizer,
  type OptimizerStateDict,
  Parameter,
  type ParamState,
  RMSprop,
  SGD,
  tf,
} from "@fulmen/core";
import { FlatShard } from "./flat-shard";

/**
 * Optimizers whose update is element-wise (each element of a parameter moves by its own gradient and state
 * only), so that stepping a shard of the flat buffer gives exactly the elements the full step would.
 */
const ELEMENTWISE_OPTIMIZERS = [AdamW, Adam, SGD, Adagrad, RMSprop];

/** The sharded state of one parameter group. */
interface GroupShard {
  layout: FlatShard;
  /** The optimizer's state of this rank's shard (moments of `shardSize` elements, step counts). */
  state: ParamState | null;
  /** Stage 2: this rank's shard of the reduced gradient, or null when none has been computed since zeroGrad. */
  grad: tf.Tensor1D | null;
}

/**
 * ZeRO's partitioned optimizer (DeepSpeed's `DeepSpeedZeroOptimizer`) around a Fulmen optimizer: each rank keeps
 * optimizer state only for its shard of each parameter group's flat buffer, steps only that shard, and
 * all-gathers the updated shards back into every rank's full parameters. The optimizer's own update code runs
 * unchanged on a shard-sized parameter made for the step (optimizers keep state per parameter); its
 * hyperparameters (and schedulers changing them) stay in its parameter groups. `stateDict()` gathers the full
 * state into the ordinary per-parameter format, so checkpoints load on any number of ranks (or without sharding).
 */
export class ShardedOptimizer {
  readonly groups: GroupShard[];
  /** Tensors of the last gathered state dict, freed at the next one (callers do not own a state dict's tensors). */
  private lastGathered: tf.Tensor[] = [];

  constructor(
    readonly optimizer: Optimizer,
    private readonly collective: Collective,
    /** Stage 2: gradients are held as shards here, not in the parameters. */
    readonly shardGradients: boolean,
  ) {
    if (!ELEMENTWISE_OPTIMIZERS.some((cls) => optimizer instanceof cls))
      throw new FulmenError(
        `DeepSpeedStrategy: ${optimizer.constructor.name} is not supported; ZeRO shards element-wise optimizers ` +
          "only: use AdamW, Adam, SGD, Adagrad or RMSprop.",
      );
    const existing = optimizer.state.size > 0 ? optimizer.stateDict() : null;
    this.groups = optimizer.paramGroups.map((group) => ({
      layout: new FlatShard(
        group.params.filter((p) => p.requiresGrad),
        collective.rank,
        collective.worldSize,
      ),
      state: null,
      grad: null,
    }));
    // State the optimizer had before setup (a checkpoint loaded into it) is sharded, then dropped.
    if (existing !== null) {
      this.loadStateDict(existing);
      optimizer.disposeState();
    }
    this.install();
  }

  /** Replaces the optimizer's step, zeroGrad, stateDict, loadStateDict and disposeState with the sharded ones. */
  private install(): void {
    const target = this.optimizer as unknown as Record<string, unknown>;
    target.step = <T>(closure?: () => T): T | undefined => {
      const loss = closure?.();
      this.step();
      return loss;
    };
    const zeroGrad = this.optimizer.zeroGrad.bind(this.optimizer);
    target.zeroGrad = (setToNone = true): void => {
      zeroGrad(setToNone);
      for (const group of this.groups) {
        if (group.grad === null) continue;
        const old = group.grad;
        group.grad = setToNone ? null : tf.keep(tf.zerosLike(old) as tf.Tensor1D);
        old.dispose();
      }
    };
    target.stateDict = () => this.stateDict();
    target.loadStateDict = (state: OptimizerStateDict) => this.loadStateDict(state);
    target.disposeState = () => this.disposeState();
  }

  /** Whether `param` is one of the parameters this optimizer shards. */
  owns(param: Parameter): boolean {
    return this.groups.some((g) => g.layout.params.includes(param));
  }

  /**
   * Stage 2, after a synchronised backward: reduce-scatters (mean) each group's local gradients into this rank's
   * gradient shard (added to the one held since the last zeroGrad), and frees the full gradients.
   */
  reduceScatterGradients(): void {
    for (const group of this.groups) {
      const params = group.layout.params;
      const missing = params.filter((p) => p.grad === null).length;
      if (missing === params.length) continue;
      if (missing > 0)
        throw new FulmenError(
          `DeepSpeedStrategy: ${missing} trainable parameter(s) of an optimizer group received no gradient on rank ${this.collective.rank}. ` +
            "Every trainable parameter must take part in the loss on every rank (or set requiresGrad = false on it).",
        );
      const flat = group.layout.flatten((p) => p.grad!);
      const shard = this.collective.reduceScatter(flat, "mean");
      // Kept: backward may run inside the caller's tidy (the Trainer's), and the shard lives until zeroGrad.
      const reduced = tf.keep(tf.tensor1d(shard, "float32"));
      if (group.grad === null) group.grad = reduced;
      else {
        const sum = tf.keep(tf.add(group.grad, reduced) as tf.Tensor1D);
        group.grad.dispose();
        reduced.dispose();
        group.grad = sum;
      }
      for (const p of params) p.setGrad(null);
    }
  }

  /** Steps this rank's shard of every group, then all-gathers the updated shards into the parameters. */
  step(): void {
    this.optimizer.paramGroups.forEach((group, g) => {
      const shard = this.groups[g]!;
      const gradient = this.shardGradient(shard);
      if (gradient === null) return;
      const value = shard.layout.shardOf((p) => p.data);
      const stepped = new Parameter(value);
      value.dispose();
      stepped.grad = gradient.tensor;
      const userParams = group.params;
      const state = this.optimizer.state;
      if (shard.state !== null) state.set(stepped, shard.state);
      group.params = [stepped];
      try {
        Optimizer_step(this.optimizer);
      } finally {
        group.params = userParams;
        shard.state = state.get(stepped) ?? null;
        state.delete(stepped);
        stepped.grad = null;
        if (gradient.owned) gradient.tensor.dispose();
      }
      const updated = stepped.data.dataSync() as Float32Array;
      stepped.data.dispose();
      const full = this.collective.allGather(updated);
      shard.layout.unflatten(full, (p, v) => p.assign(v));
    });
  }

  /**
   * This rank's gradient shard of a group, or null when the group has no gradient on any rank: stage 2 holds it;
   * stage 1 slices it from the parameters' full (all-reduced) gradients.
   */
  private shardGradient(shard: GroupShard): { tensor: tf.Tensor; owned: boolean } | null {
    if (this.shardGradients) return shard.grad === null ? null : { tensor: shard.grad, owned: false };
    const params = shard.layout.params;
    const missing = params.filter((p) => p.grad === null).length;
    if (missing === params.length) return null;
    if (missing > 0)
      throw new FulmenError(
        `DeepSpeedStrategy: ${missing} trainable parameter(s) of an optimizer group have no gradient at optimizer.step(). ` +
          "Every trainable parameter must take part in the loss (or set requiresGrad = false on it).",
      );
    return { tensor: shard.layout.shardOf((p) => p.grad!), owned: true };
  }

  /**
   * The full optimizer state, as the unsharded optimizer would give it (per-parameter tensors in the
   * parameters' shapes): every rank must call it, as it all-gathers the shards. Its tensors stay valid until the
   * next call.
   */
  stateDict(): OptimizerStateDict {
    for (const t of this.lastGathered) t.dispose();
    this.lastGathered = [];
    const index = new Map<Parameter, number>();
    const paramGroups = this.optimizer.paramGroups.map((group) => {
      const { params, ...options } = group;
      return {
        ...options,
        params: params.map((p) => {
          if (!index.has(p)) index.set(p, index.size);
          return index.get(p)!;
        }),
      };
    });
    const state: Record<number, ParamState> = {};
    for (const shard of this.groups) {
      if (shard.state === null) continue;
      const perParam = new Map<Parameter, ParamState>(shard.layout.params.map((p) => [p, {}]));
      for (const [key, value] of Object.entries(shard.state)) {
        if (!(value instanceof tf.Tensor)) {
          for (const s of perParam.values()) s[key] = value;
          continue;
        }
        if (value.size !== shard.layout.shardSize)
          throw new FulmenError(
            `DeepSpeedStrategy: optimizer state '${key}' has ${value.size} elements, not the shard's ${shard.layout.shardSize}; it cannot be gathered.`,
          );
        const full = this.collective.allGather(Float32Array.from(value.dataSync()));
        shard.layout.unflatten(full, (p, v) => {
          const kept = tf.keep(tf.clone(v));
          this.lastGathered.push(kept);
          perParam.get(p)![key] = kept;
        });
      }
      for (const [p, s] of perParam) state[index.get(p)!] = s;
    }
    return { state, paramGroups };
  }

  /**
   * Loads a full optimizer state (from {@link ShardedOptimizer.stateDict}, or an unsharded optimizer's, saved with
   * any number of ranks): keeps this rank's shard of it, and the groups' hyperparameters.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.optimizer.constructor.name;
    if (!stateDict || !Array.isArray(stateDict.paramGroups) || typeof stateDict.state !== "object")
      throw new FulmenError(`${name}.loadStateDict: expected an object with 'state' and 'paramGroups'.`);
    const groups = this.optimizer.paramGroups;
    if (stateDict.paramGroups.length !== groups.length)
      throw new FulmenError(
        `${name}.loadStateDict: the state has ${stateDict.paramGroups.length} parameter groups, the optimizer has ${groups.length}.`,
      );
    const shards = groups.map((group, g) => {
      const saved = stateDict.paramGroups[g]!;
      if (saved.params.length !== group.params.length)
        throw new FulmenError(
          `${name}.loadStateDict: parameter group ${g} has ${saved.params.length} parameters in the state but ${group.params.length} in the optimizer.`,
        );
      const byParam = new Map<Parameter, ParamState>();
      saved.params.forEach((id, k) => {
        const s = stateDict.state[id];
        if (s !== undefined) byParam.set(group.params[k]!, s);
      });
      return this.shardState(this.groups[g]!.layout, byParam, g);
    });
    this.disposeState();
    shards.forEach((s, g) => {
      this.groups[g]!.state = s;
    });
    groups.forEach((group, g) => {
      const { params: _ignored, ...options } = stateDict.paramGroups[g]!;
      Object.assign(group, options);
    });
  }

  /** This rank's shard of a group's per-parameter state (every parameter of the group has state, or none). */
  private shardState(layout: FlatShard, byParam: Map<Parameter, ParamState>, g: number): ParamState | null {
    const withState = layout.params.filter((p) => byParam.has(p));
    if (withState.length === 0) return null;
    if (withState.length !== layout.params.length)
      throw new FulmenError(
        `DeepSpeedStrategy: the optimizer state has state for ${withState.length} of the ${layout.params.length} trainable parameters of group ${g}; ZeRO needs all or none.`,
      );
    const sharded: ParamState = {};
    for (const [key, value] of Object.entries(byParam.get(layout.params[0]!)!)) {
      if (!(value instanceof tf.Tensor)) {
        sharded[key] = value;
        continue;
      }
      for (const p of layout.params) {
        const v = byParam.get(p)![key];
        if (!(v instanceof tf.Tensor) || !tf.util.arraysEqual(v.shape, p.shape))
          throw new FulmenError(
            `DeepSpeedStrategy: optimizer state '${key}' of a parameter of shape [${p.shape}] is missing or has another shape.`,
          );
      }
      sharded[key] = tf.keep(layout.shardOf((p) => byParam.get(p)![key] as tf.Tensor));
    }
    return sharded;
  }

  /** Frees the sharded state and gradient shards. */
  disposeState(): void {
    for (const group of this.groups) {
      for (const v of Object.values(group.state ?? {})) if (v instanceof tf.Tensor) v.dispose();
      group.state = null;
    }
  }

  /** Frees everything the sharded optimizer holds (state, gradient shards, the last gathered state dict). */
  dispose(): void {
    this.disposeState();
    for (const group of this.groups) {
      group.grad?.dispose();
      group.grad = null;
    }
    for (const t of this.lastGathered) t.dispose();
    this.lastGathered = [];
  }
}

/** The optimizer class's own step (its `step` property is replaced by the sharded one). */
function Optimizer_step(optimizer: Optimizer): void {
  Object.getPrototypeOf(optimizer).step.call(optimizer);
}

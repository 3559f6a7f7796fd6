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
import { numberParamGroups, setHeldGradients } from "@fulmen/core/plugin";
import type { FlatParameter } from "./flat-parameter";
import type { ShardPiece } from "./flat-shard";

/**
 * Optimizers whose update is element-wise (each element of a parameter moves by its own gradient and state
 * only), so that stepping a shard of the flat buffer gives exactly the elements the full step would.
 */
const ELEMENTWISE_OPTIMIZERS = [AdamW, Adam, SGD, Adagrad, RMSprop];

/** The pieces of one flat parameter that one parameter group steps on this rank (maybe none). */
interface GroupPart {
  flat: FlatParameter;
  /** The group's trainable parameters in the flat parameter (on every rank). */
  members: Parameter[];
  /** This rank's pieces of them. */
  pieces: ShardPiece[];
  /** The optimizer's state of these pieces, concatenated (moments, step counts), or null before the first step. */
  state: ParamState | null;
  /** With the state offloaded: its tensors' values in host memory between steps (`state` keeps the rest). */
  host: Record<string, { values: Float32Array; shape: number[] }>;
}

/**
 * ZeRO's partitioned optimizer (DeepSpeed's `DeepSpeedZeroOptimizer`, FSDP's sharded optimizer state) around a
 * Fulmen optimizer: each rank keeps optimizer state only for its shard of each flat parameter, steps only that
 * shard, and hands the updated shard back to the flat parameter (kept as the shard, or all-gathered into full
 * parameters). The optimizer's own update code runs unchanged on shard-sized parameters made for the step (one
 * per flat parameter and group); its hyperparameters, and schedulers changing them, stay in its parameter
 * groups. `stateDict()` gathers the full state into the ordinary per-parameter format, so checkpoints load on
 * any number of ranks (or without sharding).
 */
export class ShardedOptimizer {
  /** Per parameter group, its parts of the flat parameters. */
  private readonly parts: GroupPart[][];
  /** Tensors of the last gathered state dict, freed at the next one (callers do not own a state dict's tensors). */
  private lastGathered: tf.Tensor[] = [];
  /** While a sharded checkpoint is encoded: `stateDict()` gives this rank's parts, told to this function. */
  localParts: ((tensor: tf.Tensor, from: number, shape: number[]) => void) | null = null;

  constructor(
    /** The user's optimizer, whose step, zeroGrad and state dict methods the sharded ones replace. */
    readonly optimizer: Optimizer,
    /** Flat parameters covering every trainable parameter of the optimizer. */
    readonly flats: FlatParameter[],
    private readonly collective: Collective,
    /** ZeRO-1: the averaged gradients stay in the parameters; else they are the flat parameters' shards. */
    private readonly gradientsInParameters: boolean,
    /** Keep the optimizer state in host memory between steps (DeepSpeed's offload_optimizer). */
    private readonly offloadState = false,
  ) {
    if (!ELEMENTWISE_OPTIMIZERS.some((cls) => optimizer instanceof cls))
      throw new FulmenError(
        `Sharded strategies: ${optimizer.constructor.name} is not supported; ZeRO and FSDP shard element-wise ` +
          "optimizers only: use AdamW, Adam, SGD, Adagrad or RMSprop.",
      );
    const existing = optimizer.state.size > 0 ? optimizer.stateDict() : null;
    this.parts = optimizer.paramGroups.map((group) => {
      const members = new Set(group.params.filter((p) => p.requiresGrad));
      return flats
        .filter((flat) => flat.params.some((p) => members.has(p)))
        .map((flat) => ({
          flat,
          members: flat.params.filter((p) => members.has(p)),
          pieces: flat.layout.pieces.filter((piece) => members.has(piece.param)),
          state: null,
          host: {},
        }));
    });
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
      for (const flat of this.ownFlats()) flat.zeroGrad(setToNone);
    };
    target.stateDict = () =>
      this.localParts === null ? this.stateDict() : this.localStateDict(this.localParts);
    target.loadStateDict = (state: OptimizerStateDict) => this.loadStateDict(state);
    target.disposeState = () => this.disposeState();
    // Loss scaling ("16-mixed") unscales and checks the gradient shards, and hears of an overflow on any rank.
    setHeldGradients(this.optimizer, {
      tensors: () => this.withGradients().map((f) => f.gradShard!),
      replace: (tensors) => {
        this.withGradients().forEach((flat, i) => {
          flat.gradShard?.dispose();
          flat.gradShard = tf.keep(tensors[i]!) as tf.Tensor1D;
        });
      },
      anyAcrossProcesses: (flag) => {
        const data = Float32Array.of(flag ? 1 : 0);
        this.collective.allReduce(data, "max");
        return data[0] === 1;
      },
    });
  }

  /** The flat parameters this optimizer steps that hold a gradient shard now. */
  private withGradients(): FlatParameter[] {
    return this.ownFlats().filter((f) => f.gradShard !== null);
  }

  /** The flat parameters this optimizer steps. */
  private ownFlats(): FlatParameter[] {
    return [...new Set(this.parts.flat().map((p) => p.flat))];
  }

  /**
   * Steps this rank's shard of every flat parameter that has a gradient, one flat parameter at a time (so that
   * only one shard's copies exist at once), then hands each updated shard back.
   */
  step(): void {
    for (const flat of this.ownFlats().filter((f) => this.hasGradient(f))) {
      const parts = this.parts.flatMap((group, g) =>
        group.filter((p) => p.flat === flat).map((part) => ({ part, g })),
      );
      const grad = this.gradientsInParameters
        ? flat.layout.shardOf((p) => p.grad ?? tf.zerosLike(p.data))
        : flat.gradShard!;
      try {
        if (parts.length === 1 && parts[0]!.part.pieces.length === flat.layout.pieces.length)
          this.stepWholeShard(flat, parts[0]!.part, parts[0]!.g, grad);
        else this.stepPieces(flat, parts, grad);
      } finally {
        if (this.gradientsInParameters) grad.dispose();
      }
    }
  }

  /**
   * One group steps every parameter of the flat parameter (the usual case): the shard's values and gradient are
   * the step's parameter as they are (their first elements, short of the padding), with no host copy.
   */
  private stepWholeShard(flat: FlatParameter, part: GroupPart, g: number, grad: tf.Tensor1D): void {
    const { shardSize } = flat.layout;
    const filled = part.pieces.reduce((n, piece) => n + piece.length, 0);
    const values = flat.values();
    const value = filled === shardSize ? values : (tf.slice(values, [0], [filled]) as tf.Tensor1D);
    if (value !== values) values.dispose();
    const updated = this.stepPart(
      part,
      g,
      value,
      tf.tidy(() => tf.slice(grad, [0], [filled])),
    );
    flat.setValues(
      filled === shardSize
        ? updated
        : tf.tidy(() => {
            const padded = tf.concat([updated, tf.zeros([shardSize - filled])]) as tf.Tensor1D;
            updated.dispose();
            return padded;
          }),
    );
  }

  /** Each group steps its pieces of the flat parameter, gathered from a host copy of the shard and put back. */
  private stepPieces(
    flat: FlatParameter,
    parts: Array<{ part: GroupPart; g: number }>,
    grad: tf.Tensor1D,
  ): void {
    const values = flat.hostValues();
    const staging = flat.staging;
    for (const { part, g } of parts) {
      const value = tf.tensor1d(
        gatherPieces(values, part.pieces, staging.tensorArray.bind(staging)),
        "float32",
      );
      const updated = this.stepPart(
        part,
        g,
        value,
        tf.tidy(() => slicePieces(grad, part.pieces)),
      );
      const read = staging.copyOut(updated);
      updated.dispose();
      scatterPieces(values, part.pieces, read);
      staging.scratch.release(read);
    }
    flat.setValues(tf.tensor1d(values, "float32"));
  }

  /**
   * Runs the optimizer's own update on one part: a parameter of `value` (taken) with gradient `grad` (taken),
   * alone in its group (every other group empty for the call), with the part's state; returns its new value.
   */
  private stepPart(part: GroupPart, g: number, value: tf.Tensor1D, grad: tf.Tensor1D): tf.Tensor1D {
    const param = new Parameter(value);
    value.dispose();
    param.grad = grad;
    this.toDevice(part);
    if (part.state !== null) this.optimizer.state.set(param, part.state);
    const groups = this.optimizer.paramGroups;
    const userParams = groups.map((group) => group.params);
    groups.forEach((group, i) => {
      group.params = i === g ? [param] : [];
    });
    try {
      Optimizer_step(this.optimizer);
      return tf.keep(tf.clone(param.data)) as tf.Tensor1D;
    } finally {
      groups.forEach((group, i) => {
        group.params = userParams[i]!;
      });
      part.state = this.optimizer.state.get(param) ?? null;
      this.toHost(part);
      this.optimizer.state.delete(param);
      param.dispose();
    }
  }

  /**
   * Whether a flat parameter has a gradient to step (the same answer on every rank): its reduced shard, or (ZeRO-1)
   * the all-reduced gradients in its parameters, every trainable one or none.
   */
  private hasGradient(flat: FlatParameter): boolean {
    if (!this.gradientsInParameters) return flat.gradShard !== null;
    const trainable = flat.params.filter((p) => p.requiresGrad);
    const missing = trainable.filter((p) => p.grad === null).length;
    if (missing === trainable.length) return false;
    if (missing > 0)
      throw new FulmenError(
        `${missing} trainable parameter(s) of ${flat.owner} have no gradient at optimizer.step(). ` +
          "Every trainable parameter must take part in the loss (or set requiresGrad = false on it).",
      );
    return true;
  }

  /**
   * The full optimizer state, as the unsharded optimizer would give it (per-parameter tensors in the
   * parameters' shapes): every rank must call it, as it all-gathers the shards. Its tensors stay valid until the
   * next call.
   */
  stateDict(): OptimizerStateDict {
    return this.onDevice(() => this.gatherStateDict());
  }

  private gatherStateDict(): OptimizerStateDict {
    for (const t of this.lastGathered) t.dispose();
    this.lastGathered = [];
    const { index, paramGroups } = numberParamGroups(this.optimizer.paramGroups);
    const state: Record<number, ParamState> = {};
    for (const flat of this.ownFlats()) {
      const parts = this.parts.map((group) => group.find((p) => p.flat === flat) ?? null);
      const stepped = parts.filter((p): p is GroupPart => p !== null && p.state !== null);
      if (stepped.length === 0) continue;
      const perParam = new Map<Parameter, ParamState>();
      parts.forEach((part) => {
        if (part === null || part.state === null) return;
        for (const p of part.members) {
          const s: ParamState = {};
          for (const [key, value] of Object.entries(part.state))
            if (!(value instanceof tf.Tensor)) s[key] = value;
          perParam.set(p, s);
        }
      });
      const keys = [
        ...new Set(
          stepped.flatMap((p) => Object.keys(p.state!).filter((k) => p.state![k] instanceof tf.Tensor)),
        ),
      ].sort();
      for (const key of keys) {
        const shard = new Float32Array(flat.layout.shardSize);
        for (const part of stepped) {
          const value = part.state![key];
          if (!(value instanceof tf.Tensor)) continue;
          scatterPieces(shard, part.pieces, value.dataSync() as Float32Array);
        }
        const full = this.collective.allGather(shard);
        flat.layout.unflatten(full, (p, v) => {
          const s = perParam.get(p);
          if (s === undefined) return;
          const kept = tf.keep(tf.clone(v));
          this.lastGathered.push(kept);
          s[key] = kept;
        });
      }
      for (const [p, s] of perParam) if (index.has(p)) state[index.get(p)!] = s;
    }
    return { state, paramGroups };
  }

  /**
   * This rank's parts of the optimizer state, in the per-parameter format of {@link ShardedOptimizer.stateDict}
   * but each state tensor only the piece of the parameter (flattened) this rank holds, maybe empty: what a
   * sharded checkpoint stores, without gathering. `part(tensor, from, shape)` hears each piece's place in the
   * whole. The caller owns the tensors.
   */
  localStateDict(part: (tensor: tf.Tensor, from: number, shape: number[]) => void): OptimizerStateDict {
    return this.onDevice(() => this.partsOfState(part));
  }

  private partsOfState(part: (tensor: tf.Tensor, from: number, shape: number[]) => void): OptimizerStateDict {
    const { index, paramGroups } = numberParamGroups(this.optimizer.paramGroups);
    const state: Record<number, ParamState> = {};
    for (const groupParts of this.parts) {
      for (const p of groupParts) {
        if (p.state === null) continue;
        let offset = 0;
        const at = new Map<Parameter, { offset: number; from: number; length: number }>();
        for (const piece of p.pieces) {
          at.set(piece.param, { offset, from: piece.from, length: piece.length });
          offset += piece.length;
        }
        for (const member of p.members) {
          const s: ParamState = {};
          const where = at.get(member);
          for (const [key, value] of Object.entries(p.state)) {
            if (!(value instanceof tf.Tensor)) {
              s[key] = value;
              continue;
            }
            const piece =
              where === undefined ? tf.zeros([0]) : tf.slice(value, [where.offset], [where.length]);
            part(piece, where?.from ?? 0, member.shape);
            s[key] = piece;
          }
          if (index.has(member)) state[index.get(member)!] = s;
        }
      }
    }
    return { state, paramGroups };
  }

  /**
   * Loads a full optimizer state (from {@link ShardedOptimizer.stateDict}, or an unsharded optimizer's, saved with
   * any number of ranks): keeps this rank's shard of it, and the groups' hyperparameters.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    this.onDevice(() => this.loadSharded(stateDict));
  }

  private loadSharded(stateDict: OptimizerStateDict): void {
    const name = this.optimizer.constructor.name;
    if (!stateDict || !Array.isArray(stateDict.paramGroups) || typeof stateDict.state !== "object")
      throw new FulmenError(`${name}.loadStateDict: expected an object with 'state' and 'paramGroups'.`);
    const groups = this.optimizer.paramGroups;
    if (stateDict.paramGroups.length !== groups.length)
      throw new FulmenError(
        `${name}.loadStateDict: the state has ${stateDict.paramGroups.length} parameter groups, the optimizer has ${groups.length}.`,
      );
    const next = groups.map((group, g) => {
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
      return this.parts[g]!.map((part) => shardState(part, byParam, g));
    });
    this.disposeState();
    next.forEach((states, g) => {
      states.forEach((s, k) => {
        this.parts[g]![k]!.state = s;
      });
    });
    groups.forEach((group, g) => {
      const { params: _ignored, ...options } = stateDict.paramGroups[g]!;
      Object.assign(group, options);
    });
  }

  /** Frees the sharded state. */
  disposeState(): void {
    for (const part of this.parts.flat()) part.host = {};
    for (const part of this.parts.flat()) {
      for (const v of Object.values(part.state ?? {})) if (v instanceof tf.Tensor) v.dispose();
      part.state = null;
    }
  }

  /** With offloading: moves a part's state tensors to host memory (freeing the device's). */
  private toHost(part: GroupPart): void {
    if (!this.offloadState || part.state === null) return;
    for (const [key, value] of Object.entries(part.state)) {
      if (!(value instanceof tf.Tensor)) continue;
      part.host[key] = { values: Float32Array.from(value.dataSync() as Float32Array), shape: value.shape };
      value.dispose();
      delete part.state[key];
    }
  }

  /** With offloading: brings a part's state tensors back to the device for a step. */
  private toDevice(part: GroupPart): void {
    if (!this.offloadState || part.state === null) return;
    for (const [key, { values, shape }] of Object.entries(part.host))
      part.state[key] = tf.keep(tf.tensor(values, shape, "float32"));
    part.host = {};
  }

  /** Runs `fn` with every part's state on the device (reading or replacing it), offloading it again after. */
  private onDevice<T>(fn: () => T): T {
    for (const part of this.parts.flat()) this.toDevice(part);
    try {
      return fn();
    } finally {
      for (const part of this.parts.flat()) this.toHost(part);
    }
  }

  /** Frees everything the sharded optimizer holds (state, the last gathered state dict). */
  dispose(): void {
    this.disposeState();
    for (const t of this.lastGathered) t.dispose();
    this.lastGathered = [];
  }
}

/** This rank's part of a group's per-parameter state (every parameter of the part has state, or none). */
function shardState(part: GroupPart, byParam: Map<Parameter, ParamState>, g: number): ParamState | null {
  const withState = part.members.filter((p) => byParam.has(p));
  if (withState.length === 0) return null;
  if (withState.length !== part.members.length)
    throw new FulmenError(
      `Sharded strategies: the optimizer state has state for ${withState.length} of the ${part.members.length} trainable parameters of group ${g} in ${part.flat.owner}; it needs all or none.`,
    );
  const template = byParam.get(withState[0]!)!;
  const sharded: ParamState = {};
  for (const [key, value] of Object.entries(template)) {
    if (!(value instanceof tf.Tensor)) {
      sharded[key] = value;
      continue;
    }
    for (const piece of part.pieces) {
      const v = byParam.get(piece.param)?.[key];
      if (!(v instanceof tf.Tensor) || !tf.util.arraysEqual(v.shape, piece.param.shape))
        throw new FulmenError(
          `Sharded strategies: optimizer state '${key}' of a parameter of shape [${piece.param.shape}] in group ${g} is missing or has another shape; the state must cover every parameter of the group or none.`,
        );
    }
    sharded[key] = tf.keep(
      tf.tidy(() =>
        part.pieces.length === 0
          ? tf.zeros([0])
          : tf.concat(
              part.pieces.map((piece) =>
                tf.slice(
                  tf.reshape(byParam.get(piece.param)![key] as tf.Tensor, [-1]),
                  [piece.from],
                  [piece.length],
                ),
              ),
            ),
      ),
    );
  }
  return sharded;
}

/** The pieces' elements of a shard-sized array, concatenated into an array from `allocate`. */
function gatherPieces(
  shard: Float32Array,
  pieces: ShardPiece[],
  allocate: (length: number) => Float32Array,
): Float32Array {
  const out = allocate(pieces.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const piece of pieces) {
    out.set(shard.subarray(piece.at, piece.at + piece.length), k);
    k += piece.length;
  }
  return out;
}

/** Writes concatenated piece values back to their places in a shard-sized array. */
function scatterPieces(shard: Float32Array, pieces: ShardPiece[], values: Float32Array): void {
  let k = 0;
  for (const piece of pieces) {
    shard.set(values.subarray(k, k + piece.length), piece.at);
    k += piece.length;
  }
}

/** The pieces' elements of a shard-sized tensor, concatenated. */
function slicePieces(shard: tf.Tensor1D, pieces: ShardPiece[]): tf.Tensor1D {
  if (pieces.length === 0) return tf.zeros([0]);
  return tf.concat(pieces.map((piece) => tf.slice(shard, [piece.at], [piece.length]))) as tf.Tensor1D;
}

/** The optimizer class's own step (its `step` property is replaced by the sharded one). */
function Optimizer_step(optimizer: Optimizer): void {
  Object.getPrototypeOf(optimizer).step.call(optimizer);
}

import { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import { checkNumber, checkOptionNames } from "../utils/options";

/** Hyperparameters every optimizer has. */
export interface BaseOptimizerOptions {
  /** Learning rate. */
  lr: number;
}

/** A parameter group: parameters sharing hyperparameters, like an entry of `optimizer.param_groups`. */
export type ParamGroup<O extends BaseOptimizerOptions = BaseOptimizerOptions> = O & {
  /** The group's parameters (PyTorch's `params`). */
  params: Parameter[];
  /** The learning rate a scheduler started from (set by LR schedulers, as PyTorch's `initial_lr`). */
  initialLr?: number;
};

/** A parameter group as passed to a constructor: the parameters, plus any hyperparameters that differ. */
export type ParamGroupInput<O extends BaseOptimizerOptions> = Partial<O> & {
  /** The group's parameters. */
  params: Iterable<Parameter>;
};

/** What an optimizer accepts as parameters: parameters, or groups of them with their own hyperparameters. */
export type ParamsInput<O extends BaseOptimizerOptions> =
  | Iterable<Parameter>
  | {
      /** The parameters to optimize, as a module's `parameters()` lists them (one group, the defaults). */
      parameters(): Parameter[];
    }
  | Array<ParamGroupInput<O>>;

/** The per-parameter state of an optimizer (moment estimates, step counts). */
export type ParamState = Record<string, tf.Tensor | number>;

/** A serialisable optimizer state, like PyTorch's `optimizer.state_dict()`: parameters are referred to by index. */
export interface OptimizerStateDict {
  /** Per-parameter state, keyed by parameter number; parameters without state have no entry. */
  state: Record<number, ParamState>;
  /** Each group's hyperparameters, with its parameters as numbers. */
  paramGroups: Array<
    Record<string, unknown> & {
      /** The numbers of the group's parameters (numbered in group order, from 0). */
      params: number[];
    }
  >;
}

/**
 * The base of every optimizer, with `torch.optim.Optimizer`'s semantics: parameter groups with per-group
 * hyperparameters, per-parameter state, `zeroGrad`, `step`, and a state dict that resumes training exactly.
 * Subclasses implement {@link Optimizer.updateParameter}; it runs inside `tf.tidy`.
 */
export abstract class Optimizer<O extends BaseOptimizerOptions = BaseOptimizerOptions> {
  /** The hyperparameters that groups fall back to. */
  readonly defaults: O;
  /** The parameter groups. Schedulers change `lr` (and momentum) here. */
  readonly paramGroups: Array<ParamGroup<O>> = [];
  /** Per-parameter state. */
  readonly state = new Map<Parameter, ParamState>();
  /**
   * Whether {@link Optimizer.step} must be given a closure that re-evaluates the loss and gradients (LBFGS).
   * Fabric and the Trainer read it to pass their training step to the optimizer as a closure, as Lightning does.
   */
  readonly requiresClosure: boolean = false;

  protected constructor(
    params: ParamsInput<O>,
    defaults: O,
    private readonly optionNames: readonly string[],
  ) {
    this.defaults = defaults;
    checkOptionNames(this.constructor.name, defaults, optionNames);
    this.validate(defaults);
    for (const group of toGroups(params)) this.addParamGroup(group);
    if (this.paramGroups.every((g) => g.params.length === 0)) {
      throw new FulmenError(
        `${this.constructor.name}: got an empty parameter list; pass the model or its parameters.`,
      );
    }
  }

  /** Checks hyperparameter values; subclasses add their own rules. */
  protected validate(options: Partial<O>): void {
    if (options.lr !== undefined) {
      checkNumber(this.constructor.name, "learning rate", options.lr, (v) => v >= 0, ">= 0");
    }
  }

  /** Refuses a negative value for each of `names` that `options` sets (PyTorch's "Invalid … value" checks). */
  protected checkNonNegative(options: Partial<O>, names: ReadonlyArray<keyof O & string>): void {
    for (const name of names) {
      const value: unknown = options[name];
      // checkNumber refuses what is not a number, whatever the option's declared type.
      if (value !== undefined)
        checkNumber(this.constructor.name, name, value as number, (v) => v >= 0, ">= 0");
    }
  }

  /** Computes and applies the update of one parameter from its gradient; called inside `tf.tidy`. */
  protected abstract updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<O>,
    state: ParamState,
  ): void;

  /** Adds a group of parameters, with hyperparameters that override the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const { params, ...options } = group;
    checkOptionNames(this.constructor.name, options, [...this.optionNames, "initialLr"]);
    this.validate(options as unknown as Partial<O>);
    const list = [...params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of list) {
      if (!(p instanceof Parameter)) {
        throw new FulmenError(`${this.constructor.name}: parameter groups must hold Parameter instances.`);
      }
      if (seen.has(p)) {
        throw new FulmenError(
          `${this.constructor.name}: some parameters appear in more than one parameter group.`,
        );
      }
    }
    this.paramGroups.push({
      ...this.defaults,
      ...(options as unknown as Partial<O>),
      params: list,
    } as ParamGroup<O>);
  }

  /** Clears the gradients of every parameter (to null, PyTorch 2's default; or to zeros with setToNone false). */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        p.setGrad(setToNone ? null : tf.zerosLike(p.grad));
      }
    }
  }

  /**
   * Updates every parameter that has a gradient. With a closure (which recomputes the loss and gradients), it
   * is evaluated first and its loss returned, as in PyTorch.
   */
  step<T = void>(closure?: () => T): T | undefined {
    const loss = closure?.();
    tf.tidy(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (p.grad === null) continue;
          let state = this.state.get(p);
          if (state === undefined) {
            state = {};
            this.state.set(p, state);
          }
          this.updateParameter(p, p.grad, group, state);
        }
      }
    });
    return loss;
  }

  /** Whether the current backend registers the fused update kernel `name` (see ADAM_UPDATE_KERNEL). */
  protected hasFusedKernel(name: string): boolean {
    return tf.getKernel(name, tf.getBackend()) !== undefined;
  }

  /** Runs a fused update kernel; returns its outputs (the new parameter first, then the new state). */
  protected runFusedKernel(
    name: string,
    inputs: Record<string, tf.Tensor>,
    attrs: Record<string, number | boolean>,
  ): tf.Tensor[] {
    return tf
      .engine()
      .runKernel(
        name,
        inputs as unknown as tf.NamedTensorMap,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
  }

  /** Stores a state tensor, keeping it alive past the step and freeing the one it replaces. */
  protected setState(state: ParamState, key: string, value: tf.Tensor): void {
    const old = state[key];
    state[key] = tf.keep(value);
    if (old instanceof tf.Tensor && old !== value) old.dispose();
  }

  /** A state tensor that must already exist. */
  protected tensorState(state: ParamState, key: string): tf.Tensor {
    const value = state[key];
    if (!(value instanceof tf.Tensor))
      throw new FulmenError(`${this.constructor.name}: state '${key}' is missing.`);
    return value;
  }

  /** The optimizer's state, with parameters numbered in group order (tensors are the optimizer's own). */
  stateDict(): OptimizerStateDict {
    const { index, paramGroups } = numberParamGroups(this.paramGroups);
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  /** Restores a state from {@link Optimizer.stateDict} (tensors are copied). Group sizes must match. */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (!stateDict || !Array.isArray(stateDict.paramGroups) || typeof stateDict.state !== "object") {
      throw new FulmenError(`${name}.loadStateDict: expected an object with 'state' and 'paramGroups'.`);
    }
    if (stateDict.paramGroups.length !== this.paramGroups.length) {
      throw new FulmenError(
        `${name}.loadStateDict: the state has ${stateDict.paramGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}.`,
      );
    }
    const ordered: Parameter[] = [];
    this.paramGroups.forEach((group, g) => {
      const saved = stateDict.paramGroups[g]!;
      if (saved.params.length !== group.params.length) {
        throw new FulmenError(
          `${name}.loadStateDict: parameter group ${g} has ${saved.params.length} parameters in the state but ${group.params.length} in the optimizer.`,
        );
      }
      saved.params.forEach((id, k) => {
        ordered[id] = group.params[k]!;
      });
    });
    for (const [id, s] of Object.entries(stateDict.state)) {
      const p = ordered[Number(id)];
      if (p === undefined)
        throw new FulmenError(`${name}.loadStateDict: state for unknown parameter index ${id}.`);
      for (const [key, value] of Object.entries(s)) {
        if (value instanceof tf.Tensor && !this.stateShapeFits(key, value, p)) {
          throw new FulmenError(
            `${name}.loadStateDict: state '${key}' of parameter ${id} has shape [${value.shape}], the parameter has [${p.shape}].`,
          );
        }
      }
    }
    this.disposeState();
    for (const [id, s] of Object.entries(stateDict.state)) {
      const copy: ParamState = {};
      for (const [key, value] of Object.entries(s))
        copy[key] = value instanceof tf.Tensor ? tf.keep(tf.clone(value)) : value;
      this.state.set(ordered[Number(id)]!, copy);
    }
    this.paramGroups.forEach((group, g) => {
      const { params: _ignored, ...options } = stateDict.paramGroups[g]!;
      Object.assign(group, options);
    });
  }

  /**
   * Whether a loaded state tensor may belong to `param`: by default it has the parameter's shape or is a
   * scalar. Optimizers whose state is not per element (LBFGS keeps flat vectors) override this.
   */
  protected stateShapeFits(_key: string, value: tf.Tensor, param: Parameter): boolean {
    return value.rank === 0 || tf.util.arraysEqual(value.shape, param.shape);
  }

  /** Frees every state tensor. */
  disposeState(): void {
    for (const s of this.state.values()) {
      for (const v of Object.values(s)) if (v instanceof tf.Tensor) v.dispose();
    }
    this.state.clear();
  }
}

function toGroups<O extends BaseOptimizerOptions>(params: ParamsInput<O>): Array<ParamGroupInput<O>> {
  if ("parameters" in params && typeof params.parameters === "function")
    return [{ params: params.parameters() } as unknown as ParamGroupInput<O>];
  const list = [...(params as Iterable<Parameter | ParamGroupInput<O>>)];
  if (
    list.length > 0 &&
    list.every((x) => !(x instanceof Parameter) && typeof x === "object" && "params" in x)
  ) {
    return list as Array<ParamGroupInput<O>>;
  }
  if (list.some((x) => !(x instanceof Parameter))) {
    throw new FulmenError(
      "Optimizer: params must be Parameters, a Module, or a list of {params, ...options} groups.",
    );
  }
  return [{ params: list as Parameter[] } as unknown as ParamGroupInput<O>];
}

/** Counts one more step in a parameter's state (PyTorch's `state["step"] += 1`) and returns the new count. */
export function advanceStep(state: ParamState): number {
  const step = (typeof state.step === "number" ? state.step : 0) + 1;
  state.step = step;
  return step;
}

/**
 * Parameter groups as a state dict stores them: each parameter replaced by its number (in group order, each
 * parameter numbered once), with the map from parameter to number. Sharded optimizers number theirs the same way.
 */
export function numberParamGroups<
  G extends {
    /** The group's parameters. */
    params: Parameter[];
  },
>(
  groups: G[],
): {
  /** The number of each parameter. */
  index: Map<Parameter, number>;
  /** The groups, each with its parameters replaced by their numbers. */
  paramGroups: Array<
    Omit<G, "params"> & {
      /** The numbers of the group's parameters. */
      params: number[];
    }
  >;
} {
  const index = new Map<Parameter, number>();
  const paramGroups = groups.map((group) => {
    const { params, ...options } = group;
    return {
      ...options,
      params: params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      }),
    };
  });
  return { index, paramGroups };
}

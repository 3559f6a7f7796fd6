import { currentBufferFormat } from "../amp/buffer-format";
import { isRecomputing } from "../autograd/checkpoint";
import { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";

/** A module's state: parameter and buffer tensors by dotted name, in PyTorch's order. */
export type StateDict = Record<string, tf.Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true). Shape and dtype mismatches are errors either way. */
  strict?: boolean;
}

/**
 * What {@link Module.loadStateDict} found: keys the module expected but did not get, keys it did not know, and
 * keys of an older Fulmen state dict that it read under their PyTorch name (`[old, new]`, e.g.
 * `["bn.runningMean", "bn.running_mean"]`).
 */
export interface LoadStateDictResult {
  /** Keys of the module's state dict that `stateDict` lacks; always empty with `strict: true`. */
  missingKeys: string[];
  /** Keys of `stateDict` that the module does not have; always empty with `strict: true`. */
  unexpectedKeys: string[];
  /** The keys of an older Fulmen version read under their PyTorch name, as `[old, new]` pairs. */
  renamedKeys: Array<[string, string]>;
}

/** Options of {@link Module.registerBuffer}. */
export interface BufferOptions {
  /** Whether the buffer is part of the state dict (default true). */
  persistent?: boolean;
  /** Its state-dict name when it differs from the property's (PyTorch's `running_mean` for `runningMean`). */
  key?: string;
}

/** One parameter or buffer of the state dict: its PyTorch key and the name older Fulmen versions saved it as. */
interface StateEntry {
  key: string;
  legacyKey: string;
  /** The value; read lazily, as a released parameter has none. */
  readonly tensor: tf.Tensor;
  /** The parameter, for parameter entries. */
  param?: Parameter;
}

/**
 * The base class of every layer and model, with `torch.nn.Module`'s semantics. Parameters and child modules
 * are the `Parameter` and `Module` values of the instance's own fields, found in declaration order (as PyTorch
 * records attribute assignments); buffers are registered with {@link Module.registerBuffer}. Subclasses
 * implement `forward`.
 *
 * State-dict keys (and the names of `namedParameters`, `namedBuffers`, `namedChildren`) are PyTorch's whatever
 * the TypeScript property is called: a property whose PyTorch name differs (`runningMean` → `running_mean`)
 * declares it with the `key` option of the `register*` methods or with {@link Module.setStateDictKey}.
 */
export abstract class Module {
  /** Whether the module is in training mode (see {@link Module.train}). */
  training = true;
  private readonly bufferNames = new Map<string, boolean>();
  /** Property name → state-dict key, for the properties whose PyTorch name differs. */
  private readonly stateKeys = new Map<string, string>();

  /** Computes the module's output. */
  abstract forward(...inputs: never[]): unknown;

  /**
   * Adds a parameter under `name` (same as assigning a field), saved as `options.key` when given. `null`
   * declares an absent one, like bias=False.
   */
  registerParameter(name: string, param: Parameter | null, options: { key?: string } = {}): void {
    this.checkName(name);
    this.define(name, param);
    if (options.key !== undefined) this.setStateDictKey(name, options.key);
  }

  /** Adds a child module under `name` (same as assigning a field), saved under `options.key` when given. */
  registerModule(name: string, module: Module | null, options: { key?: string } = {}): void {
    this.checkName(name);
    this.define(name, module);
    if (options.key !== undefined) this.setStateDictKey(name, options.key);
  }

  /**
   * Adds a buffer: a tensor that is state but not a parameter (running statistics). Persistent buffers are
   * part of the state dict, under `key` when given (PyTorch's name), else under `name`. `options` may be the
   * `persistent` flag alone, as in PyTorch. The module keeps the tensor and disposes it with itself.
   */
  registerBuffer(name: string, tensor: tf.Tensor | null, options: boolean | BufferOptions = true): void {
    const { persistent = true, key } = typeof options === "boolean" ? { persistent: options } : options;
    this.checkName(name);
    this.bufferNames.set(name, persistent);
    this.define(name, tensor === null ? null : tf.keep(tensor));
    if (key !== undefined) this.setStateDictKey(name, key);
  }

  /**
   * Replaces the tensor of the registered buffer `name` (keeping the new one, disposing the old one): how a
   * layer updates running statistics. Inside a checkpointed region's recomputation the buffer keeps its value:
   * the forward pass already updated it once.
   */
  protected updateBuffer(name: string, tensor: tf.Tensor): void {
    if (!this.bufferNames.has(name)) {
      throw new FulmenError(
        `${this.constructor.name}: '${name}' is not a registered buffer; call registerBuffer first.`,
      );
    }
    if (isRecomputing()) return;
    // Under a strategy's buffer dtype (FSDP's buffer_dtype), the buffer is stored at that precision.
    const format = tensor.dtype === "float32" ? currentBufferFormat() : null;
    const stored = format === null ? tensor : format.round(tensor);
    if (stored !== tensor) tensor.dispose();
    const old = this.field(name);
    this.define(name, tf.keep(stored));
    if (old instanceof tf.Tensor && old !== stored) old.dispose();
  }

  /**
   * Saves the property `property` (a parameter, buffer or child) under the state-dict key `key`: PyTorch's
   * name when the TypeScript property is named otherwise. A state dict saved under the property's name (an
   * older Fulmen checkpoint) still loads; see {@link Module.loadStateDict}.
   */
  protected setStateDictKey(property: string, key: string): void {
    this.checkName(key);
    for (const [other, otherKey] of this.stateKeys) {
      if (other !== property && otherKey === key)
        throw new FulmenError(
          `${this.constructor.name}: state-dict key '${key}' is already used by '${other}'.`,
        );
    }
    this.stateKeys.set(property, key);
  }

  /** The state-dict key of an own property. */
  private keyOf(property: string): string {
    return this.stateKeys.get(property) ?? property;
  }

  /** The direct children with their names (state-dict keys). */
  namedChildren(): Array<[string, Module]> {
    return this.namedChildProperties().map(([name, child]) => [this.keyOf(name), child]);
  }

  /** The direct children with their property names. */
  private namedChildProperties(): Array<[string, Module]> {
    return this.ownEntries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  /** The direct children. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all descendants with dotted names ("" for this one), each module once. */
  namedModules(prefix = "", seen = new Set<Module>()): Array<[string, Module]> {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [name, child] of this.namedChildren())
      out.push(...child.namedModules(join(prefix, name), seen));
    return out;
  }

  /** This module and all descendants. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name (`encoder.fc1.weight`), each parameter once, in PyTorch's order. */
  namedParameters(prefix = "", recurse = true): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    const seen = new Set<Parameter>();
    const modules: Array<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [modulePrefix, module] of modules) {
      for (const [name, value] of module.ownEntries()) {
        if (value instanceof Parameter && !seen.has(value)) {
          seen.add(value);
          out.push([join(modulePrefix, module.keyOf(name)), value]);
        }
      }
    }
    return out;
  }

  /** Every parameter, each once, in the order of {@link Module.namedParameters} (without building names). */
  parameters(recurse = true): Parameter[] {
    const out: Parameter[] = [];
    const seen = new Set<Parameter>();
    const visitedModules = new Set<Module>();
    const visit = (module: Module): void => {
      if (visitedModules.has(module)) return;
      visitedModules.add(module);
      const children: Module[] = [];
      for (const value of Object.values(module)) {
        if (value instanceof Parameter) {
          if (!seen.has(value)) {
            seen.add(value);
            out.push(value);
          }
        } else if (value instanceof Module) {
          children.push(value);
        }
      }
      if (recurse) for (const child of children) visit(child);
    };
    visit(this);
    return out;
  }

  /** Every buffer with its dotted name. */
  namedBuffers(prefix = "", recurse = true): Array<[string, tf.Tensor]> {
    const out: Array<[string, tf.Tensor]> = [];
    const modules: Array<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [modulePrefix, module] of modules) {
      for (const name of module.bufferNames.keys()) {
        const t = module.field(name);
        if (t instanceof tf.Tensor) out.push([join(modulePrefix, module.keyOf(name)), t]);
      }
    }
    return out;
  }

  /** Every buffer. */
  buffers(recurse = true): tf.Tensor[] {
    return this.namedBuffers("", recurse).map(([, b]) => b);
  }

  /** Sets training mode on this module and every descendant (dropout is active only in training). */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode, like `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Turns gradient computation on or off for every parameter. */
  requiresGrad(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Clears every parameter's gradient (PyTorch 2's default `set_to_none=True`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.setGrad(null);
  }

  /** Calls `fn` on every module, children first, then this one (like `Module.apply`). */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * The module's state: its parameters and persistent buffers by dotted name, with the same keys and tensor
   * layouts as PyTorch. The tensors are the module's own (not copies): clone what you want to keep unchanged.
   */
  stateDict(prefix = ""): StateDict {
    const out: StateDict = {};
    for (const { key, tensor } of this.stateEntries(prefix, prefix)) out[key] = tensor;
    return out;
  }

  /**
   * The state dict's keys in order, each with its parameter (the `Parameter`, whose value is not read: it may be
   * released by a sharding strategy or not created yet) or its buffer tensor.
   */
  namedStateEntries(prefix = ""): Array<[string, Parameter | tf.Tensor]> {
    // Not destructured: reading `tensor` of a parameter entry reads its value.
    return this.stateEntries(prefix, prefix).map((e) => [e.key, e.param ?? e.tensor]);
  }

  /**
   * The state dict's entries, own parameters, then persistent buffers, then children's, each with its key
   * and its key as Fulmen versions before PyTorch's names saved it (the property path).
   */
  private stateEntries(prefix: string, legacyPrefix: string): StateEntry[] {
    const out: StateEntry[] = [];
    // Property names by key: a key given to one property that another property is called would otherwise
    // make one of the two silently overwrite the other in the state dict.
    const owners = new Map<string, string>();
    const claim = (name: string): string => {
      const key = this.keyOf(name);
      const other = owners.get(key);
      if (other !== undefined) {
        throw new FulmenError(
          `${this.constructor.name}: '${other}' and '${name}' are both saved as state-dict key '${key}'; rename one of them or give it another key.`,
        );
      }
      owners.set(key, name);
      return key;
    };
    for (const [name, value] of this.ownEntries()) {
      if (!(value instanceof Parameter)) continue;
      const key = join(prefix, claim(name));
      out.push({
        key,
        legacyKey: join(legacyPrefix, name),
        param: value,
        get tensor() {
          return value.data;
        },
      });
    }
    for (const [name, persistent] of this.bufferNames) {
      const t = this.field(name);
      if (persistent && t instanceof tf.Tensor)
        out.push({ key: join(prefix, claim(name)), legacyKey: join(legacyPrefix, name), tensor: t });
    }
    for (const [name, child] of this.namedChildProperties())
      out.push(...child.stateEntries(join(prefix, claim(name)), join(legacyPrefix, name)));
    return out;
  }

  /**
   * Copies `stateDict` into the module's parameters and buffers. Every missing, unexpected, wrong-shaped or
   * wrong-dtype key is named in one error, and nothing is changed unless everything fits.
   *
   * Keys are PyTorch's. A state dict saved by a Fulmen version that named some entries after the TypeScript
   * property (Fulmen 0.1's BatchNorm: `runningMean`, `runningVar`, `numBatchesTracked`) still loads: such a key
   * is read as its PyTorch name when that name is absent, listed in `renamedKeys`, and a warning says to save
   * the checkpoint again to store PyTorch's names.
   */
  loadStateDict(stateDict: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const entries = this.stateEntries("", "");
    const renamedKeys: Array<[string, string]> = [];
    const given: StateDict = { ...stateDict };
    for (const { key, legacyKey } of entries) {
      if (key === legacyKey || key in given || !(legacyKey in given)) continue;
      given[key] = given[legacyKey]!;
      delete given[legacyKey];
      renamedKeys.push([legacyKey, key]);
    }
    stateDict = given;
    const own: StateDict = {};
    for (const { key, tensor } of entries) own[key] = tensor;
    const missingKeys = Object.keys(own).filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !(k in own));
    const problems: string[] = [];
    if (strict && missingKeys.length > 0)
      problems.push(`Missing key(s) in state_dict: ${quoteAll(missingKeys)}.`);
    if (strict && unexpectedKeys.length > 0)
      problems.push(`Unexpected key(s) in state_dict: ${quoteAll(unexpectedKeys)}.`);
    for (const [key, target] of Object.entries(own)) {
      const given = stateDict[key];
      if (given === undefined) continue;
      if (!(given instanceof tf.Tensor)) {
        problems.push(`value for ${key} is not a tensor.`);
      } else if (!tf.util.arraysEqual(given.shape, target.shape)) {
        problems.push(
          `size mismatch for ${key}: copying a param with shape [${given.shape}] from checkpoint, the shape in current model is [${target.shape}].`,
        );
      } else if (given.dtype !== target.dtype) {
        problems.push(
          `dtype mismatch for ${key}: the checkpoint has ${given.dtype}, the model has ${target.dtype}.`,
        );
      }
    }
    if (problems.length > 0) {
      throw new FulmenError(
        `Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join("\n\t")}\nFix the checkpoint or the model so that they match${strict ? ", or pass { strict: false } to ignore missing and unexpected keys" : ""}.`,
      );
    }
    this.copyState(stateDict, "");
    if (renamedKeys.length > 0) {
      console.warn(
        `${this.constructor.name}.loadStateDict: read ${renamedKeys.map(([o, n]) => `'${o}' as '${n}'`).join(", ")}, the names of an older Fulmen version; save the checkpoint again to store PyTorch's names.`,
      );
    }
    return { missingKeys, unexpectedKeys, renamedKeys };
  }

  /** Frees every parameter, gradient and buffer of this module and its descendants. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  /** A one-line-per-module summary, like PyTorch's repr. */
  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const lines = children.map(([name, c]) => `  (${name}): ${c.toString().split("\n").join("\n  ")}`);
    return `${head}\n${lines.join("\n")}\n)`;
  }

  /** Extra text for `Module.toString` (layer sizes). */
  protected extraRepr(): string {
    return "";
  }

  private copyState(stateDict: StateDict, prefix: string): void {
    for (const [name, value] of this.ownEntries()) {
      const given = stateDict[join(prefix, this.keyOf(name))];
      if (value instanceof Parameter && given !== undefined) value.assign(given);
    }
    for (const name of this.bufferNames.keys()) {
      const given = stateDict[join(prefix, this.keyOf(name))];
      const old = this.field(name);
      if (given !== undefined && old instanceof tf.Tensor) {
        this.define(name, tf.keep(tf.clone(given)));
        old.dispose();
      }
    }
    for (const [name, child] of this.namedChildProperties())
      child.copyState(stateDict, join(prefix, this.keyOf(name)));
  }

  private ownEntries(): Array<[string, unknown]> {
    return Object.entries(this);
  }

  private field(name: string): unknown {
    return (this as unknown as Record<string, unknown>)[name];
  }

  private define(name: string, value: unknown): void {
    Object.defineProperty(this, name, { value, enumerable: true, writable: true, configurable: true });
  }

  private checkName(name: string): void {
    if (name === "" || name.includes(".")) {
      throw new FulmenError(`Module: invalid name '${name}'; names must be non-empty and contain no '.'.`);
    }
  }
}

function join(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}

function quoteAll(keys: string[]): string {
  return keys.map((k) => `"${k}"`).join(", ");
}

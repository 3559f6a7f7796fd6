import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { Module } from "../module";

/**
 * `torch.nn.ModuleDict`, `ParameterList` and `ParameterDict`: containers whose entries are registered under their
 * keys (or "0", "1", … for the list), so they appear in `parameters()`, the state dict (`<name>.<key>`) and
 * `toString()` as PyTorch's do. An entry lives as a property of the container, which is why a key may not be a
 * name the container already uses (PyTorch refuses the same: "attribute already exists").
 */

/**
 * Entries given to a keyed container: an object, a `Map`, or `[key, value]` pairs, kept in their order (an
 * object lists integer-like keys first, JavaScript's property order: pass pairs or a Map to keep another).
 */
export type KeyedEntries<V> = Record<string, V> | Iterable<readonly [string, V]>;

/** The `[key, value]` pairs of {@link KeyedEntries}. */
function entriesOf<V>(entries: KeyedEntries<V>): Array<readonly [string, V]> {
  if (Symbol.iterator in entries) return [...(entries as Iterable<readonly [string, V]>)];
  return Object.entries(entries as Record<string, V>);
}

/** Throws unless `key` can be an entry of `container` (a string without dots, not one of its own members). */
function checkKey(owner: string, container: object, key: string, isEntry: (value: unknown) => boolean): void {
  if (typeof key !== "string" || key === "" || key.includes(".")) {
    throw new FulmenError(
      `${owner}: invalid key ${JSON.stringify(key)}; keys must be non-empty strings without '.'.`,
    );
  }
  if (key in container && !isEntry((container as Record<string, unknown>)[key])) {
    throw new FulmenError(
      `${owner}: key '${key}' is already a member of the container (a method or field); choose another key.`,
    );
  }
}

/** Holds child modules by key, like `torch.nn.ModuleDict`; their state-dict keys are `<key>.<name>`. */
export class ModuleDict<M extends Module = Module> extends Module {
  /** The keys in insertion order (property order would put integer-like keys first). */
  private readonly order: string[] = [];

  constructor(modules: KeyedEntries<M> = {}) {
    super();
    this.update(modules);
  }

  /** The number of modules. */
  get size(): number {
    return this.order.length;
  }

  /** Whether a module is held under `key`. */
  has(key: string): boolean {
    return this.order.includes(key);
  }

  /** The module under `key`; an unknown key is an error naming the known ones. */
  get(key: string): M {
    if (!this.has(key)) {
      throw new FulmenError(
        `ModuleDict: no module under '${key}'; the keys are ${this.order.join(", ") || "(none)"}.`,
      );
    }
    return (this as unknown as Record<string, M>)[key]!;
  }

  /** Puts `module` under `key`, replacing the one there. */
  set(key: string, module: M): this {
    checkKey("ModuleDict", this, key, (v) => v instanceof Module);
    if (!(module instanceof Module)) {
      throw new FulmenError(`ModuleDict: the value under '${key}' must be a Module, got ${typeof module}.`);
    }
    this.registerModule(key, module);
    if (!this.order.includes(key)) this.order.push(key);
    return this;
  }

  /** Removes and returns the module under `key`. */
  pop(key: string): M {
    const module = this.get(key);
    Reflect.deleteProperty(this, key);
    this.order.splice(this.order.indexOf(key), 1);
    return module;
  }

  /** Removes every module. */
  clear(): void {
    for (const key of [...this.order]) this.pop(key);
  }

  /** Adds or replaces the given modules. */
  update(modules: KeyedEntries<M>): this {
    for (const [key, module] of entriesOf(modules)) this.set(key, module);
    return this;
  }

  /** The keys in insertion order. */
  keys(): string[] {
    return [...this.order];
  }

  /** The modules in insertion order. */
  values(): M[] {
    return this.order.map((k) => this.get(k));
  }

  /** The `[key, module]` pairs in insertion order (PyTorch's `items()`). */
  items(): Array<[string, M]> {
    return this.order.map((k) => [k, this.get(k)]);
  }

  /** Iterates over the keys, as iterating a PyTorch ModuleDict does. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  forward(): never {
    throw new FulmenError("ModuleDict has no forward; get a module by key and call it.");
  }
}

/** A parameter, or a float32 tensor that a parameter container wraps in one (as PyTorch wraps tensors). */
export type ParameterLike = Parameter | tf.Tensor;

/** `value` as a parameter: a tensor is copied into a new one. */
function asParameter(owner: string, value: ParameterLike): Parameter {
  if (value instanceof Parameter) return value;
  if (value instanceof tf.Tensor) return new Parameter(value);
  throw new FulmenError(`${owner}: entries must be Parameters or float32 tensors, got ${typeof value}.`);
}

/** Holds parameters in a list, like `torch.nn.ParameterList`; their state-dict keys are "0", "1", …. */
export class ParameterList extends Module {
  private count = 0;

  constructor(values: Iterable<ParameterLike> = []) {
    super();
    for (const v of values) this.append(v);
  }

  /** The number of parameters. */
  get length(): number {
    return this.count;
  }

  /** The parameter at `index` (negative counts from the end). */
  at(index: number): Parameter {
    const i = index < 0 ? this.count + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new FulmenError(`ParameterList: index ${index} is out of range for ${this.count} parameters.`);
    }
    return (this as unknown as Record<string, Parameter>)[String(i)]!;
  }

  /** Appends a parameter (a tensor is wrapped in a new one). */
  append(value: ParameterLike): this {
    this.registerParameter(String(this.count), asParameter("ParameterList", value));
    this.count++;
    return this;
  }

  /** Appends each of `values`. */
  extend(values: Iterable<ParameterLike>): this {
    for (const v of values) this.append(v);
    return this;
  }

  /** Iterates over the parameters in order. */
  [Symbol.iterator](): Iterator<Parameter> {
    return Array.from({ length: this.count }, (_, i) => this.at(i))[Symbol.iterator]();
  }

  forward(): never {
    throw new FulmenError("ParameterList has no forward; index it (at(i)) or iterate over it.");
  }
}

/** Holds parameters by key, like `torch.nn.ParameterDict`; their state-dict keys are the keys. */
export class ParameterDict extends Module {
  /** The keys in insertion order. */
  private readonly order: string[] = [];

  constructor(values: KeyedEntries<ParameterLike> = {}) {
    super();
    this.update(values);
  }

  /** The number of parameters. */
  get size(): number {
    return this.order.length;
  }

  /** Whether a parameter is held under `key`. */
  has(key: string): boolean {
    return this.order.includes(key);
  }

  /** The parameter under `key`; an unknown key is an error naming the known ones. */
  get(key: string): Parameter {
    if (!this.has(key)) {
      throw new FulmenError(
        `ParameterDict: no parameter under '${key}'; the keys are ${this.order.join(", ") || "(none)"}.`,
      );
    }
    return (this as unknown as Record<string, Parameter>)[key]!;
  }

  /** Puts a parameter under `key` (a tensor is wrapped in a new one), replacing the one there. */
  set(key: string, value: ParameterLike): this {
    checkKey("ParameterDict", this, key, (v) => v instanceof Parameter);
    this.registerParameter(key, asParameter("ParameterDict", value));
    if (!this.order.includes(key)) this.order.push(key);
    return this;
  }

  /** Removes and returns the parameter under `key`. */
  pop(key: string): Parameter {
    const param = this.get(key);
    Reflect.deleteProperty(this, key);
    this.order.splice(this.order.indexOf(key), 1);
    return param;
  }

  /** Adds or replaces the given parameters. */
  update(values: KeyedEntries<ParameterLike>): this {
    for (const [key, value] of entriesOf(values)) this.set(key, value);
    return this;
  }

  /** The keys in insertion order. */
  keys(): string[] {
    return [...this.order];
  }

  /** The parameters in insertion order. */
  values(): Parameter[] {
    return this.order.map((k) => this.get(k));
  }

  /** The `[key, parameter]` pairs in insertion order. */
  items(): Array<[string, Parameter]> {
    return this.order.map((k) => [k, this.get(k)]);
  }

  /** Iterates over the keys, as iterating a PyTorch ParameterDict does. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  forward(): never {
    throw new FulmenError("ParameterDict has no forward; get a parameter by key.");
  }
}

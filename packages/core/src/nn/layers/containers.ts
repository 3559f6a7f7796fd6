import { FulmenError } from "../../utils/errors";
import { Module } from "../module";

/** A module that maps one value to one value, as the layers of a {@link Sequential} do. */
export interface UnaryModule<I = unknown, O = unknown> extends Module {
  forward(input: I): O;
}

/** Runs its children in order, like `torch.nn.Sequential`; children are named "0", "1", … in the state dict. */
export class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    layers.forEach((layer, i) => {
      this.registerModule(String(i), layer);
    });
  }

  /** The number of layers. */
  get length(): number {
    return this.children().length;
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): Module {
    const layers = this.children();
    const layer = layers[index < 0 ? layers.length + index : index];
    if (layer === undefined)
      throw new FulmenError(`Sequential: index ${index} is out of range for ${layers.length} layers.`);
    return layer;
  }

  /** Appends a layer. */
  append(layer: Module): this {
    this.registerModule(String(this.length), layer);
    return this;
  }

  forward<T>(input: T): T {
    let x: unknown = input;
    for (const layer of this.children() as UnaryModule[]) x = layer.forward(x);
    return x as T;
  }
}

/** Holds child modules in a list, like `torch.nn.ModuleList`, so their parameters are registered. */
export class ModuleList<M extends Module = Module> extends Module {
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** The number of modules. */
  get length(): number {
    return this.children().length;
  }

  /** The module at `index`. */
  at(index: number): M {
    const list = this.children() as M[];
    const m = list[index < 0 ? list.length + index : index];
    if (m === undefined)
      throw new FulmenError(`ModuleList: index ${index} is out of range for ${list.length} modules.`);
    return m;
  }

  /** Appends a module. */
  append(module: M): this {
    this.registerModule(String(this.length), module);
    return this;
  }

  /** Iterates over the modules in order, as `for (const m of list)`. */
  [Symbol.iterator](): Iterator<M> {
    return (this.children() as M[])[Symbol.iterator]();
  }

  forward(): never {
    throw new FulmenError("ModuleList has no forward; iterate over it and call each module.");
  }
}

import { FulmenError, Module, nn, type tf, toCamelCase } from "@fulmen/core";
import { MissingFeature } from "../golden";
import { toFulmenOptions } from "../hparams";
import { decodeTensor, isFlatTensor } from "./layer-tensors";

/** A PyTorch constructor call as the layer golden files record it. */
export interface ModuleSpec {
  /** The `torch.nn` class name, which is also the Fulmen `nn` class name. */
  type: string;
  args?: unknown[];
  /** PyTorch's keyword arguments (snake_case). */
  kwargs?: Record<string, unknown>;
  /** A container's children (`Sequential`), built first and passed positionally. */
  children?: ModuleSpec[] | null;
}

type ModuleClass = new (...args: unknown[]) => Module;
type LossFunction = (...args: unknown[]) => tf.Tensor;

/**
 * The option names a Fulmen constructor or function refused as unknown, read from its error
 * (`checkOptionNames`: "X: unknown option 'a' (did you mean 'b'?), 'c'. Valid options: ..."); null for any
 * other error.
 */
function refusedOptions(e: unknown): string[] | null {
  if (!(e instanceof FulmenError)) return null;
  const match = /unknown options? (.*?)\. Valid options/.exec(e.message);
  if (match === null) return null;
  const names = match[1]!.replace(/\(did you mean '[^']*'\?\)/g, "");
  return [...names.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}

/** Runs `make`, turning a refused option into a {@link MissingFeature} of `owner`. */
function withOptions<T>(owner: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    const refused = refusedOptions(e);
    if (refused !== null) throw new MissingFeature(`${owner} option ${refused.join(", ")}`);
    throw e;
  }
}

/** Keyword arguments as Fulmen options: camelCase names; tensors decoded. */
export function toOptions(kwargs: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = toFulmenOptions(kwargs);
  for (const [k, v] of Object.entries(out)) if (isFlatTensor(v)) out[k] = decodeTensor(v);
  return out;
}

/**
 * Builds `new nn.<type>(...args, { camelCaseKeywords })` (the options object only when there are keywords),
 * a container from its built children. A class or option Fulmen lacks is a {@link MissingFeature}.
 */
export function buildModule(spec: ModuleSpec): Module {
  const ctor = (nn as unknown as Record<string, unknown>)[spec.type];
  if (typeof ctor !== "function" || !(ctor.prototype instanceof Module)) {
    throw new MissingFeature(`nn.${spec.type}`);
  }
  const positional = spec.children != null ? spec.children.map(buildModule) : (spec.args ?? []);
  const options = toOptions(spec.kwargs);
  const args = Object.keys(options).length > 0 ? [...positional, options] : positional;
  return withOptions(`nn.${spec.type}`, () => new (ctor as ModuleClass)(...args));
}

/** The Fulmen name of a `torch.nn.functional` function (`binary_cross_entropy_with_logits` → `binaryCrossEntropyWithLogits`). */
export function functionalName(fn: string): string {
  return toCamelCase(fn);
}

/**
 * Calls `nn.functional.<camelName>(...tensors, options)`; a function or option Fulmen lacks is a
 * {@link MissingFeature}.
 */
export function callFunctional(
  fn: string,
  tensors: tf.Tensor[],
  options: Record<string, unknown>,
): tf.Tensor {
  const name = functionalName(fn);
  const f = (nn.functional as unknown as Record<string, unknown>)[name];
  if (typeof f !== "function") throw new MissingFeature(`nn.functional.${name}`);
  return withOptions(`nn.functional.${name}`, () => (f as LossFunction)(...tensors, options));
}

import { FulmenError, Module, nn, type tf } from "@fulmen/core";
import { toCamelCase } from "@fulmen/core/plugin";
import { MissingFeature } from "../golden";
import { toFulmenOptions } from "../hparams";
import { decodeTensor, isFlatTensor } from "./layer-tensors";
import {
  FUNCTION_SIGNATURES,
  MODULE_SIGNATURES,
  REQUIRED,
  sameArgument,
  type TorchParam,
  type TorchSignature,
} from "./torch-signatures";

/** A PyTorch constructor call as the layer golden files record it. */
export interface ModuleSpec {
  /** The `torch.nn` class name, which is also the Fulmen `nn` class name. */
  type: string;
  args?: unknown[];
  /** PyTorch's keyword arguments (snake_case). */
  kwargs?: Record<string, unknown>;
  /**
   * A container's children (`Sequential`), built first and passed positionally; for a class whose signature is
   * known, its leading module arguments (`TransformerEncoder`'s layer).
   */
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
 * Every argument of a PyTorch call by parameter name, as Python binds them (positional ones by position,
 * then the keywords), leaving out those equal to PyTorch's default (they change nothing, and Fulmen's
 * defaults are PyTorch's). A call Python would refuse is an error.
 */
function bindArguments(
  owner: string,
  params: readonly TorchParam[],
  args: readonly unknown[],
  kwargs: Record<string, unknown>,
): Map<string, unknown> {
  if (args.length > params.length) {
    throw new Error(
      `${owner} takes at most ${params.length} positional arguments, the case gives ${args.length}`,
    );
  }
  const bound = new Map<string, unknown>();
  args.forEach((value, i) => {
    bound.set(params[i]![0], value);
  });
  for (const [name, value] of Object.entries(kwargs)) {
    if (bound.has(name)) throw new Error(`${owner} got multiple values for argument '${name}'`);
    bound.set(name, value);
  }
  for (const [name, defaultValue] of params) {
    if (bound.has(name) && defaultValue !== REQUIRED && sameArgument(bound.get(name), defaultValue))
      bound.delete(name);
  }
  return bound;
}

/**
 * Fulmen's constructor arguments for a PyTorch call whose signature is known: its leading parameters
 * positionally, every other one in the options object (camelCase). A non-default argument that a Fulmen
 * constructor without options cannot take is a {@link MissingFeature}.
 */
function fulmenArguments(
  type: string,
  signature: TorchSignature,
  args: readonly unknown[],
  kwargs: Record<string, unknown>,
): unknown[] {
  if (signature.ignoresArguments) return [];
  const bound = bindArguments(`nn.${type}`, signature.params, args, kwargs);
  const positional = signature.params.slice(0, signature.positional).map(([name]) => {
    const value = bound.get(name);
    bound.delete(name);
    return value;
  });
  while (positional.length > 0 && positional.at(-1) === undefined) positional.pop();
  if (bound.size === 0) return positional;
  if (!signature.options) {
    throw new MissingFeature(`nn.${type} option ${[...bound.keys()].map(toCamelCase).join(", ")}`);
  }
  return [...positional, toOptions(Object.fromEntries(bound))];
}

/**
 * Builds `nn.<type>` from PyTorch's constructor call, a container from its built children. For the classes
 * whose PyTorch signature is known (see {@link MODULE_SIGNATURES}) any argument may be positional or a
 * keyword, as in Python; others are built as `new nn.<type>(...args, { camelCaseKeywords })`. A class or
 * option Fulmen lacks is a {@link MissingFeature}.
 */
export function buildModule(spec: ModuleSpec): Module {
  const ctor = (nn as unknown as Record<string, unknown>)[spec.type];
  if (typeof ctor !== "function" || !(ctor.prototype instanceof Module)) {
    throw new MissingFeature(`nn.${spec.type}`);
  }
  let args: unknown[];
  const signature = Object.hasOwn(MODULE_SIGNATURES, spec.type) ? MODULE_SIGNATURES[spec.type] : undefined;
  if (spec.children != null && signature === undefined) {
    args = spec.children.map(buildModule);
  } else {
    // With a known signature the children are the leading positional arguments (TransformerEncoder's layer),
    // followed by the case's own; a keyword whose value is a module spec (its `norm`) is built too.
    const positional = [...(spec.children ?? []).map(buildModule), ...(spec.args ?? []).map(pythonValue)];
    const kwargs = buildModuleKeywords(spec.kwargs);
    const options = toOptions(kwargs);
    args =
      signature !== undefined
        ? fulmenArguments(spec.type, signature, positional, kwargs ?? {})
        : Object.keys(options).length > 0
          ? [...positional, options]
          : positional;
  }
  return withOptions(`nn.${spec.type}`, () => new (ctor as ModuleClass)(...args));
}

/** Whether a keyword value is a module's constructor call (`{ type, args, kwargs }`), not data or a tensor. */
function isModuleSpec(value: unknown): value is ModuleSpec {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !isFlatTensor(value) &&
    typeof (value as ModuleSpec).type === "string"
  );
}

/** A keyword value as Python had it: JSON has no infinities or NaN, so the golden files spell them "inf", "-inf", "nan". */
function pythonValue(value: unknown): unknown {
  if (value === "inf") return Number.POSITIVE_INFINITY;
  if (value === "-inf") return Number.NEGATIVE_INFINITY;
  if (value === "nan") return Number.NaN;
  return value;
}

/** The keywords with special numbers decoded and every module-valued one built (`TransformerEncoder(..., norm=LayerNorm(8))`). */
function buildModuleKeywords(
  kwargs: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (kwargs === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) out[k] = isModuleSpec(v) ? buildModule(v) : pythonValue(v);
  return out;
}

/**
 * A loss case's keywords (PyTorch's names, tensors still flat) as Fulmen options: camelCase, tensors decoded,
 * and, where the function's signature is known, without the arguments equal to PyTorch's defaults (an
 * explicit `weight=None` means no weight).
 */
export function functionalOptions(fn: string, given: Record<string, unknown>): Record<string, unknown> {
  const kwargs = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, pythonValue(v)]));
  const params = Object.hasOwn(FUNCTION_SIGNATURES, fn) ? FUNCTION_SIGNATURES[fn] : undefined;
  if (params === undefined) return toOptions(kwargs);
  return toOptions(Object.fromEntries(bindArguments(`nn.functional.${fn}`, params, [], kwargs)));
}

/**
 * A function case's arguments after its tensors, as Fulmen's functions take them: PyTorch's required
 * non-tensor parameters positionally, in order (`fold(x, outputSize, kernelSize, options)`,
 * `threshold(x, threshold, value)`), then the other keywords in the options object.
 */
export function functionalArguments(fn: string, given: Record<string, unknown>): unknown[] {
  const params = Object.hasOwn(FUNCTION_SIGNATURES, fn) ? FUNCTION_SIGNATURES[fn]! : [];
  const kwargs = { ...given };
  const positional: unknown[] = [];
  for (const [name, defaultValue] of params) {
    if (defaultValue !== REQUIRED) continue;
    if (!(name in kwargs))
      throw new Error(`nn.functional.${fn}: the case gives no '${name}', which PyTorch requires`);
    positional.push(pythonValue(kwargs[name]));
    delete kwargs[name];
  }
  const options = functionalOptions(fn, kwargs);
  // no options object where there are none: it would land on an optional tensor (bilinear's bias)
  return Object.keys(options).length > 0 ? [...positional, options] : positional;
}

/** The Fulmen name of a `torch.nn.functional` function (`binary_cross_entropy_with_logits` → `binaryCrossEntropyWithLogits`). */
export function functionalName(fn: string): string {
  return toCamelCase(fn);
}

/**
 * Calls `nn.functional.<camelName>(...tensors, options)`; a function or option Fulmen lacks is a
 * {@link MissingFeature}.
 */
export function callFunctional(fn: string, tensors: tf.Tensor[], ...rest: unknown[]): tf.Tensor {
  const name = functionalName(fn);
  const f = (nn.functional as unknown as Record<string, unknown>)[name];
  if (typeof f !== "function") throw new MissingFeature(`nn.functional.${name}`);
  return withOptions(`nn.functional.${name}`, () => (f as LossFunction)(...tensors, ...rest));
}

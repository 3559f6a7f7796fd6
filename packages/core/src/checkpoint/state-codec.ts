import { halfFormatOf } from "../amp/autocast";
import { Module, type StateDict } from "../nn/module";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import type { SafetensorsEntry } from "./safetensors";
import { decodeTensor, encodeTensor, type StorageDtype } from "./tensor-codec";

/** Anything with `stateDict()` / `loadStateDict()`: optimizers, schedulers, a GradScaler, precision plugins. */
export interface Stateful {
  /** The object's state, as a checkpoint saves it (tensors, numbers, strings, arrays and objects). */
  stateDict(): unknown;
  /** Restores the object in place from a state its `stateDict()` returned (decoded from a checkpoint). */
  loadStateDict(state: never): unknown;
}

/** Whether a value has `stateDict()` and `loadStateDict()`. */
export function isStateful(value: unknown): value is Stateful {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as Stateful).stateDict === "function" &&
    typeof (value as Stateful).loadStateDict === "function"
  );
}

/** JSON with the markers the checkpoint format adds (`$tensor`, `$module`, `$stateful`, `$number`). */
export type Skeleton = null | boolean | number | string | Skeleton[] | { [key: string]: Skeleton };

/** Keeps only the entries of a state dict for which `filter(name, value)` is true (Lightning's `filter`). */
export type StateFilter = (name: string, value: unknown) => boolean;

/**
 * Sets `object[key]` as an own entry whatever the key: plain assignment of "__proto__" would replace the
 * object's prototype instead of storing a value (a checkpoint may name a tensor "__proto__").
 */
function setEntry<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__")
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

function storageOf(t: tf.Tensor): StorageDtype {
  if (t.dtype === "int32") return "I32";
  if (t.dtype === "bool") return "BOOL";
  if (t.dtype !== "float32") throw new FulmenError(`cannot save a tensor of dtype ${t.dtype}.`);
  const half = halfFormatOf(t);
  if (half === undefined) return "F32";
  return half.dtype === "float16" ? "F16" : "BF16";
}

/**
 * Splits a state (modules, optimizers, schedulers, tensors, plain values) into named tensors and a JSON
 * skeleton that refers to them. Half-precision tensors are stored as 16-bit. `onTensor` hears which name each
 * tensor is stored under (a sharding strategy uses it to tell its tensors' parts from whole ones).
 */
export function encodeState(
  state: Record<string, unknown>,
  filters: Record<string, StateFilter> = {},
  onTensor?: (name: string, tensor: tf.Tensor) => void,
): {
  /** The state's tensors, by their dotted path in the state (`model.layer.weight`). */
  tensors: Record<string, SafetensorsEntry>;
  /** The rest of the state as JSON, with `$tensor` references to `tensors`. */
  skeleton: Skeleton;
} {
  const tensors: Record<string, SafetensorsEntry> = {};
  const encode = (value: unknown, path: string, filter?: StateFilter): Skeleton => {
    if (value instanceof tf.Tensor) {
      onTensor?.(path, value);
      setEntry(tensors, path, encodeTensor(value, storageOf(value)));
      return { $tensor: path };
    }
    if (value instanceof Module) return { $module: encodeEntries(value.stateDict(), path, filter) };
    if (isStateful(value)) return { $stateful: encode(value.stateDict(), path, filter) };
    if (typeof value === "number") return Number.isFinite(value) ? value : { $number: String(value) };
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (Array.isArray(value)) return value.map((v, i) => encode(v, `${path}.${i}`));
    if (typeof value === "object" && value !== null)
      return { $object: encodeEntries(value as Record<string, unknown>, path, filter) };
    throw new FulmenError(
      `cannot save the value at '${path}' (a ${typeof value}); use tensors, numbers, strings, arrays and objects.`,
    );
  };
  const encodeEntries = (
    entries: Record<string, unknown>,
    path: string,
    filter?: StateFilter,
  ): { [key: string]: Skeleton } => {
    const out: { [key: string]: Skeleton } = {};
    for (const [k, v] of Object.entries(entries)) {
      if (v === undefined || (filter !== undefined && !filter(k, v))) continue;
      setEntry(out, k, encode(v, `${path}.${k}`));
    }
    return out;
  };
  const skeleton: { [key: string]: Skeleton } = {};
  for (const [k, v] of Object.entries(state)) {
    if (v === undefined) continue;
    setEntry(skeleton, k, encode(v, k, Object.hasOwn(filters, k) ? filters[k] : undefined));
  }
  return { tensors, skeleton: { $object: skeleton } };
}

/** Rebuilds plain values from a skeleton: `$tensor` references become new tensors (the caller owns them). */
export function decodeSkeleton(skeleton: Skeleton, tensors: Record<string, SafetensorsEntry>): unknown {
  if (skeleton === null || typeof skeleton !== "object") return skeleton;
  if (Array.isArray(skeleton)) return skeleton.map((s) => decodeSkeleton(s, tensors));
  if ("$tensor" in skeleton) {
    const name = skeleton.$tensor as string;
    const entry = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
    if (entry === undefined)
      throw new FulmenError(`the checkpoint is corrupt: tensor '${name}' is referenced but missing.`);
    return decodeTensor(entry);
  }
  if ("$number" in skeleton) return Number(skeleton.$number);
  if ("$stateful" in skeleton) return decodeSkeleton(skeleton.$stateful as Skeleton, tensors);
  const inner = (skeleton.$module ?? skeleton.$object) as Skeleton | undefined;
  if (inner === undefined || inner === null || typeof inner !== "object" || Array.isArray(inner)) {
    throw new FulmenError("the checkpoint is corrupt: its state holds an entry Fulmen does not know.");
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inner)) setEntry(out, k, decodeSkeleton(v, tensors));
  return out;
}

/** Frees every tensor inside a decoded value. */
export function disposeDecoded(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeDecoded);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(disposeDecoded);
}

/**
 * Restores a decoded checkpoint into the objects of `state` in place: modules through `loadStateDict` (keys,
 * shapes and dtypes checked), stateful objects through their `loadStateDict`, plain values by replacement.
 * Returns what the checkpoint holds beyond `state`. With `strict`, a key of `state` that the checkpoint lacks
 * is an error.
 */
export function restoreState(
  state: Record<string, unknown>,
  decoded: Record<string, unknown>,
  strict: boolean,
): Record<string, unknown> {
  const missing = Object.keys(state).filter((k) => !(k in decoded));
  if (strict && missing.length > 0) {
    throw new FulmenError(
      `The checkpoint has no entry for ${missing.map((k) => `'${k}'`).join(", ")} (it holds ${Object.keys(
        decoded,
      )
        .map((k) => `'${k}'`)
        .join(", ")}). Pass strict: false to load the rest.`,
    );
  }
  for (const [key, target] of Object.entries(state)) {
    if (key in decoded) state[key] = restoreValue(target, decoded[key], strict, key);
  }
  const remainder: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(decoded)) if (!(key in state)) remainder[key] = value;
  return remainder;
}

function holdsStateful(value: unknown): boolean {
  if (value instanceof Module || isStateful(value)) return true;
  if (Array.isArray(value)) return value.some(holdsStateful);
  if (value !== null && typeof value === "object" && !(value instanceof tf.Tensor))
    return Object.values(value).some(holdsStateful);
  return false;
}

/**
 * Restores one entry: modules and stateful objects load their state in place (and are kept); arrays and plain
 * objects that hold some are restored element by element; anything else is replaced by the saved value.
 */
function restoreValue(target: unknown, value: unknown, strict: boolean, path: string): unknown {
  if (target instanceof Module) {
    target.loadStateDict(value as StateDict, { strict });
    disposeDecoded(value);
    return target;
  }
  if (isStateful(target)) {
    (target as { loadStateDict(s: unknown): unknown }).loadStateDict(value);
    disposeDecoded(value);
    return target;
  }
  if (Array.isArray(target) && holdsStateful(target)) {
    if (!Array.isArray(value) || value.length !== target.length) {
      throw new FulmenError(
        `The checkpoint's '${path}' holds ${Array.isArray(value) ? value.length : "no list of"} entries; the state given has ${target.length}.`,
      );
    }
    target.forEach((t, i) => {
      target[i] = restoreValue(t, value[i], strict, `${path}.${i}`);
    });
    return target;
  }
  if (
    target !== null &&
    typeof target === "object" &&
    !(target instanceof tf.Tensor) &&
    holdsStateful(target)
  ) {
    const saved = (value ?? {}) as Record<string, unknown>;
    const object = target as Record<string, unknown>;
    for (const [k, t] of Object.entries(object)) {
      if (k in saved) object[k] = restoreValue(t, saved[k], strict, `${path}.${k}`);
      else if (strict)
        throw new FulmenError(
          `The checkpoint has no entry for '${path}.${k}'. Pass strict: false to load the rest.`,
        );
    }
    return target;
  }
  return value;
}

import { tf } from "@fulmen/core";

/**
 * A tensor as the layer golden files store it: flat values in row-major order, with the shape and PyTorch's
 * dtype. JSON has no inf/nan, so those are spelled "inf", "-inf" and "nan".
 */
export interface FlatTensor {
  shape: number[];
  dtype: string;
  data: Array<number | boolean | string>;
}

/** Whether a value looks like a {@link FlatTensor}. */
export function isFlatTensor(value: unknown): value is FlatTensor {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as FlatTensor).shape) &&
    Array.isArray((value as FlatTensor).data) &&
    typeof (value as FlatTensor).dtype === "string"
  );
}

function toNumber(v: number | boolean | string): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v === "nan") return Number.NaN;
  if (v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-inf") return Number.NEGATIVE_INFINITY;
  throw new Error(`cannot read tensor value '${v}'`);
}

/**
 * A tfjs tensor of the stored values: float tensors as float32, PyTorch's integer tensors (int64 indices and
 * class targets) as int32 — tfjs's integer dtype — and booleans as bool.
 */
export function decodeTensor(t: FlatTensor): tf.Tensor {
  if (t.dtype === "bool") return tf.tensor(t.data.map(Boolean), t.shape, "bool");
  const values = t.data.map(toNumber);
  if (t.dtype === "int64" || t.dtype === "int32") return tf.tensor(values, t.shape, "int32");
  if (t.dtype === "float32" || t.dtype === "float64") return tf.tensor(values, t.shape, "float32");
  throw new Error(`unknown tensor dtype '${t.dtype}'`);
}

/** The flat form of a tfjs tensor, with PyTorch's dtype name (`int32` reported as `like`'s integer dtype). */
export function encodeTensor(t: tf.Tensor, like?: FlatTensor): FlatTensor {
  const values = Array.from(t.dataSync() as ArrayLike<number>);
  if (t.dtype === "bool") return { shape: t.shape, dtype: "bool", data: values.map((v) => v !== 0) };
  const dtype = t.dtype === "int32" ? (like?.dtype === "int64" ? "int64" : "int32") : "float32";
  const data = values.map((v) => (Number.isFinite(v) ? v : Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf"));
  return { shape: t.shape, dtype, data };
}

/**
 * How far `actual` is from `expected`: the largest |a − e| / max(1, |e|) over the values — absolute below 1,
 * relative above, as float32 rounding grows with magnitude. Infinity when the shapes differ; matching
 * infinities and NaNs count as equal.
 */
export function tensorError(actual: FlatTensor, expected: FlatTensor): number {
  if (!tf.util.arraysEqual(actual.shape, expected.shape) || actual.data.length !== expected.data.length)
    return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < actual.data.length; i++) {
    const a = toNumber(actual.data[i]!);
    const e = toNumber(expected.data[i]!);
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const err = Math.abs(a - e) / Math.max(1, Math.abs(e));
    worst = Math.max(worst, Number.isNaN(err) ? Number.POSITIVE_INFINITY : err);
  }
  return worst;
}

/**
 * The same error for plain numbers (a case's scalar); the expected one may be spelled "nan", "inf" or "-inf" as in
 * tensors (a loss over an all-ignored batch is NaN in PyTorch), and matching NaNs count as equal.
 */
export function scalarError(actual: number, expected: number | string): number {
  const e = toNumber(expected);
  if (actual === e || (Number.isNaN(actual) && Number.isNaN(e))) return 0;
  const err = Math.abs(actual - e) / Math.max(1, Math.abs(e));
  return Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
}

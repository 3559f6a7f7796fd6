import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";

/** A batch as `defaultCollate` builds it from samples of unknown type: their structure, tensors as leaves. */
export type CollatedTree = tf.Tensor | CollatedTree[] | { [key: string]: CollatedTree };

/** The tensor that stacking samples of tensor type `T` gives: the same tensor with one more dimension. */
export type Stacked<T extends tf.Tensor> = T extends tf.Scalar
  ? tf.Tensor1D
  : T extends tf.Tensor1D
    ? tf.Tensor2D
    : T extends tf.Tensor2D
      ? tf.Tensor3D
      : T extends tf.Tensor3D
        ? tf.Tensor4D
        : T extends tf.Tensor4D
          ? tf.Tensor5D
          : tf.Tensor;

/** Typed arrays of integers that int32 holds exactly: collated as int32 rows (tfjs has no 8- or 16-bit dtype). */
export type IntegerArray = Int32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray;

/** Typed arrays of floating-point values: collated as float32 rows (tfjs has no float64). */
export type FloatArray = Float32Array | Float64Array;

/**
 * The batch `defaultCollate` builds from samples of type `T`, so that a batch's type follows from its dataset's
 * (`Dataset<{ x: Float32Array; y: number }>` gives batches `{ x: Tensor2D; y: Tensor1D }`): tensors gain a
 * first dimension, numbers become a 1-D tensor, typed arrays and arrays of numbers become rows of a 2-D tensor,
 * tuples and objects are collated position by position and key by key. Without a known `T`, a {@link CollatedTree}.
 */
export type Collated<T = unknown> = unknown extends T
  ? CollatedTree
  : T extends tf.Tensor
    ? Stacked<T>
    : T extends number
      ? tf.Tensor1D
      : T extends IntegerArray | FloatArray | readonly number[]
        ? tf.Tensor2D
        : T extends readonly unknown[]
          ? { -readonly [K in keyof T]: Collated<T[K]> }
          : T extends object
            ? { [K in keyof T]: Collated<T[K]> }
            : never;

/**
 * Stacks a list of samples into a batch, like PyTorch's `default_collate`: tensors are stacked along a new first
 * dimension; numbers become a 1-D tensor (int32 when every one is an integer, as Python ints become int64 in
 * PyTorch; float32 otherwise); typed arrays and arrays of numbers become rows of a 2-D tensor (integer typed
 * arrays such as a Uint8Array image as int32, Float32Array, Float64Array and number arrays as float32); arrays of
 * other values (tuples) and objects are collated position by position and key by key.
 */
export function defaultCollate(samples: unknown[]): CollatedTree {
  if (samples.length === 0) throw new FulmenError("defaultCollate: cannot collate an empty batch.");
  const first = samples[0];
  if (first instanceof tf.Tensor) {
    return tf.stack(samples.map((s) => expectTensor(s)));
  }
  if (typeof first === "number") {
    const values = samples.map((s) => {
      if (typeof s !== "number")
        throw new FulmenError("defaultCollate: a batch mixes numbers with other values.");
      return s;
    });
    return tf.tensor1d(values, values.every(Number.isInteger) ? "int32" : "float32");
  }
  if (ArrayBuffer.isView(first) || isNumberArray(first)) {
    const dtype = rowDtype(first);
    const rows = samples as Array<ArrayLike<number>>;
    const width = rows[0]!.length;
    if (rows.some((r) => rowDtype(r) !== dtype || r.length !== width)) {
      throw new FulmenError(
        "defaultCollate: rows of different lengths or kinds cannot be stacked; pad them, use one array type, or give a collateFn.",
      );
    }
    const flat =
      dtype === "int32" ? new Int32Array(rows.length * width) : new Float32Array(rows.length * width);
    rows.forEach((r, i) => {
      flat.set(r, i * width);
    });
    return tf.tensor2d(flat, [rows.length, width], dtype);
  }
  if (Array.isArray(first)) {
    return first.map((_, position) => defaultCollate(samples.map((s) => (s as unknown[])[position])));
  }
  if (first !== null && typeof first === "object") {
    const out: Record<string, CollatedTree> = {};
    for (const key of Object.keys(first))
      out[key] = defaultCollate(samples.map((s) => (s as Record<string, unknown>)[key]));
    return out;
  }
  throw new FulmenError(
    `defaultCollate: cannot collate values of type ${typeof first}; give the DataLoader a collateFn.`,
  );
}

function expectTensor(value: unknown): tf.Tensor {
  if (!(value instanceof tf.Tensor))
    throw new FulmenError("defaultCollate: a batch mixes tensors with other values.");
  return value;
}

/**
 * The dtype of a row: int32 for typed arrays of integers that int32 holds exactly (PyTorch keeps a uint8 image's
 * integers too), float32 for arrays of numbers and float typed arrays. Other views (Uint32Array, BigInt64Array,
 * DataView) have no exact tfjs dtype and are refused rather than collated key by key as objects.
 */
function rowDtype(row: unknown): "int32" | "float32" {
  if (
    row instanceof Int32Array ||
    row instanceof Int16Array ||
    row instanceof Uint16Array ||
    row instanceof Int8Array ||
    row instanceof Uint8Array ||
    row instanceof Uint8ClampedArray
  )
    return "int32";
  if (row instanceof Float32Array || row instanceof Float64Array || Array.isArray(row)) return "float32";
  throw new FulmenError(
    `defaultCollate: cannot collate a ${(row as object).constructor?.name ?? "binary view"}, which no tfjs dtype holds exactly; convert it (Int32Array, Float32Array) in the dataset or give a collateFn.`,
  );
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number");
}

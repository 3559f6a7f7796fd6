import { decodeHalf, encodeHalf } from "../amp/half-rounding";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import type { SafetensorsDtype, SafetensorsEntry } from "./safetensors";

/** How a tensor is stored: its own dtype, or 16-bit for tensors that hold half-precision values. */
export type StorageDtype = SafetensorsDtype;

/** The bytes of a tensor in the given storage dtype (float32 values are rounded when stored as 16-bit). */
export function encodeTensor(t: tf.Tensor, storage: StorageDtype): SafetensorsEntry {
  const values = t.dataSync();
  let data: Uint8Array;
  switch (storage) {
    case "F32":
      data = new Uint8Array(Float32Array.from(values).buffer);
      break;
    case "I32":
      data = new Uint8Array(Int32Array.from(values).buffer);
      break;
    case "I64":
      // PyTorch's integer dtype: int32 values widen exactly.
      data = new Uint8Array(BigInt64Array.from(Int32Array.from(values), (v) => BigInt(v)).buffer);
      break;
    case "BOOL":
      data = Uint8Array.from(values);
      break;
    case "F16":
    case "BF16":
      data = new Uint8Array(encodeHalf(values, storage === "F16" ? "float16" : "bfloat16").buffer);
      break;
    default:
      throw new FulmenError(`cannot store a tensor as ${String(storage)}.`);
  }
  return { dtype: storage, shape: [...t.shape], data };
}

/** The int32 values of an I64 entry; a value outside int32's range is an error rather than a wrapped number. */
function narrowInt64(data: Uint8Array): Int32Array {
  const wide = new BigInt64Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    const v = wide[i]!;
    if (v > 2147483647n || v < -2147483648n)
      throw new FulmenError(
        `cannot read an I64 tensor holding ${v}: Fulmen holds integers as int32 (tfjs has no int64). Store the tensor with values within ±2^31 or as float.`,
      );
    out[i] = Number(v);
  }
  return out;
}

/** The tensor a stored entry holds: float32 for every float storage, int32 for I32 and I64, bool as such. */
export function decodeTensor(entry: SafetensorsEntry): tf.Tensor {
  const { data, shape } = entry;
  switch (entry.dtype) {
    case "F32":
      return tf.tensor(new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4), shape, "float32");
    case "I32":
      return tf.tensor(new Int32Array(data.buffer, data.byteOffset, data.byteLength / 4), shape, "int32");
    case "I64":
      return tf.tensor(narrowInt64(data), shape, "int32");
    case "BOOL":
      return tf.tensor(Uint8Array.from(data), shape, "bool");
    case "F16":
    case "BF16":
      return tf.tensor(
        decodeHalf(
          new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2),
          entry.dtype === "F16" ? "float16" : "bfloat16",
        ),
        shape,
        "float32",
      );
    default:
      throw new FulmenError(`cannot read a tensor stored as ${String(entry.dtype)}.`);
  }
}

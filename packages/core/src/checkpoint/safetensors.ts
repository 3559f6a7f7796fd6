import { FulmenError } from "../utils/errors";
import { parseStrictJson, StrictJsonError, type StrictJsonValue } from "./strict-json";

/**
 * The safetensors dtypes Fulmen reads and writes. I64 is PyTorch's integer dtype (BatchNorm's
 * `num_batches_tracked`): it is read into int32 tensors (tfjs has no int64) and written by `exportWeights`.
 */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "I32" | "I64" | "BOOL";

/** One tensor of a safetensors file: its dtype, shape and raw little-endian bytes. */
export interface SafetensorsEntry {
  /** The element type, as safetensors names it (`"F32"`, `"BF16"`, ...). */
  dtype: SafetensorsDtype;
  /** The tensor's dims, each a non-negative integer; `[]` for a scalar. */
  shape: number[];
  /** The elements, row-major and little-endian: the shape's element count times the dtype's size in bytes. */
  data: Uint8Array;
}

/**
 * A decoded safetensors file. `tensors` and `metadata` are dictionaries without a prototype, so that every key
 * (`__proto__`, `constructor`) is an ordinary entry.
 */
export interface SafetensorsFile {
  /** The tensors, by name. The name `__metadata__` is reserved and cannot be used. */
  tensors: Record<string, SafetensorsEntry>;
  /** The header's `__metadata__` string map; empty when the file has none. */
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, BOOL: 1 };
/** The dtypes of the reference implementation that Fulmen does not read, for a precise message. */
const OTHER_DTYPES = new Set([
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "I16",
  "U16",
  "U32",
  "F64",
  "U64",
  "C64",
]);
/** The reference implementation's limit: a longer header is refused before it is read. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";
const CORRUPT_FIX = "The file is damaged or was not written by a safetensors writer; write it again.";

/** A dictionary whose keys are all ordinary own entries (no inherited `__proto__` setter). */
function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * Encodes tensors in the safetensors format (an 8-byte little-endian header length, a JSON header, then the
 * tensors' bytes back to back), which PyTorch's `safetensors.torch.load_file` reads.
 */
export function encodeSafetensors(file: SafetensorsFile): Buffer {
  const header = dictionary<unknown>();
  if (Object.keys(file.metadata).length > 0) header[METADATA_KEY] = { ...file.metadata };
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, entry] of Object.entries(file.tensors)) {
    if (name === METADATA_KEY)
      throw new FulmenError(`safetensors: '${METADATA_KEY}' is reserved for metadata; rename that tensor.`);
    if (!entry.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new FulmenError(
        `safetensors: tensor '${name}' has shape [${entry.shape}]; dims must be non-negative integers.`,
      );
    const expected = entry.shape.reduce((a, b) => a * b, 1) * BYTES[entry.dtype];
    if (entry.data.byteLength !== expected) {
      throw new FulmenError(
        `safetensors: tensor '${name}' has ${entry.data.byteLength} bytes, its shape needs ${expected}.`,
      );
    }
    header[name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + expected] };
    parts.push(entry.data);
    offset += expected;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to a multiple of 8 bytes, so that the data is aligned.
  const raw = Buffer.byteLength(json);
  json += " ".repeat((8 - (raw % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([prefix, headerBytes, ...parts]);
}

interface Placed {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A JSON number that is a non-negative integer, written as one (`2`, not `2.0` or `2e0`), or null. */
function naturalNumber(value: StrictJsonValue): number | null {
  if (value.type !== "number" || !/^(0|[1-9][0-9]*)$/.test(value.text)) return null;
  const n = Number(value.text);
  return Number.isSafeInteger(n) ? n : null;
}

function describe(value: StrictJsonValue): string {
  if (value.type === "number") return value.text;
  if (value.type === "string") return JSON.stringify(value.value);
  if (value.type === "boolean") return String(value.value);
  if (value.type === "array") return `an array of ${value.items.length} values`;
  return value.type === "null" ? "null" : "an object";
}

/**
 * Decodes a safetensors file as strictly as the reference implementation (huggingface/safetensors): a header of
 * at most 100,000,000 bytes holding one JSON object without duplicate keys; `__metadata__` a map of strings; every
 * other entry an object with a known dtype, a shape of non-negative integers and two non-negative integer
 * data_offsets whose span is exactly the shape's bytes; the spans, sorted, tile the data area from its first byte
 * to its last. Anything else is a {@link FulmenError} naming `source`, the key and the problem.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "checkpoint"): SafetensorsFile {
  const invalid = (problem: string, fix = CORRUPT_FIX) =>
    new FulmenError(`${source} is not a valid safetensors file: ${problem}. ${fix}`);
  if (bytes.byteLength < 8)
    throw invalid(`it is truncated to ${bytes.byteLength} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const claimed = view.getBigUint64(0, true);
  if (claimed > BigInt(MAX_HEADER_BYTES))
    throw invalid(
      `its header length is ${claimed} bytes, over the 100,000,000 bytes safetensors allows (the file is truncated or not a safetensors file)`,
    );
  const headerLength = Number(claimed);
  if (headerLength > bytes.byteLength - 8) {
    throw invalid(
      `its header claims ${headerLength} bytes but only ${bytes.byteLength - 8} follow (the file is truncated or not a safetensors file)`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      bytes.subarray(8, 8 + headerLength),
    );
  } catch {
    throw invalid("its header is not valid UTF-8");
  }
  if (!text.startsWith("{")) throw invalid("its header does not start with '{' (it must be a JSON object)");
  let root: StrictJsonValue;
  try {
    root = parseStrictJson(text);
  } catch (e) {
    if (!(e instanceof StrictJsonError)) throw e;
    const where = e.path.length === 0 ? "" : ` (inside '${e.path.join("' > '")}')`;
    throw invalid(`its JSON header is refused: ${e.message}${where}`);
  }
  if (root.type !== "object") throw invalid("its header is not a JSON object");

  const dataLength = bytes.byteLength - 8 - headerLength;
  const metadata = dictionary<string>();
  const placed: Placed[] = [];
  for (const [name, value] of root.entries) {
    if (name === METADATA_KEY) {
      if (value.type === "null") continue;
      if (value.type !== "object") throw invalid(`'${METADATA_KEY}' is ${describe(value)}, not a string map`);
      for (const [key, item] of value.entries) {
        if (item.type !== "string")
          throw invalid(`'${METADATA_KEY}' entry '${key}' is ${describe(item)}, not a string`);
        metadata[key] = item.value;
      }
      continue;
    }
    placed.push(readEntry(name, value, (problem) => invalid(`tensor '${name}' ${problem}`)));
  }

  // The reference sorts by (begin, end) and demands that the spans follow each other from byte 0 to the end.
  const ordered = [...placed].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let next = 0;
  let previous: Placed | null = null;
  for (const t of ordered) {
    if (t.begin < next)
      throw invalid(
        `tensor '${t.name}' starts at data byte ${t.begin}, inside tensor '${previous!.name}' (bytes ${previous!.begin}..${previous!.end}): the tensors overlap`,
      );
    if (t.begin > next)
      throw invalid(
        `tensor '${t.name}' starts at data byte ${t.begin}, leaving bytes ${next}..${t.begin} unused: the tensors must be contiguous`,
      );
    if (t.end > dataLength)
      throw invalid(
        `tensor '${t.name}' ends at data byte ${t.end} but the data area has ${dataLength} bytes (the file is truncated)`,
      );
    next = t.end;
    previous = t;
  }
  if (next !== dataLength)
    throw invalid(
      `${dataLength - next} bytes after the last tensor's data (from data byte ${next}) belong to no tensor`,
    );

  const tensors = dictionary<SafetensorsEntry>();
  const dataStart = 8 + headerLength;
  for (const t of placed) {
    // A copy (Buffer.slice would not copy), so that the tensor's bytes are aligned for typed-array views and the file's buffer can go.
    tensors[t.name] = {
      dtype: t.dtype,
      shape: t.shape,
      data: new Uint8Array(bytes.subarray(dataStart + t.begin, dataStart + t.end)),
    };
  }
  return { tensors, metadata };
}

/** Checks one tensor entry of the header: an object with a dtype, a shape and data_offsets that agree. */
function readEntry(name: string, value: StrictJsonValue, invalid: (problem: string) => FulmenError): Placed {
  if (value.type !== "object")
    throw invalid(`is ${describe(value)}, not an object with dtype, shape and data_offsets`);
  const field = (key: string): StrictJsonValue => {
    const f = value.entries.get(key);
    if (f === undefined) throw invalid(`has no '${key}'`);
    return f;
  };
  const dtypeValue = field("dtype");
  if (dtypeValue.type !== "string") throw invalid(`has dtype ${describe(dtypeValue)}, not a dtype name`);
  const dtype = dtypeValue.value;
  if (!Object.hasOwn(BYTES, dtype)) {
    if (OTHER_DTYPES.has(dtype)) {
      throw invalid(
        `has dtype ${dtype}, which Fulmen cannot read (it reads ${Object.keys(BYTES).join(", ")}); convert the tensor to one of them before saving`,
      );
    }
    throw invalid(`has dtype ${JSON.stringify(dtype)}, which is not a safetensors dtype`);
  }
  const shapeValue = field("shape");
  if (shapeValue.type !== "array") throw invalid(`has shape ${describe(shapeValue)}, not an array`);
  const shape = shapeValue.items.map((d) => {
    const n = naturalNumber(d);
    if (n === null) throw invalid(`has shape dim ${describe(d)}; dims must be non-negative integers`);
    return n;
  });
  const offsetsValue = field("data_offsets");
  if (offsetsValue.type !== "array" || offsetsValue.items.length !== 2)
    throw invalid(`has data_offsets ${describe(offsetsValue)}; they must be an array [begin, end]`);
  const [begin, end] = offsetsValue.items.map((o) => {
    const n = naturalNumber(o);
    if (n === null) throw invalid(`has data offset ${describe(o)}; offsets must be non-negative integers`);
    return n;
  }) as [number, number];
  if (end < begin) throw invalid(`has data_offsets [${begin}, ${end}], which end before they begin`);
  let elements = 1;
  for (const d of shape) {
    elements *= d;
    if (!Number.isSafeInteger(elements)) throw invalid(`has shape [${shape}], whose element count overflows`);
  }
  const needed = elements * BYTES[dtype as SafetensorsDtype];
  if (!Number.isSafeInteger(needed)) throw invalid(`has shape [${shape}], whose byte count overflows`);
  if (end - begin !== needed)
    throw invalid(
      `has data_offsets [${begin}, ${end}] (${end - begin} bytes), but dtype ${dtype} and shape [${shape}] need ${needed} bytes`,
    );
  return { name, dtype: dtype as SafetensorsDtype, shape, begin, end };
}

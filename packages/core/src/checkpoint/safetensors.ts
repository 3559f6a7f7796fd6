import { FulmenError } from "../utils/errors";

/** The safetensors dtypes Fulmen reads and writes. */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "I32" | "BOOL";

/** One tensor of a safetensors file: its dtype, shape and raw little-endian bytes. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

/** A decoded safetensors file. */
export interface SafetensorsFile {
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, BOOL: 1 };

/**
 * Encodes tensors in the safetensors format (an 8-byte little-endian header length, a JSON header, then the
 * tensors' bytes back to back), which PyTorch's `safetensors.torch.load_file` reads.
 */
export function encodeSafetensors(file: SafetensorsFile): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(file.metadata).length > 0) header.__metadata__ = file.metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, entry] of Object.entries(file.tensors)) {
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

/** Decodes a safetensors file, with an error that says what is wrong when it is truncated or corrupt. */
export function decodeSafetensors(bytes: Uint8Array, source = "checkpoint"): SafetensorsFile {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 8)
    throw new FulmenError(`${source} is truncated: ${buffer.length} bytes, not even a safetensors header.`);
  const headerLength = Number(buffer.readBigUInt64LE(0));
  if (headerLength > buffer.length - 8) {
    throw new FulmenError(
      `${source} is truncated or not a safetensors file: its header claims ${headerLength} bytes but only ${buffer.length - 8} follow.`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new FulmenError(`${source} is corrupt: its safetensors header is not valid JSON.`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = buffer.length - dataStart;
  const tensors: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    const info = value as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = info.dtype as SafetensorsDtype;
    if (!(dtype in BYTES))
      throw new FulmenError(`${source}: tensor '${name}' has dtype ${info.dtype}, which Fulmen cannot read.`);
    const [begin, end] = info.data_offsets ?? [-1, -1];
    const shape = info.shape ?? [];
    if (!(begin >= 0 && end >= begin && end <= dataLength)) {
      throw new FulmenError(
        `${source} is truncated or corrupt: tensor '${name}' lies at bytes ${begin}..${end} of ${dataLength} data bytes.`,
      );
    }
    if (end - begin !== shape.reduce((a, b) => a * b, 1) * BYTES[dtype]) {
      throw new FulmenError(
        `${source} is corrupt: tensor '${name}' has ${end - begin} bytes for shape [${shape}] ${dtype}.`,
      );
    }
    // Copy, so that the tensor's bytes are aligned for typed-array views.
    tensors[name] = {
      dtype,
      shape,
      data: new Uint8Array(buffer.subarray(dataStart + begin, dataStart + end)),
    };
  }
  return { tensors, metadata };
}

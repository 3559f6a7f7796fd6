import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { FulmenError } from "../utils/errors";
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry } from "./safetensors";
import type { Skeleton } from "./state-codec";

/** What a checkpoint file holds: named tensors and the JSON skeleton of the rest. */
export interface CheckpointContents {
  tensors: Record<string, SafetensorsEntry>;
  skeleton: Skeleton;
}

/** Writes and reads checkpoint files (Lightning's CheckpointIO plugin). */
export interface CheckpointIO {
  save(contents: CheckpointContents, path: string): void;
  load(path: string): CheckpointContents;
  remove(path: string): void;
}

const FORMAT = "fulmen-checkpoint/1";
const CHUNK = 16 * 1024 * 1024;

function checksum(tensors: Record<string, SafetensorsEntry>): string {
  let crc = 0;
  for (const entry of Object.values(tensors)) crc = crc32(entry.data, crc);
  return crc.toString(16).padStart(8, "0");
}

/**
 * Writes `bytes` to `path` so that a crash never leaves a half-written file there: the bytes go to a temporary
 * file in the same folder, are flushed to disk, and the temporary file is renamed over `path`.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temporary = join(
    dirname(path),
    `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.fulmen-tmp`,
  );
  const fd = openSync(temporary, "w");
  try {
    for (let offset = 0; offset < bytes.length; offset += CHUNK) {
      writeSync(fd, bytes, offset, Math.min(CHUNK, bytes.length - offset));
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

/**
 * Checkpoints as one safetensors file: tensors under their dotted names (so PyTorch's safetensors reads the
 * weights), the rest as JSON in the header's metadata, with a CRC-32 of the tensor bytes to detect corruption.
 */
export class SafetensorsCheckpointIO implements CheckpointIO {
  save(contents: CheckpointContents, path: string): void {
    const bytes = encodeSafetensors({
      tensors: contents.tensors,
      metadata: {
        format: FORMAT,
        state: JSON.stringify(contents.skeleton),
        crc32: checksum(contents.tensors),
      },
    });
    writeFileAtomic(path, bytes);
  }

  load(path: string): CheckpointContents {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new FulmenError(`cannot read checkpoint '${path}': ${(e as Error).message}`);
    }
    const file = decodeSafetensors(bytes, `checkpoint '${path}'`);
    const { format, state, crc32: expected } = file.metadata;
    if (format === undefined || state === undefined) {
      // A plain safetensors file of weights (from PyTorch's save_file, or Fulmen's saveWeights).
      const skeleton: { [key: string]: Skeleton } = {};
      for (const name of Object.keys(file.tensors)) skeleton[name] = { $tensor: name };
      return { tensors: file.tensors, skeleton: { $object: skeleton } };
    }
    if (format !== FORMAT)
      throw new FulmenError(`checkpoint '${path}' has format '${format}'; this Fulmen reads '${FORMAT}'.`);
    if (expected !== undefined && checksum(file.tensors) !== expected) {
      throw new FulmenError(
        `checkpoint '${path}' is corrupt: its tensor data does not match the checksum written with it.`,
      );
    }
    try {
      return { tensors: file.tensors, skeleton: JSON.parse(state) as Skeleton };
    } catch {
      throw new FulmenError(`checkpoint '${path}' is corrupt: its state is not valid JSON.`);
    }
  }

  remove(path: string): void {
    rmSync(path, { force: true });
  }
}

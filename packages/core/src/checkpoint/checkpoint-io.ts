import { rmSync } from "node:fs";
import { crc32 } from "node:zlib";
import { FulmenError } from "../utils/errors";
import { type CheckpointFileSystem, nodeFileSystem, writeFileAtomic } from "./atomic-write";
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry } from "./safetensors";
import { isShardedCheckpoint, readShardedCheckpoint } from "./sharded-checkpoint";
import type { Skeleton } from "./state-codec";

export { type CheckpointFileSystem, copyFileAtomic, nodeFileSystem, writeFileAtomic } from "./atomic-write";

/** What a checkpoint file holds: named tensors and the JSON skeleton of the rest. */
export interface CheckpointContents {
  /** The checkpoint's tensors, by name: the skeleton refers to each as `{ $tensor: name }`. */
  tensors: Record<string, SafetensorsEntry>;
  /** Everything else in the checkpoint, as JSON that refers to `tensors` by name. */
  skeleton: Skeleton;
  /**
   * Tensors of a sharded save that hold only this process's part of a larger tensor: per name, the whole
   * tensor's shape, where the part starts in it (flattened), and whether it belongs to an optimizer's state (a
   * strategy may keep those in files of their own, as DeepSpeed does). Absent in ordinary checkpoints.
   */
  parts?: Record<
    string,
    {
      /** The shape of the whole tensor this part belongs to. */
      shape: number[];
      /** The index, in the whole tensor flattened, of the part's first element. */
      from: number;
      /** True when the part belongs to an optimizer's state; absent or false for model state. */
      optimizer?: boolean;
    }
  >;
}

/** Writes and reads checkpoint files (Lightning's CheckpointIO plugin). */
export interface CheckpointIO {
  /**
   * Writes `contents` to `path` (Lightning's `save_checkpoint`). A save that fails should leave the previous
   * file at `path` intact and throw.
   */
  save(contents: CheckpointContents, path: string): void;
  /** Reads the checkpoint at `path` (Lightning's `load_checkpoint`); a missing or bad one should throw. */
  load(path: string): CheckpointContents;
  /** Deletes the checkpoint at `path` (Lightning's `remove_checkpoint`); a missing one should be no error. */
  remove(path: string): void;
}

/** Options of {@link SafetensorsCheckpointIO}. */
export interface SafetensorsCheckpointIOOptions {
  /** The file operations to use (default: Node's `fs`); another one can write elsewhere or simulate failures. */
  fileSystem?: CheckpointFileSystem;
}

const FORMAT = "fulmen-checkpoint/1";

function checksum(tensors: Record<string, SafetensorsEntry>): string {
  let crc = 0;
  for (const entry of Object.values(tensors)) crc = crc32(entry.data, crc);
  return crc.toString(16).padStart(8, "0");
}

/**
 * Checkpoints as one safetensors file: tensors under their dotted names (so PyTorch's safetensors reads the
 * weights), the rest as JSON in the header's metadata, with a CRC-32 of the tensor bytes to detect corruption.
 */
export class SafetensorsCheckpointIO implements CheckpointIO {
  private readonly fileSystem: CheckpointFileSystem;

  constructor(options: SafetensorsCheckpointIOOptions = {}) {
    this.fileSystem = options.fileSystem ?? nodeFileSystem;
  }

  /**
   * Writes the checkpoint atomically ({@link writeFileAtomic}): a save that cannot complete throws a
   * `FulmenError` naming the path and the cause, and leaves the previous file at `path` as it was.
   */
  save(contents: CheckpointContents, path: string): void {
    const bytes = encodeSafetensors({
      tensors: contents.tensors,
      metadata: {
        format: FORMAT,
        state: JSON.stringify(contents.skeleton),
        crc32: checksum(contents.tensors),
      },
    });
    writeFileAtomic(path, bytes, this.fileSystem);
  }

  /** Reads a checkpoint file, or a sharded checkpoint folder (its tensors assembled whole). */
  load(path: string): CheckpointContents {
    if (isShardedCheckpoint(path)) return readShardedCheckpoint(path, this);
    const { tensors, skeleton } = readCheckpointFile(path, this.fileSystem);
    return { tensors, skeleton };
  }

  /** Removes a checkpoint file, or a sharded checkpoint folder with everything in it. */
  remove(path: string): void {
    if (isShardedCheckpoint(path)) rmSync(path, { recursive: true, force: true });
    else this.fileSystem.rmSync(path, { force: true });
  }
}

/** A checkpoint file as read by {@link readCheckpointFile}. */
export interface CheckpointFile extends CheckpointContents {
  /** True for a file written by Fulmen's checkpointing, false for a plain safetensors file of weights. */
  isFulmenCheckpoint: boolean;
}

/**
 * Reads a checkpoint: a Fulmen checkpoint (format, JSON state and checksum in the metadata) is checked and
 * decoded; a plain safetensors file of weights (PyTorch's `save_file`, `exportWeights`) becomes a skeleton that
 * names each tensor at the top level. Damage, another format or an unreadable path is a `FulmenError`.
 */
export function readCheckpointFile(
  path: string,
  fileSystem: CheckpointFileSystem = nodeFileSystem,
): CheckpointFile {
  let bytes: Uint8Array;
  try {
    bytes = fileSystem.readFileSync(path);
  } catch (e) {
    throw new FulmenError(`cannot read checkpoint '${path}': ${(e as Error).message}. Check the path.`, {
      cause: e,
    });
  }
  const file = decodeSafetensors(bytes, `checkpoint '${path}'`);
  const { format, state, crc32: expected } = file.metadata;
  if (format === undefined || state === undefined) {
    // Without a prototype, so that a tensor named "__proto__" is an entry like any other.
    const skeleton = Object.create(null) as { [key: string]: Skeleton };
    for (const name of Object.keys(file.tensors)) skeleton[name] = { $tensor: name };
    return { tensors: file.tensors, skeleton: { $object: skeleton }, isFulmenCheckpoint: false };
  }
  if (format !== FORMAT)
    throw new FulmenError(`checkpoint '${path}' has format '${format}'; this Fulmen reads '${FORMAT}'.`);
  if (expected !== undefined && checksum(file.tensors) !== expected) {
    throw new FulmenError(
      `checkpoint '${path}' is corrupt: its tensor data does not match the checksum written with it.`,
    );
  }
  try {
    return { tensors: file.tensors, skeleton: JSON.parse(state) as Skeleton, isFulmenCheckpoint: true };
  } catch {
    throw new FulmenError(`checkpoint '${path}' is corrupt: its state is not valid JSON.`);
  }
}

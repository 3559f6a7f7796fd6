import * as fs from "node:fs";
import { join } from "node:path";
import { FulmenError } from "../utils/errors";
import { writeFileAtomic } from "./atomic-write";
import type { CheckpointContents, CheckpointIO } from "./checkpoint-io";
import type { SafetensorsDtype, SafetensorsEntry } from "./safetensors";
import type { Skeleton } from "./state-codec";
import { parseStrictJson, StrictJsonError } from "./strict-json";

/** The file in a sharded checkpoint folder that describes it; written last, so its presence means complete. */
export const SHARDED_METADATA_FILE = "fulmen-sharded.json";
const FORMAT = "fulmen-sharded-checkpoint/1";
const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, BOOL: 1 };

/** Where one tensor's elements (flattened) live: `length` elements from `from`, in file `file`. */
export interface ShardedChunk {
  /** The index in `ShardedMetadata.files` of the file that holds the chunk, under the tensor's name. */
  file: number;
  /** The index, in the whole tensor flattened, of the chunk's first element. */
  from: number;
  /** The number of elements in the chunk. */
  length: number;
}

/** One tensor of a sharded checkpoint: its dtype and whole shape, and the chunks that cover it. */
export interface ShardedTensor {
  /** The tensor's dtype, the same in every chunk. */
  dtype: SafetensorsDtype;
  /** The shape of the whole tensor (not of a chunk). */
  shape: number[];
  /** The chunks that together cover every element of the tensor exactly once. */
  chunks: ShardedChunk[];
}

/**
 * The metadata of a sharded checkpoint folder (FSDP's `"sharded"` state dict type): the checkpoint's JSON
 * skeleton, the rank files of this save's generation, and for every tensor the chunks of it each file holds
 * (under the tensor's own name). Any number of ranks can read it back: each tensor is assembled from its chunks.
 */
export interface ShardedMetadata {
  /** The format's name and version: `"fulmen-sharded-checkpoint/1"`; a reader refuses any other. */
  format: string;
  /** Names this save's files apart from an earlier save's (which stay valid until this metadata replaces it). */
  generation: string;
  /** The names of this save's tensor files in the folder (no path separators); chunks name them by index. */
  files: string[];
  /** The checkpoint's JSON skeleton, whose `$tensor` references name entries of `tensors`. */
  skeleton: Skeleton;
  /** Every tensor of the checkpoint, by name: its dtype, whole shape and chunks. */
  tensors: Record<string, ShardedTensor>;
}

/** Whether `path` is a sharded checkpoint folder (a folder holding the metadata file). */
export function isShardedCheckpoint(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory() && fs.existsSync(join(path, SHARDED_METADATA_FILE));
  } catch {
    return false;
  }
}

/** The name of rank `rank`'s file of a save's generation. */
export function shardFileName(rank: number, generation: string): string {
  return `rank-${rank}.${generation}.safetensors`;
}

/** Writes the metadata (atomically: the folder switches from the previous save to this one in one rename). */
export function writeShardedMetadata(folder: string, metadata: ShardedMetadata): void {
  writeFileAtomic(join(folder, SHARDED_METADATA_FILE), new TextEncoder().encode(JSON.stringify(metadata)));
}

/**
 * Removes the files of other generations than `generation` (earlier saves, or a save that died): the files named
 * `NAME.GENERATION.safetensors` ({@link shardFileName}'s, or a strategy's own names with the generation).
 */
export function removeOtherGenerations(folder: string, generation: string): void {
  for (const name of fs.readdirSync(folder)) {
    const match = /^[A-Za-z0-9_-]+\.([0-9a-f]{12})\.safetensors$/.exec(name);
    if (match !== null && match[1] !== generation) fs.rmSync(join(folder, name), { force: true });
  }
}

/** Reads and checks a sharded checkpoint's metadata. */
export function readShardedMetadata(folder: string): ShardedMetadata {
  const path = join(folder, SHARDED_METADATA_FILE);
  let parsed: unknown;
  try {
    const text = fs.readFileSync(path, "utf8");
    // The strict parser refuses duplicate keys (which JSON.parse would silently resolve); JSON.parse then
    // gives the plain values (it defines a "__proto__" key as an ordinary property).
    parseStrictJson(text);
    parsed = JSON.parse(text);
  } catch (error) {
    const why = error instanceof StrictJsonError ? error.message : (error as Error).message;
    throw new FulmenError(`The sharded checkpoint ${folder} cannot be read: ${path}: ${why}.`);
  }
  const m = parsed as ShardedMetadata;
  const ok =
    m !== null &&
    typeof m === "object" &&
    m.format === FORMAT &&
    typeof m.generation === "string" &&
    Array.isArray(m.files) &&
    m.files.every((f) => typeof f === "string" && !f.includes("/") && !f.includes("\\")) &&
    m.tensors !== null &&
    typeof m.tensors === "object";
  if (!ok)
    throw new FulmenError(
      `The sharded checkpoint ${folder} is corrupt: ${SHARDED_METADATA_FILE} is not a "${FORMAT}" description.`,
    );
  return m;
}

/**
 * Reads a sharded checkpoint folder into ordinary checkpoint contents (every tensor whole), whatever the number
 * of ranks that wrote it: what loading it on another number of ranks and `fulmen consolidate` start from. A
 * missing or corrupt rank file, or chunks that do not cover a tensor exactly once, is an error naming it.
 */
export function readShardedCheckpoint(folder: string, io: CheckpointIO): CheckpointContents {
  const metadata = readShardedMetadata(folder);
  const files = metadata.files.map((name) => {
    const path = join(folder, name);
    if (!fs.existsSync(path))
      throw new FulmenError(
        `The sharded checkpoint ${folder} is incomplete: its rank file ${name} is missing. Restore the file, or load an earlier checkpoint.`,
      );
    return io.load(path).tensors;
  });
  const tensors: Record<string, SafetensorsEntry> = Object.create(null);
  for (const [name, info] of Object.entries(metadata.tensors)) {
    const corrupt = (why: string) =>
      new FulmenError(`The sharded checkpoint ${folder} is corrupt: tensor '${name}' ${why}.`);
    if (!(info.dtype in BYTES) || !Array.isArray(info.shape) || !Array.isArray(info.chunks))
      throw corrupt("has no valid dtype, shape or chunks");
    const numel = info.shape.reduce((n, d) => n * d, 1);
    const size = BYTES[info.dtype];
    const data = new Uint8Array(numel * size);
    const covered = new Uint8Array(numel);
    for (const chunk of info.chunks) {
      const entry = files[chunk.file]?.[name];
      if (entry === undefined)
        throw corrupt(`is missing from ${metadata.files[chunk.file] ?? `file ${chunk.file}`}`);
      if (
        entry.dtype !== info.dtype ||
        entry.data.length !== chunk.length * size ||
        chunk.from < 0 ||
        chunk.from + chunk.length > numel
      )
        throw corrupt(
          `has a chunk in ${metadata.files[chunk.file]} that does not fit its shape [${info.shape}]`,
        );
      for (let i = chunk.from; i < chunk.from + chunk.length; i++) {
        if (covered[i] === 1) throw corrupt("has overlapping chunks");
        covered[i] = 1;
      }
      data.set(entry.data, chunk.from * size);
    }
    if (covered.includes(0)) throw corrupt("is not covered by its chunks");
    tensors[name] = { dtype: info.dtype, shape: info.shape, data };
  }
  return { tensors, skeleton: metadata.skeleton };
}

/**
 * Copies a sharded checkpoint folder to `destination` (ModelCheckpoint's `last`): into a fresh folder beside it,
 * then swapped in, so that `destination` is always a whole checkpoint (the old one, or the copy).
 */
export function copyShardedCheckpoint(source: string, destination: string): void {
  const nonce = `${process.pid}-${Date.now().toString(36)}`;
  const fresh = `${destination}.copy-${nonce}`;
  const old = `${destination}.old-${nonce}`;
  try {
    fs.cpSync(source, fresh, { recursive: true });
  } catch (error) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw new FulmenError(
      `Could not copy the sharded checkpoint ${source} to ${destination}: ${(error as Error).message}.`,
    );
  }
  const hadOld = fs.existsSync(destination);
  if (hadOld) fs.renameSync(destination, old);
  fs.renameSync(fresh, destination);
  if (hadOld) fs.rmSync(old, { recursive: true, force: true });
}

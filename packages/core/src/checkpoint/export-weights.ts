import { resolve } from "node:path";
import { FulmenError } from "../utils/errors";
import { type CheckpointFileSystem, nodeFileSystem, writeFileAtomic } from "./atomic-write";
import { readCheckpointFile } from "./checkpoint-io";
import { encodeSafetensors, type SafetensorsEntry } from "./safetensors";
import type { Skeleton } from "./state-codec";

/** Options of {@link exportWeights}. */
export interface ExportWeightsOptions {
  /** The checkpoint entry that holds the module, as given to `fabric.save(path, { model, optimizer })` (default "model"). */
  key?: string;
  /** The file operations to use (default: Node's `fs`). */
  fileSystem?: CheckpointFileSystem;
}

/** What {@link exportWeights} wrote: each state-dict name with the dtype it was stored as. */
export interface ExportedWeights {
  /** The state-dict names written, sorted, without the checkpoint key's prefix. */
  names: string[];
  /** The safetensors dtype of each name. */
  dtypes: Record<string, SafetensorsEntry["dtype"]>;
}

type SkeletonObject = { [key: string]: Skeleton };

function isObject(value: Skeleton | undefined): value is SkeletonObject {
  return value !== null && value !== undefined && typeof value === "object" && !Array.isArray(value);
}

/** Names and tensor references of a checkpoint entry holding a module (or a plain dictionary of tensors). */
function tensorReferences(entry: Skeleton, key: string, path: string): Array<[string, string]> {
  if (isObject(entry) && entry.$stateful !== undefined)
    throw new FulmenError(
      `export-weights: '${key}' in '${path}' holds an optimizer's or another object's state, not a model's weights. Pass the key under which the model was saved.`,
    );
  const inner = isObject(entry) ? (entry.$module ?? entry.$object) : undefined;
  if (!isObject(inner))
    throw new FulmenError(
      `export-weights: '${key}' in '${path}' is a plain value, not a model's weights. Pass the key under which the model was saved.`,
    );
  const references: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(inner)) {
    if (!isObject(value) || typeof value.$tensor !== "string")
      throw new FulmenError(
        `export-weights: '${key}' in '${path}' holds '${name}', which is not a tensor: it is an optimizer's or another object's state, not a model's weights. Pass the key under which the model was saved.`,
      );
    references.push([name, value.$tensor]);
  }
  return references;
}

/**
 * Writes a module's weights from a Fulmen checkpoint (the `key` entry of `fabric.save(path, { model, optimizer })`)
 * to a plain safetensors file that PyTorch reads as is: `safetensors.torch.load_file(out)` gives a state dict that
 * `module.load_state_dict(..., strict=True)` accepts. Names lose the `key.` prefix; tensors keep their stored dtype
 * (float32, or 16-bit for half-precision weights), except int32 buffers, which are written as int64 because that
 * is PyTorch's dtype for them (BatchNorm's `num_batches_tracked`; tfjs has no int64). The metadata is PyTorch's
 * `{"format": "pt"}`. The file is written atomically: an existing `outPath` is replaced whole or left as it was.
 */
export function exportWeights(
  checkpointPath: string,
  outPath: string,
  options: ExportWeightsOptions = {},
): ExportedWeights {
  const key = options.key ?? "model";
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  if (resolve(checkpointPath) === resolve(outPath))
    throw new FulmenError(
      `export-weights: the output '${outPath}' is the checkpoint itself; write the weights to another file.`,
    );
  const file = readCheckpointFile(checkpointPath, fileSystem);
  const root = isObject(file.skeleton) ? file.skeleton.$object : undefined;
  if (!file.isFulmenCheckpoint || !isObject(root))
    throw new FulmenError(
      `export-weights: '${checkpointPath}' is not a Fulmen checkpoint (its metadata has no Fulmen format and state); it is a plain safetensors file, which PyTorch already reads as is. Give a file written by fabric.save or the Trainer.`,
    );
  if (!Object.hasOwn(root, key)) {
    const present = Object.keys(root);
    throw new FulmenError(
      `export-weights: '${checkpointPath}' has no key '${key}'; it holds ${present.length === 0 ? "no keys" : present.map((k) => `'${k}'`).join(", ")}. Pass the model's key with --key (option key).`,
    );
  }
  const tensors = Object.create(null) as Record<string, SafetensorsEntry>;
  const dtypes = Object.create(null) as Record<string, SafetensorsEntry["dtype"]>;
  const references = tensorReferences(root[key]!, key, checkpointPath).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  if (references.length === 0)
    throw new FulmenError(
      `export-weights: '${key}' in '${checkpointPath}' holds no tensors (was it saved with a filter?); save the model's weights first.`,
    );
  for (const [name, reference] of references) {
    const stored = Object.hasOwn(file.tensors, reference) ? file.tensors[reference] : undefined;
    if (stored === undefined)
      throw new FulmenError(
        `export-weights: checkpoint '${checkpointPath}' is corrupt: tensor '${reference}' is referenced but missing. Save the checkpoint again.`,
      );
    tensors[name] = stored.dtype === "I32" ? widenInt32(stored) : stored;
    dtypes[name] = tensors[name]!.dtype;
  }
  writeFileAtomic(outPath, encodeSafetensors({ tensors, metadata: { format: "pt" } }), fileSystem);
  return { names: references.map(([name]) => name), dtypes };
}

/** An I32 entry as I64, PyTorch's integer dtype; every int32 value widens exactly. */
function widenInt32(entry: SafetensorsEntry): SafetensorsEntry {
  const narrow = new Int32Array(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength / 4);
  const wide = BigInt64Array.from(narrow, (v) => BigInt(v));
  return { dtype: "I64", shape: entry.shape, data: new Uint8Array(wide.buffer) };
}

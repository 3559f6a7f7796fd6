import { existsSync } from "node:fs";
import { FulmenError, isShardedCheckpoint, SafetensorsCheckpointIO } from "@fulmen/core";

/** The help of `consolidate`. */
export const CONSOLIDATE_USAGE = `usage: fulmen consolidate FOLDER OUT

Turns a sharded checkpoint folder (FSDP with stateDictType "sharded": one file per rank and metadata) into one
ordinary checkpoint file, as Lightning's \`fabric consolidate\` does: the same state, every tensor whole, which
fabric.load, the Trainer's ckptPath and \`fulmen export-weights\` read on any number of processes. An existing
OUT is replaced atomically.`;

/**
 * `fulmen consolidate FOLDER OUT` (also `fulmen-fabric consolidate`): reads every rank's parts of a sharded
 * checkpoint and writes the whole checkpoint to one file. Returns the exit status.
 */
export function consolidateCommand(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(CONSOLIDATE_USAGE);
    return 0;
  }
  if (argv.length !== 2 || argv.some((a) => a.startsWith("-"))) {
    console.error(`expected FOLDER and OUT, got ${argv.join(" ") || "nothing"}\n\n${CONSOLIDATE_USAGE}`);
    return 2;
  }
  const [folder, out] = argv as [string, string];
  if (!isShardedCheckpoint(folder))
    throw new FulmenError(
      existsSync(folder)
        ? `${folder} is not a sharded checkpoint folder (it has no fulmen-sharded.json); an ordinary checkpoint file needs no consolidation.`
        : `${folder} does not exist.`,
    );
  const io = new SafetensorsCheckpointIO();
  const contents = io.load(folder);
  io.save({ tensors: contents.tensors, skeleton: contents.skeleton }, out);
  console.log(`wrote the ${Object.keys(contents.tensors).length} tensors of ${folder} to ${out}`);
  return 0;
}

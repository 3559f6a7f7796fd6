import { exportWeights } from "@fulmen/core";
import yargsParser from "yargs-parser";
import { CliUsageError } from "./lightning-cli";

/** The help of `fulmen export-weights`. */
export const EXPORT_WEIGHTS_USAGE = `usage: fulmen export-weights CKPT OUT.safetensors [--key model]

Writes the weights of one module of a Fulmen checkpoint (fabric.save(path, { model, optimizer }); for a
Trainer checkpoint, --key stateDict) to a plain safetensors file that PyTorch reads as is:
  model.load_state_dict(safetensors.torch.load_file("OUT.safetensors"), strict=True)
Names lose the "KEY." prefix, int32 buffers (BatchNorm's num_batches_tracked) are written as int64, and the
metadata is {"format": "pt"}. An existing OUT is replaced atomically.

  --key KEY   the checkpoint entry holding the module (default: model)`;

/**
 * `fulmen export-weights CKPT OUT [--key model]`: {@link exportWeights} from the command line. Returns the exit
 * status; a wrong command line is a {@link CliUsageError}, a bad checkpoint the `FulmenError` of exportWeights.
 */
export function exportWeightsCommand(argv: string[]): number {
  const args = yargsParser(argv, {
    string: ["key"],
    boolean: ["help"],
    configuration: {
      "camel-case-expansion": false,
      "parse-numbers": false,
      "parse-positional-numbers": false,
    },
  });
  if (args.help) throw new CliUsageError(EXPORT_WEIGHTS_USAGE, 0);
  const unknown = Object.keys(args).filter((k) => !["_", "key", "help"].includes(k));
  if (unknown.length > 0)
    throw new CliUsageError(
      `unknown option ${unknown.map((k) => `--${k}`).join(", ")}\n\n${EXPORT_WEIGHTS_USAGE}`,
      2,
    );
  const positional = args._.map(String);
  if (positional.length !== 2)
    throw new CliUsageError(
      `expected CKPT and OUT.safetensors, got ${positional.length} argument(s)\n\n${EXPORT_WEIGHTS_USAGE}`,
      2,
    );
  const key = args.key as string | undefined;
  if (key !== undefined && key.length === 0)
    throw new CliUsageError(`--key needs a value\n\n${EXPORT_WEIGHTS_USAGE}`, 2);
  const [checkpoint, out] = positional as [string, string];
  const { names } = exportWeights(checkpoint, out, { key: key ?? "model" });
  console.log(`wrote ${names.length} tensors of '${key ?? "model"}' to ${out}`);
  return 0;
}

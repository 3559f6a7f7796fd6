import { toCamelCase } from "@fulmen/core/plugin";

/** PyTorch keyword arguments (`weight_decay`, `T_max`) as Fulmen options (`weightDecay`, `tMax`). */
export function toFulmenOptions(hparams: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(hparams ?? {})) out[toCamelCase(key)] = value;
  return out;
}

/** A compact rendering of hyperparameters for a case label. */
export function describe(hparams: Record<string, unknown> | undefined): string {
  return JSON.stringify(hparams ?? {}).replaceAll('"', "");
}

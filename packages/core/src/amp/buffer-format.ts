import { processWide, withSetting } from "../runtime/process-wide";
import type { HalfFormat } from "./autocast";

// The format buffers are stored in while a strategy's forward runs, once per process (the strategy sets it
// through its copy of core, the layers read it through theirs).
const region = processWide("amp/buffer-format@1", () => ({ format: null as HalfFormat | null }));

/**
 * Runs `fn` with buffer updates (BatchNorm's running statistics) stored rounded to `format`, as PyTorch FSDP's
 * `buffer_dtype` keeps buffers in that dtype; null: float32. Nesting restores the outer format.
 */
export function withBufferFormat<T>(format: HalfFormat | null, fn: () => T): T {
  return withSetting(region, "format", format, fn);
}

/** The format buffer updates are rounded to right now (see {@link withBufferFormat}), or null. */
export function currentBufferFormat(): HalfFormat | null {
  return region.format;
}

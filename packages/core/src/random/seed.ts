import { processWide } from "../runtime/process-wide";
import { Generator } from "./generator";

// One per process, as PyTorch's default generator is: a model built through one build of core (ESM or CommonJS)
// and seeded through the other must draw from the same stream.
const defaultGenerator = processWide("random/default-generator@1", () => new Generator(0));

/** The process-wide generator used when no explicit generator is given (PyTorch's default generator). */
export function getDefaultGenerator(): Generator {
  return defaultGenerator;
}

/** Seeds the default generator, like `torch.manual_seed`. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

/**
 * Seeds every random source Fulmen uses, like Lightning's `seed_everything`; returns the seed. Without a seed
 * it reads `PL_GLOBAL_SEED` from the environment, else uses 0. The seed is exported to `PL_GLOBAL_SEED` so that
 * processes started later (distributed workers) seed the same way.
 */
export function seedEverything(seed?: number): number {
  const fromEnv = process.env.PL_GLOBAL_SEED;
  const chosen = seed ?? (fromEnv !== undefined && fromEnv !== "" ? Number(fromEnv) : 0);
  defaultGenerator.manualSeed(chosen);
  process.env.PL_GLOBAL_SEED = String(chosen);
  return chosen;
}

/** A 32-bit seed drawn from a generator, for tfjs ops that take a numeric seed (dropout masks). */
export function drawSeed(generator: Generator = defaultGenerator): number {
  return generator.nextUint32();
}

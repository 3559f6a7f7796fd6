import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * The log folder `rootDir/name/version_N` of an experiment, as Lightning lays it out: without an explicit
 * version, the next free N. A string version is used as the folder name as is.
 */
export function versionDirectory(
  rootDir: string,
  name: string,
  version: number | string | undefined,
): {
  version: number | string;
  logDir: string;
} {
  const parent = join(rootDir, name);
  let chosen = version;
  if (chosen === undefined) {
    const taken = existsSync(parent)
      ? readdirSync(parent)
          .map((d) => /^version_(\d+)$/.exec(d)?.[1])
          .filter((n): n is string => n !== undefined)
          .map(Number)
      : [];
    chosen = taken.length === 0 ? 0 : Math.max(...taken) + 1;
  }
  const logDir = join(parent, typeof chosen === "number" ? `version_${chosen}` : chosen);
  mkdirSync(logDir, { recursive: true });
  return { version: chosen, logDir };
}

/** Flattens nested hyperparameters to `a/b` keys, as Lightning does before logging them. */
export function flattenParams(params: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const key = prefix === "" ? k : `${prefix}/${k}`;
    if (v !== null && typeof v === "object" && !Array.isArray(v))
      Object.assign(out, flattenParams(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}

import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * The log folder `rootDir/name/version_N` of an experiment, as Lightning lays it out: without an explicit
 * version, the next free N. A string version is used as the folder name as is.
 */
function chooseVersion(
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
  return { version: chosen, logDir };
}

/**
 * An experiment's log folder, chosen lazily: the version is fixed on first use and the folder is created only
 * when something is written — so the ranks of a distributed run that never write (all but rank 0) leave no
 * empty `version_N` folders behind and do not shift rank 0's version.
 */
export class ExperimentDirectory {
  private resolved: { version: number | string; logDir: string } | null = null;
  private created = false;

  constructor(
    private readonly rootDir: string,
    private readonly name: string,
    private readonly requested: number | string | undefined,
  ) {}

  private resolve(): { version: number | string; logDir: string } {
    this.resolved ??= chooseVersion(this.rootDir, this.name, this.requested);
    return this.resolved;
  }

  get version(): number | string {
    return this.resolve().version;
  }

  get logDir(): string {
    return this.resolve().logDir;
  }

  /** The folder, created if needed (call before writing into it). */
  ensure(): string {
    const dir = this.logDir;
    if (!this.created) mkdirSync(dir, { recursive: true });
    this.created = true;
    return dir;
  }
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

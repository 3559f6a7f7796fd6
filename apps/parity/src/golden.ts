/** Nested arrays of numbers, as the golden files hold tensors. */
export type Nested = number | Nested[];

/** One case of a golden file: its `kind` selects the replay; every other key is that kind's inputs and results. */
export interface GoldenCase {
  kind: string;
  [key: string]: unknown;
}

/** A golden file: PyTorch's version, the seed, and the cases. */
export interface GoldenFile {
  torch_version?: string;
  seed?: number;
  cases: GoldenCase[];
}

/** The outcome of replaying one case. */
export interface CaseOutcome {
  /** A short description ("optimizer AdamW {lr: 0.005}"). */
  label: string;
  /** The largest absolute difference from PyTorch over every compared number. */
  maxError: number;
  /** The tolerance the case is held to. */
  tolerance: number;
  /** The result keys as Fulmen computed them, in the golden file's format. */
  results: Record<string, unknown>;
  /** Why the case could not run, when it could not. */
  error?: string;
  /**
   * What Fulmen lacks to run the case at all (`nn.Conv1d`, `nn.Conv2d option paddingMode`): the case is
   * counted as missing, not as failed, unless the replay is strict.
   */
  missing?: string;
  /** What `maxError` measures, when it is not the plain largest absolute difference. */
  errorKind?: string;
}

/**
 * Thrown by a replay when Fulmen has no layer, function or option that the case needs: a gap in what Fulmen
 * implements, reported apart from wrong numbers.
 */
export class MissingFeature extends Error {
  constructor(readonly feature: string) {
    super(`not implemented in Fulmen: ${feature}`);
    this.name = "MissingFeature";
  }
}

/** The largest absolute difference between two nested arrays; Infinity when their shapes differ. */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b))
      return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.POSITIVE_INFINITY;
    if (a === b) return 0;
    return Math.abs(a - b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Number.POSITIVE_INFINITY;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, maxAbsDiff(a[i], b[i]));
    return worst;
  }
  return Number.POSITIVE_INFINITY;
}

/** Reads a key of a case, failing with the key's name when it is missing. */
export function field<T>(c: GoldenCase, key: string): T {
  if (!(key in c)) throw new Error(`case of kind '${c.kind}' has no '${key}'`);
  return c[key] as T;
}

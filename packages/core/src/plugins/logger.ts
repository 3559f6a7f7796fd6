/** How a run ended, as Lightning's loggers are told in `finalize`. */
export type RunStatus = "success" | "failed" | "aborted";

/**
 * An experiment logger (Lightning's Logger): receives scalar metrics by step and hyperparameters. Fabric's
 * `log`/`logDict` send to every logger; the Trainer adds epoch-level aggregation on top.
 */
export interface Logger {
  /** The experiment's name (a folder under the root directory). */
  readonly name: string;
  /** The experiment's version (`version_N` folders count up). */
  readonly version: string | number;
  /** Where the logger writes, if it writes files. */
  readonly logDir: string | undefined;
  /** Records scalar metrics; without a step the logger counts its own. */
  logMetrics(metrics: Record<string, number>, step?: number): void;
  /** Records the run's hyperparameters. */
  logHyperparams(params: Record<string, unknown>): void;
  /** Writes out anything buffered. */
  save(): void;
  /** Ends the run: flushes and closes files. */
  finalize(status: RunStatus): void;
}

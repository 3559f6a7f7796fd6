import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FulmenError, type Logger, type RunStatus } from "@fulmen/core";
import { stringify } from "yaml";
import { ExperimentDirectory } from "./version-dir";

/** Options of {@link CSVLogger}, as Lightning's `CSVLogger(root_dir, name, version, prefix, flush_logs_every_n_steps)`. */
export interface CSVLoggerOptions {
  /** The folder under which the experiment's folders are created (required). */
  rootDir: string;
  /** The experiment's name, the folder under `rootDir`. Default `"lightning_logs"`. */
  name?: string;
  /**
   * The experiment's version: a number gives the folder `version_N`, a string is used as the folder name
   * as is. Default: the next free `version_N` under `rootDir/name`.
   */
  version?: number | string;
  /** Prepended to every metric name (joined with "-"). */
  prefix?: string;
  /** Write buffered rows to disk every this many `logMetrics` calls (default 100). */
  flushLogsEveryNSteps?: number;
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Logs metrics to `rootDir/name/version_N/metrics.csv` (one row per `logMetrics` call, a `step` column and one
 * column per metric name; a new name rewrites the file with the wider header) and hyperparameters to
 * `hparams.yaml` beside it.
 */
export class CSVLogger implements Logger {
  readonly name: string;
  private readonly directory: ExperimentDirectory;
  private readonly prefix: string;
  private readonly flushEvery: number;
  private readonly rows: Array<Record<string, number>> = [];
  private columns: string[] = [];
  private writtenRows = 0;
  private writtenColumns: string[] = [];

  constructor(options: CSVLoggerOptions) {
    if (typeof options?.rootDir !== "string")
      throw new FulmenError("CSVLogger: rootDir (a folder path) is required.");
    this.name = options.name ?? "lightning_logs";
    this.directory = new ExperimentDirectory(options.rootDir, this.name, options.version);
    this.prefix = options.prefix ?? "";
    this.flushEvery = options.flushLogsEveryNSteps ?? 100;
  }

  /** The experiment's version (the next free `version_N` unless given). */
  get version(): number | string {
    return this.directory.version;
  }

  /** `rootDir/name/version_N`. */
  get logDir(): string {
    return this.directory.logDir;
  }

  /** The CSV file the metrics go to. */
  get metricsFile(): string {
    return join(this.directory.logDir, "metrics.csv");
  }

  logMetrics(metrics: Record<string, number>, step?: number): void {
    const row: Record<string, number> = { step: step ?? this.rows.length };
    for (const [k, v] of Object.entries(metrics)) row[this.prefix === "" ? k : `${this.prefix}-${k}`] = v;
    for (const key of Object.keys(row)) if (!this.columns.includes(key)) this.columns.push(key);
    this.rows.push(row);
    if (this.rows.length % this.flushEvery === 0) this.save();
  }

  logHyperparams(params: Record<string, unknown>): void {
    writeFileSync(join(this.directory.ensure(), "hparams.yaml"), stringify(params));
  }

  save(): void {
    this.directory.ensure();
    const line = (row: Record<string, number>) => `${this.columns.map((c) => csvCell(row[c])).join(",")}\n`;
    const sameHeader = this.writtenColumns.length === this.columns.length && this.writtenRows > 0;
    if (sameHeader) {
      appendFileSync(this.metricsFile, this.rows.slice(this.writtenRows).map(line).join(""));
    } else {
      writeFileSync(
        this.metricsFile,
        `${this.columns.map(csvCell).join(",")}\n${this.rows.map(line).join("")}`,
      );
    }
    this.writtenRows = this.rows.length;
    this.writtenColumns = [...this.columns];
  }

  finalize(_status: RunStatus): void {
    this.save();
  }
}

import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FulmenError, type Logger, type RunStatus } from "@fulmen/core";
import { stringify } from "yaml";
import { versionDirectory } from "./version-dir";

/** Options of {@link CSVLogger}, as Lightning's `CSVLogger(root_dir, name, version, prefix, flush_logs_every_n_steps)`. */
export interface CSVLoggerOptions {
  rootDir: string;
  name?: string;
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
  readonly version: number | string;
  readonly logDir: string;
  readonly metricsFile: string;
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
    const { version, logDir } = versionDirectory(options.rootDir, this.name, options.version);
    this.version = version;
    this.logDir = logDir;
    this.metricsFile = join(logDir, "metrics.csv");
    this.prefix = options.prefix ?? "";
    this.flushEvery = options.flushLogsEveryNSteps ?? 100;
  }

  logMetrics(metrics: Record<string, number>, step?: number): void {
    const row: Record<string, number> = { step: step ?? this.rows.length };
    for (const [k, v] of Object.entries(metrics)) row[this.prefix === "" ? k : `${this.prefix}-${k}`] = v;
    for (const key of Object.keys(row)) if (!this.columns.includes(key)) this.columns.push(key);
    this.rows.push(row);
    if (this.rows.length % this.flushEvery === 0) this.save();
  }

  logHyperparams(params: Record<string, unknown>): void {
    writeFileSync(join(this.logDir, "hparams.yaml"), stringify(params));
  }

  save(): void {
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

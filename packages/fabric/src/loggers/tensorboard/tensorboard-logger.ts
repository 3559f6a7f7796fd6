import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FulmenError, type Logger, type RunStatus } from "@fulmen/core";
import { stringify } from "yaml";
import { ExperimentDirectory, flattenParams } from "../version-dir";
import { EventFileWriter } from "./event-file-writer";
import { HPARAM_TYPE, SESSION_STATUS, tensorboardTypes } from "./schema";

/** Options of {@link TensorBoardLogger}, as Lightning's `TensorBoardLogger(root_dir, name, version, default_hp_metric, prefix)`. */
export interface TensorBoardLoggerOptions {
  /** The folder under which the experiment's folders are created (required). */
  rootDir: string;
  /** The experiment's name, the folder under `rootDir`. Default `"lightning_logs"`. */
  name?: string;
  /**
   * The experiment's version: a number gives the folder `version_N`, a string is used as the folder name
   * as is. Default: the next free `version_N` under `rootDir/name`.
   */
  version?: number | string;
  /** With hyperparameters, also log `hp_metric = -1` so TensorBoard's HPARAMS tab shows the run (default true). */
  defaultHpMetric?: boolean;
  /** Prepended to every metric name (joined with "-"). */
  prefix?: string;
}

function hparamValue(v: unknown): Record<string, unknown> {
  if (typeof v === "number") return { numberValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  return { stringValue: typeof v === "string" ? v : JSON.stringify(v) };
}

/**
 * Writes TensorBoard event files under `rootDir/name/version_N`: scalars (`logMetrics`) and hyperparameters
 * for the HPARAMS tab (`logHyperparams`, as PyTorch's `add_hparams` writes them), plus `hparams.yaml`.
 */
export class TensorBoardLogger implements Logger {
  readonly name: string;
  private readonly directory: ExperimentDirectory;
  private eventWriter: EventFileWriter | null = null;
  private readonly defaultHpMetric: boolean;
  private readonly prefix: string;
  private stepCounter = 0;

  constructor(options: TensorBoardLoggerOptions) {
    if (typeof options?.rootDir !== "string")
      throw new FulmenError("TensorBoardLogger: rootDir (a folder path) is required.");
    this.name = options.name ?? "lightning_logs";
    this.directory = new ExperimentDirectory(options.rootDir, this.name, options.version);
    this.defaultHpMetric = options.defaultHpMetric ?? true;
    this.prefix = options.prefix ?? "";
  }

  /** The experiment's version (the next free `version_N` unless given). */
  get version(): number | string {
    return this.directory.version;
  }

  /** `rootDir/name/version_N`. */
  get logDir(): string {
    return this.directory.logDir;
  }

  // The event file is opened on first write, so ranks that never log leave no files behind.
  private get writer(): EventFileWriter {
    this.eventWriter ??= new EventFileWriter(this.directory.ensure());
    return this.eventWriter;
  }

  /** The event file being written. */
  get eventFile(): string {
    return this.writer.path;
  }

  logMetrics(metrics: Record<string, number>, step?: number): void {
    const at = step ?? this.stepCounter;
    this.stepCounter += 1;
    const value = Object.entries(metrics).map(([k, v]) => ({
      tag: this.prefix === "" ? k : `${this.prefix}-${k}`,
      simpleValue: v,
    }));
    this.writer.writeEvent({ wallTime: Date.now() / 1000, step: at, summary: { value } });
  }

  logHyperparams(params: Record<string, unknown>, metrics?: Record<string, number>): void {
    const flat = flattenParams(params);
    writeFileSync(join(this.directory.ensure(), "hparams.yaml"), stringify(params));
    const finalMetrics = metrics ?? (this.defaultHpMetric ? { hp_metric: -1 } : {});
    const hparamInfos = Object.entries(flat).map(([name, v]) => ({
      name,
      type:
        typeof v === "number"
          ? HPARAM_TYPE.float64
          : typeof v === "boolean"
            ? HPARAM_TYPE.bool
            : HPARAM_TYPE.string,
    }));
    const metricInfos = Object.keys(finalMetrics).map((tag) => ({ name: { tag } }));
    const now = Date.now() / 1000;
    const hparams: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(flat)) hparams[k] = hparamValue(v);
    this.writeHparamsSummary("_hparams_/experiment", { experiment: { hparamInfos, metricInfos } });
    this.writeHparamsSummary("_hparams_/session_start_info", {
      sessionStartInfo: { hparams, startTimeSecs: now },
    });
    this.writeHparamsSummary("_hparams_/session_end_info", {
      sessionEndInfo: { status: SESSION_STATUS.success },
    });
    if (Object.keys(finalMetrics).length > 0) this.logMetrics(finalMetrics, 0);
  }

  private writeHparamsSummary(tag: string, data: Record<string, unknown>): void {
    const plugin = tensorboardTypes.HParamsPluginData;
    const content = plugin.encode(plugin.fromObject({ version: 0, ...data })).finish();
    this.writer.writeEvent({
      wallTime: Date.now() / 1000,
      summary: { value: [{ tag, metadata: { pluginData: { pluginName: "hparams", content } } }] },
    });
  }

  save(): void {
    this.eventWriter?.flush();
  }

  finalize(_status: RunStatus): void {
    this.eventWriter?.close();
  }
}

import { SingleBar } from "cli-progress";
import type { LightningModule } from "../lightning-module";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(", ");
}

/**
 * Shows training progress (Lightning's TQDMProgressBar): on a terminal a `cli-progress` bar per epoch with the
 * batch count, rate and progress-bar metrics; when output is not a terminal (CI logs), one plain line per epoch.
 */
export class ProgressBar extends Callback {
  private bar: SingleBar | null = null;
  private started = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    super();
  }

  private get interactive(): boolean {
    return this.stream.isTTY === true;
  }

  override onTrainEpochStart(trainer: Trainer): void {
    this.started = Date.now();
    if (!this.interactive || !trainer.isGlobalZero) return;
    this.bar = new SingleBar({
      stream: this.stream,
      format: `Epoch ${trainer.currentEpoch}: |{bar}| {value}/{total} [{duration_formatted}<{eta_formatted}] {metrics}`,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    });
    this.bar.start(trainer.numTrainingBatches, 0, { metrics: "" });
  }

  override onTrainBatchEnd(
    trainer: Trainer,
    _module: LightningModule,
    _outputs: Record<string, number>,
    _batch: unknown,
    batchIdx: number,
  ): void {
    this.bar?.update(batchIdx + 1, { metrics: formatMetrics(trainer.progressBarMetrics) });
  }

  override onTrainEpochEnd(trainer: Trainer): void {
    if (!trainer.isGlobalZero) return;
    if (this.bar !== null) {
      this.bar.update({ metrics: formatMetrics(trainer.progressBarMetrics) });
      this.bar.stop();
      this.bar = null;
      return;
    }
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    this.stream.write(
      `Epoch ${trainer.currentEpoch}: ${trainer.numTrainingBatches} batches in ${seconds} s ${formatMetrics(trainer.progressBarMetrics)}\n`,
    );
  }

  override onException(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

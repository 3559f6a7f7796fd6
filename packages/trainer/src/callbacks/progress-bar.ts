import type { LightningModule } from "../lightning-module";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(", ");
}

/**
 * Shows training progress: on a terminal, one line per epoch redrawn as batches go by (batch count, rate and the
 * progress-bar metrics); when output is not a terminal, one plain line per epoch.
 */
export class ProgressBar extends Callback {
  private started = 0;
  private lastDraw = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    super();
  }

  private get interactive(): boolean {
    return this.stream.isTTY === true;
  }

  override onTrainEpochStart(): void {
    this.started = Date.now();
    this.lastDraw = 0;
  }

  override onTrainBatchEnd(
    trainer: Trainer,
    _module: LightningModule,
    _outputs: Record<string, number>,
    _batch: unknown,
    batchIdx: number,
  ): void {
    if (!this.interactive || !trainer.isGlobalZero) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && batchIdx + 1 < trainer.numTrainingBatches) return;
    this.lastDraw = now;
    const rate = (batchIdx + 1) / Math.max((now - this.started) / 1000, 1e-3);
    const total = trainer.numTrainingBatches;
    const width = 24;
    const filled = Math.round(((batchIdx + 1) / Math.max(total, 1)) * width);
    const bar = `${"█".repeat(filled)}${" ".repeat(width - filled)}`;
    this.stream.write(
      `\rEpoch ${trainer.currentEpoch}: |${bar}| ${batchIdx + 1}/${total} [${rate.toFixed(1)} it/s] ${formatMetrics(trainer.progressBarMetrics)}\u001b[K`,
    );
  }

  override onTrainEpochEnd(trainer: Trainer): void {
    if (!trainer.isGlobalZero) return;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    const summary = `Epoch ${trainer.currentEpoch}: ${trainer.numTrainingBatches} batches in ${seconds} s ${formatMetrics(trainer.progressBarMetrics)}`;
    this.stream.write(this.interactive ? `\r${summary}\u001b[K\n` : `${summary}\n`);
  }
}

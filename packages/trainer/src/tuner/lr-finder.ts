import { writeFileSync } from "node:fs";
import { FulmenError, type StateDict, tf } from "@fulmen/core";
import { Callback } from "../callbacks/callback";
import type { LightningModule } from "../lightning-module";
import { type FitOptions, Trainer } from "../trainer";

/** Options of {@link lrFind}, as Lightning's `Tuner.lr_find`. */
export interface LrFindOptions extends Pick<FitOptions, "trainDataloaders" | "datamodule"> {
  /** The learning rate the sweep starts from, > 0 (default 1e-8). */
  minLr?: number;
  /** The learning rate the sweep ends at, > `minLr` (default 1). */
  maxLr?: number;
  /** Steps of the sweep (default 100). */
  numTraining?: number;
  /** Rates grow geometrically ("exponential", default) or evenly ("linear"). */
  mode?: "exponential" | "linear";
  /** Stop when the smoothed loss exceeds this many times its best (default 4; null: never). */
  earlyStopThreshold?: number | null;
  /** Write the suggestion into `module[attrName]` (default true). */
  updateAttr?: boolean;
  /**
   * The name of the module attribute and `hparams` entry the suggestion is written to, where they exist
   * (default `"lr"`).
   */
  attrName?: string;
}

/** What the sweep found. */
export interface LrFindResult {
  /** The learning rates tried, one per training step of the sweep, in order. */
  lrs: number[];
  /** Smoothed losses, one per rate. */
  losses: number[];
  /** The rate at the steepest descent of the loss (Lightning's suggestion), or null if too few points. */
  suggestion: number | null;
  /** The loss curve (log-scaled rate axis) with the suggestion marked, as an SVG document. */
  plotSvg(): string;
}

class SweepCallback extends Callback {
  readonly lrs: number[] = [];
  readonly losses: number[] = [];
  private average = 0;
  private best = Number.POSITIVE_INFINITY;

  constructor(
    private readonly rateAt: (step: number) => number,
    private readonly threshold: number | null,
  ) {
    super();
  }

  override onTrainBatchStart(trainer: Trainer): void {
    const lr = this.rateAt(trainer.globalStep);
    for (const optimizer of trainer.optimizers) for (const group of optimizer.paramGroups) group.lr = lr;
  }

  override onTrainBatchEnd(
    trainer: Trainer,
    _module: LightningModule,
    outputs: Record<string, number>,
  ): void {
    const loss = outputs.loss;
    if (loss === undefined) return;
    const step = this.losses.length;
    // Lightning's smoothing: an exponential moving average with bias correction (beta 0.98).
    this.average = 0.98 * this.average + 0.02 * loss;
    const smoothed = this.average / (1 - 0.98 ** (step + 1));
    this.lrs.push(this.rateAt(trainer.globalStep - 1));
    this.losses.push(smoothed);
    if (this.threshold !== null && step > 1 && smoothed > this.threshold * this.best)
      trainer.shouldStop = true;
    if (smoothed < this.best || step === 0) this.best = smoothed;
  }
}

/** numpy's `gradient`: central differences inside, one-sided at the ends. */
function gradient(values: number[]): number[] {
  return values.map((v, i) => {
    if (values.length < 2) return 0;
    if (i === 0) return values[1]! - v;
    if (i === values.length - 1) return v - values[i - 1]!;
    return (values[i + 1]! - values[i - 1]!) / 2;
  });
}

function suggest(lrs: number[], losses: number[]): number | null {
  const skipBegin = 10;
  const skipEnd = 1;
  const window = losses.slice(skipBegin, losses.length - skipEnd);
  const finite = window.map((l, i) => [l, i] as const).filter(([l]) => Number.isFinite(l));
  if (finite.length < 2) return null;
  const grads = gradient(finite.map(([l]) => l));
  let best = 0;
  grads.forEach((g, i) => {
    if (g < grads[best]!) best = i;
  });
  return lrs[finite[best]![1] + skipBegin]!;
}

function svgPlot(lrs: number[], losses: number[], suggestion: number | null): string {
  const [w, h, pad] = [640, 400, 50];
  const xs = lrs.map(Math.log10);
  const finite = losses.filter(Number.isFinite);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const [yMin, yMax] = [Math.min(...finite), Math.max(...finite)];
  const sx = (x: number) => pad + ((x - xMin) / Math.max(xMax - xMin, 1e-12)) * (w - 2 * pad);
  const sy = (y: number) => h - pad - ((y - yMin) / Math.max(yMax - yMin, 1e-12)) * (h - 2 * pad);
  const points = xs
    .map((x, i) => (Number.isFinite(losses[i]!) ? `${sx(x).toFixed(1)},${sy(losses[i]!).toFixed(1)}` : ""))
    .filter(Boolean);
  const ticks: string[] = [];
  for (let e = Math.ceil(xMin); e <= Math.floor(xMax); e++) {
    ticks.push(
      `<line x1="${sx(e)}" y1="${h - pad}" x2="${sx(e)}" y2="${h - pad + 5}" stroke="#333"/><text x="${sx(e)}" y="${h - pad + 18}" font-size="11" text-anchor="middle">1e${e}</text>`,
    );
  }
  const marker =
    suggestion === null
      ? ""
      : `<circle cx="${sx(Math.log10(suggestion)).toFixed(1)}" cy="${sy(losses[lrs.indexOf(suggestion)]!).toFixed(1)}" r="5" fill="red"/><text x="${sx(Math.log10(suggestion)) + 8}" y="${sy(losses[lrs.indexOf(suggestion)]!) - 8}" font-size="12" fill="red">suggested lr ${suggestion.toExponential(2)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">
<rect width="${w}" height="${h}" fill="white"/>
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#333"/>
${ticks.join("\n")}
<text x="${w / 2}" y="${h - 10}" font-size="13" text-anchor="middle">learning rate (log scale)</text>
<text x="15" y="${h / 2}" font-size="13" transform="rotate(-90 15 ${h / 2})" text-anchor="middle">loss</text>
<text x="${pad - 5}" y="${sy(yMax)}" font-size="11" text-anchor="end">${yMax.toFixed(3)}</text>
<text x="${pad - 5}" y="${sy(yMin)}" font-size="11" text-anchor="end">${yMin.toFixed(3)}</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${points.join(" ")}"/>
${marker}
</svg>
`;
}

/**
 * Lightning's learning-rate range test (`Tuner.lr_find`): trains for `numTraining` steps while the rate grows
 * from `minLr` to `maxLr`, records the smoothed loss, suggests the rate where it falls fastest, then restores
 * the module's weights. Uses the trainer's accelerator and precision; the trainer itself is not changed.
 */
export async function lrFind(
  trainer: Trainer,
  module: LightningModule,
  options: LrFindOptions = {},
): Promise<LrFindResult> {
  const minLr = options.minLr ?? 1e-8;
  const maxLr = options.maxLr ?? 1;
  const n = options.numTraining ?? 100;
  const mode = options.mode ?? "exponential";
  if (!(minLr > 0 && maxLr > minLr))
    throw new FulmenError(`lrFind: need 0 < minLr < maxLr, got ${minLr} and ${maxLr}.`);
  if (mode !== "exponential" && mode !== "linear")
    throw new FulmenError(`lrFind: mode must be "exponential" or "linear".`);
  const rateAt = (step: number) => {
    const t = n <= 1 ? 0 : Math.min(step, n - 1) / (n - 1);
    return mode === "exponential" ? minLr * (maxLr / minLr) ** t : minLr + (maxLr - minLr) * t;
  };
  const saved: StateDict = Object.fromEntries(
    Object.entries(module.stateDict()).map(([k, v]) => [k, tf.keep(tf.clone(v))]),
  );
  const sweep = new SweepCallback(
    rateAt,
    options.earlyStopThreshold === undefined ? 4 : options.earlyStopThreshold,
  );
  const o = trainer.options;
  const probe = new Trainer({
    accelerator: o.accelerator,
    precision: o.precision,
    accumulateGradBatches: o.accumulateGradBatches,
    gradientClipVal: o.gradientClipVal,
    gradientClipAlgorithm: o.gradientClipAlgorithm,
    maxSteps: n,
    maxEpochs: -1,
    logger: false,
    enableCheckpointing: false,
    enableProgressBar: false,
    enableModelSummary: false,
    numSanityValSteps: 0,
    limitValBatches: 0,
    defaultRootDir: o.defaultRootDir,
    callbacks: [sweep],
  });
  try {
    await probe.fit(module, { trainDataloaders: options.trainDataloaders, datamodule: options.datamodule });
  } finally {
    module.loadStateDict(saved);
    for (const t of Object.values(saved)) t.dispose();
    for (const optimizer of probe.optimizers) optimizer.disposeState();
    module.trainer = trainer;
  }
  const suggestion = suggest(sweep.lrs, sweep.losses);
  const attr = options.attrName ?? "lr";
  if ((options.updateAttr ?? true) && suggestion !== null) {
    if (attr in module) (module as unknown as Record<string, unknown>)[attr] = suggestion;
    if (attr in module.hparams) module.hparams[attr] = suggestion;
  }
  return {
    lrs: sweep.lrs,
    losses: sweep.losses,
    suggestion,
    plotSvg: () => svgPlot(sweep.lrs, sweep.losses, suggestion),
  };
}

/** Writes the plot of a range test to a file (an SVG image). */
export function writeLrPlot(result: LrFindResult, path: string): void {
  writeFileSync(path, result.plotSvg());
}

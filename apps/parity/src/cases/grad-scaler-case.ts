import { Parameter, SGD, tf } from "@fulmen/core";
import { GradScaler } from "@fulmen/precision";
import { type CaseOutcome, field, type GoldenCase, maxAbsDiff } from "../golden";

/**
 * Replays a dynamic-loss-scaling sequence through GradScaler's public API: each update gets a real gradient,
 * holding an infinity where the golden case says an overflow was found, and goes through unscale_/step/update.
 */
export function runGradScalerCase(c: GoldenCase): CaseOutcome {
  const flags = field<boolean[]>(c, "found_inf");
  const scaler = new GradScaler({
    initScale: field<number>(c, "init_scale"),
    growthFactor: field<number>(c, "growth_factor"),
    backoffFactor: field<number>(c, "backoff_factor"),
    growthInterval: field<number>(c, "growth_interval"),
  });
  const p = Parameter.full([2], 0);
  const optimizer = new SGD([p], { lr: 0.1 });
  const scales: number[] = [];
  try {
    for (const overflow of flags) {
      p.setGrad(tf.tensor1d([overflow ? Number.POSITIVE_INFINITY : 1, 2]));
      scaler.step(optimizer);
      scaler.update();
      scales.push(scaler.getScale());
    }
  } finally {
    optimizer.disposeState();
    p.dispose();
  }
  return {
    label: `grad_scaler growthInterval=${field(c, "growth_interval")}`,
    maxError: maxAbsDiff(scales, field(c, "scale_after_each_update")),
    tolerance: 1e-5,
    results: { scale_after_each_update: scales },
  };
}

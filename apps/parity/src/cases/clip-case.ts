import { clipGradNorm_, clipGradValue_, Parameter, tf } from "@fulmen/core";
import { type CaseOutcome, field, type GoldenCase, maxAbsDiff, type Nested } from "../golden";

function withGrads<T>(grads: Nested[], run: (params: Parameter[]) => T): T {
  const params = grads.map((g) => {
    const t = tf.tensor(g as number[]);
    const p = Parameter.full(t.shape, 0);
    p.setGrad(t);
    return p;
  });
  try {
    return run(params);
  } finally {
    for (const p of params) p.dispose();
  }
}

function normType(value: unknown): number {
  if (value === "inf" || value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-inf") throw new Error("norm_type -inf is not supported");
  return Number(value);
}

/** Replays `clip_grad_norm_`: the returned total norm and the clipped gradients. */
export function runClipNormCase(c: GoldenCase): CaseOutcome {
  const maxNorm = field<number>(c, "max_norm");
  const norm = field<number | string>(c, "norm_type");
  const { totalNorm, clipped } = withGrads(field<Nested[]>(c, "grads"), (params) => {
    const total = clipGradNorm_(params, maxNorm, normType(norm));
    const value = total.dataSync()[0]!;
    total.dispose();
    return { totalNorm: value, clipped: params.map((p) => p.grad!.arraySync() as Nested) };
  });
  const maxError = Math.max(
    maxAbsDiff(totalNorm, field(c, "total_norm")),
    maxAbsDiff(clipped, field(c, "clipped")),
  );
  return {
    label: `clip_norm maxNorm=${maxNorm} normType=${norm}`,
    maxError,
    tolerance: 1e-5,
    results: { total_norm: totalNorm, clipped },
  };
}

/** Replays `clip_grad_value_`. */
export function runClipValueCase(c: GoldenCase): CaseOutcome {
  const clipValue = field<number>(c, "clip_value");
  const clipped = withGrads(field<Nested[]>(c, "grads"), (params) => {
    clipGradValue_(params, clipValue);
    return params.map((p) => p.grad!.arraySync() as Nested);
  });
  return {
    label: `clip_value clipValue=${clipValue}`,
    maxError: maxAbsDiff(clipped, field(c, "clipped")),
    tolerance: 1e-5,
    results: { clipped },
  };
}

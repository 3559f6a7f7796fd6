/**
 * Lightning's SimpleProfiler: times named actions of the loops (the training step, the optimizer step,
 * validation, hooks) and reports, per action, the mean duration, the number of calls, the total and its share.
 */
export class SimpleProfiler {
  private readonly totals = new Map<string, { total: number; calls: number }>();
  private started = performance.now();

  /** Runs `fn`, adding its duration to `action`. */
  profile<T>(action: string, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      const entry = this.totals.get(action) ?? { total: 0, calls: 0 };
      entry.total += performance.now() - start;
      entry.calls += 1;
      this.totals.set(action, entry);
    }
  }

  /** Starts a new report. */
  reset(): void {
    this.totals.clear();
    this.started = performance.now();
  }

  /** The timings so far, by action, in milliseconds. */
  timings(): Record<
    string,
    {
      /** The time spent in the action over all its calls, in milliseconds. */
      totalMs: number;
      /** How many times the action ran. */
      calls: number;
    }
  > {
    return Object.fromEntries([...this.totals].map(([k, v]) => [k, { totalMs: v.total, calls: v.calls }]));
  }

  /** The report as a table, slowest action first. */
  summary(title: string): string {
    const wall = performance.now() - this.started;
    const rows = [...this.totals]
      .sort((a, b) => b[1].total - a[1].total)
      .map(([action, { total, calls }]) => [
        action,
        (total / calls / 1000).toFixed(5),
        String(calls),
        (total / 1000).toFixed(5),
        ((100 * total) / wall).toFixed(2),
      ]);
    const header = ["Action", "Mean duration (s)", "Num calls", "Total time (s)", "Percentage %"];
    const all = [
      header,
      ["Total", "-", String(rows.reduce((s, r) => s + Number(r[2]), 0)), (wall / 1000).toFixed(5), "100 %"],
      ...rows,
    ];
    const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
    const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
    const rule = "-".repeat(line(header).length);
    return [`${title} Profiler Report`, rule, line(header), rule, ...all.slice(1).map(line), rule].join("\n");
  }
}

/** Runs `fn`, timed as `action` when a profiler is set. */
export function profiled<T>(profiler: SimpleProfiler | null, action: string, fn: () => T): T {
  return profiler === null ? fn() : profiler.profile(action, fn);
}

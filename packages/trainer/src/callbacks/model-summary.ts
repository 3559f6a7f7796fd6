import type { LightningModule } from "../lightning-module";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

/** One row of the summary table. */
export interface SummaryRow {
  name: string;
  type: string;
  params: number;
}

function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** The top-level layers of a module with their parameter counts (Lightning's ModelSummary with maxDepth 1). */
export function summarize(module: LightningModule): {
  rows: SummaryRow[];
  trainable: number;
  total: number;
  text: string;
} {
  const rows = module.namedChildren().map(([name, child]) => ({
    name,
    type: child.constructor.name,
    params: child.parameters().reduce((s, p) => s + p.size, 0),
  }));
  const all = module.parameters();
  const total = all.reduce((s, p) => s + p.size, 0);
  const trainable = all.filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
  const header = ["", "Name", "Type", "Params"];
  const body = rows.map((r, i) => [String(i), r.name, r.type, humanCount(r.params)]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ");
  const rule = "-".repeat(line(header).length);
  const text = [
    line(header),
    rule,
    ...body.map(line),
    rule,
    `${humanCount(trainable)}     Trainable params`,
    `${humanCount(total - trainable)}     Non-trainable params`,
    `${humanCount(total)}     Total params`,
    `${((total * 4) / 1e6).toFixed(3)}     Total estimated model params size (MB)`,
  ].join("\n");
  return { rows, trainable, total, text };
}

/** Prints a table of the model's layers and parameter counts when fit starts. */
export class ModelSummary extends Callback {
  constructor(private readonly print: (text: string) => void = console.log) {
    super();
  }

  override onFitStart(trainer: Trainer, module: LightningModule): void {
    if (trainer.isGlobalZero) this.print(summarize(module).text);
  }
}

import { FulmenError } from "@fulmen/core";
import type { LightningModule } from "../lightning-module";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

/** One row of the summary table. */
export interface SummaryRow {
  /** The layer's dotted path in the module, e.g. `"encoder.0"`. */
  name: string;
  /** The layer's class name. */
  type: string;
  /** The number of parameter elements of the layer, its children's included. */
  params: number;
}

function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/**
 * The layers of a module down to `maxDepth` levels (1: its direct children, as Lightning's default; -1: every
 * level), named by dotted path, with their parameter counts.
 */
export function summarize(
  module: LightningModule,
  maxDepth = 1,
): {
  /** One row per listed layer, in the module's order. */
  rows: SummaryRow[];
  /** The number of parameter elements that require gradients, in the whole module. */
  trainable: number;
  /** The number of parameter elements in the whole module. */
  total: number;
  /** The table as Lightning prints it, with the trainable, total and estimated size (MB, float32) lines. */
  text: string;
} {
  const rows = module
    .namedModules()
    .filter(([name]) => name !== "" && (maxDepth < 0 || name.split(".").length <= maxDepth))
    .map(([name, child]) => ({
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

/** Options of {@link ModelSummary}. */
export interface ModelSummaryOptions {
  /** How many levels of nested layers to list (Lightning's `max_depth`: default 1; -1 all; 0 prints nothing). */
  maxDepth?: number;
  /** Where the table goes (default console.log). */
  print?: (text: string) => void;
}

/** Prints a table of the model's layers and parameter counts when fit starts (on rank 0). */
export class ModelSummary extends Callback {
  /** How many levels of nested layers are listed (default 1; -1 all; 0 prints nothing). */
  readonly maxDepth: number;
  private readonly print: (text: string) => void;

  /** Takes options, or just the print function. */
  constructor(options: ModelSummaryOptions | ((text: string) => void) = {}) {
    super();
    const o = typeof options === "function" ? { print: options } : options;
    this.maxDepth = o.maxDepth ?? 1;
    if (!Number.isInteger(this.maxDepth) || this.maxDepth < -1)
      throw new FulmenError(
        `ModelSummary: maxDepth must be -1, 0 or a positive integer, got ${this.maxDepth}.`,
      );
    this.print = o.print ?? console.log;
  }

  override onFitStart(trainer: Trainer, module: LightningModule): void {
    if (trainer.isGlobalZero && this.maxDepth !== 0) this.print(summarize(module, this.maxDepth).text);
  }
}

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SGD } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { lrFind, Trainer, writeLrPlot } from "../src/index";
import { loader, ToyModule } from "./helpers/toy";

class Tunable extends ToyModule {
  lr = 1e-3;
  constructor() {
    super(4);
    this.configure = (m) => new SGD(m, { lr: (m as Tunable).lr });
  }
}

describe("lrFind (the learning-rate range test)", () => {
  it("sweeps the rate, suggests where the loss falls fastest, restores the weights and writes a plot", async () => {
    const module = new Tunable();
    const before = module.parameters().map((p) => Array.from(p.data.dataSync()));
    const trainer = new Trainer({
      accelerator: "cpu",
      logger: false,
      enableProgressBar: false,
      enableModelSummary: false,
      defaultRootDir: mkdtempSync(join(tmpdir(), "lrf-")),
    });
    const result = await lrFind(trainer, module, {
      trainDataloaders: loader(256, 8, true),
      minLr: 1e-4,
      maxLr: 100,
      numTraining: 60,
    });
    expect(result.lrs.length).toBeGreaterThan(20);
    expect(result.lrs[0]).toBeCloseTo(1e-4, 10);
    expect(result.lrs.every((lr, i) => i === 0 || lr > result.lrs[i - 1]!)).toBe(true);
    expect(result.suggestion).not.toBeNull();
    expect(result.suggestion!).toBeGreaterThan(1e-3);
    expect(result.suggestion!).toBeLessThan(10);
    expect(module.lr).toBe(result.suggestion);
    expect(module.parameters().map((p) => Array.from(p.data.dataSync()))).toEqual(before);
    const file = join(mkdtempSync(join(tmpdir(), "lrf-")), "lr.svg");
    writeLrPlot(result, file);
    const svg = readFileSync(file, "utf8");
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("<polyline");
    expect(svg).toContain("suggested lr");
    await trainer.fit(module, { trainDataloaders: loader(16, 8) });
    expect(trainer.optimizers[0]!.paramGroups[0]!.lr).toBe(result.suggestion);
  });

  it("names bad ranges", async () => {
    await expect(
      lrFind(new Trainer({ logger: false }), new Tunable(), { minLr: 1, maxLr: 0.1 }),
    ).rejects.toThrow(/0 < minLr < maxLr/);
  });
});

import * as core from "@fulmen/core";
import { acceleratorRegistry, collectiveRegistry } from "@fulmen/core/plugin";
import * as fabric from "@fulmen/fabric";
import * as precision from "@fulmen/precision";
import * as trainer from "@fulmen/trainer";
import { describe, expect, it } from "vitest";
import * as fulmen from "../src";

describe('the "fulmen" package', () => {
  it("re-exports the public API of core, precision, Fabric and the Trainer, the same objects", () => {
    for (const [name, part] of Object.entries({ core, fabric, precision, trainer }))
      for (const [key, value] of Object.entries(part))
        expect((fulmen as Record<string, unknown>)[key], `${name}.${key}`).toBe(value);
    expect(fulmen.Fabric).toBe(fabric.Fabric);
    expect(fulmen.Trainer).toBe(trainer.Trainer);
    expect(fulmen.nn).toBe(core.nn);
  });

  it('registers the native CPU engine ("host") and the Gloo collectives on import', () => {
    expect(acceleratorRegistry.has("host")).toBe(true);
    expect(collectiveRegistry.has("gloo")).toBe(true);
  });

  it("trains with Fabric on the fastest accelerator it brings, and fits with the Trainer", async () => {
    const f = new fulmen.Fabric({ accelerator: "auto" });
    expect(f.accelerator.name).toBe(acceleratorRegistry.create("host").isAvailable() ? "host" : "wasm");
    await f.launch();
    fulmen.manualSeed(3);
    const model = new fulmen.nn.Linear(2, 1);
    const [m, opt] = f.setup(model, new fulmen.SGD(model, { lr: 0.02 }));
    const x = fulmen.tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      opt.zeroGrad();
      const loss = f.backward(() => fulmen.tf.mean(fulmen.tf.square(m.forward(x))));
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      opt.step();
    }
    x.dispose();
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);

    class Regression extends fulmen.LightningModule {
      net = new fulmen.nn.Linear(2, 2);
      forward(x: fulmen.tf.Tensor) {
        return this.net.forward(x);
      }
      override trainingStep(batch: { x: fulmen.tf.Tensor; y: fulmen.tf.Tensor }) {
        return fulmen.nn.crossEntropy(this.forward(batch.x), batch.y);
      }
      override configureOptimizers() {
        return new fulmen.SGD(this, { lr: 0.1 });
      }
    }
    const rows = Array.from({ length: 8 }, (_, i) => ({ x: [i / 8, -i / 8], y: i % 2 }));
    const data = new fulmen.DataLoader({ length: 8, get: (i: number) => rows[i]! }, { batchSize: 4 });
    const t = new fulmen.Trainer({
      maxEpochs: 2,
      logger: false,
      enableCheckpointing: false,
      enableProgressBar: false,
      enableModelSummary: false,
    });
    await t.fit(new Regression(), { trainDataloaders: data });
    expect(t.globalStep).toBe(4);
  });
});

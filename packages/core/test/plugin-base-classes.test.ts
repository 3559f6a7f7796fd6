import { describe, expect, it } from "vitest";
import { nn, Precision, SGD, Strategy, tf } from "../src/index";

/** A plugin that gives only its name: everything else is the base class's float32 default. */
class NameOnly extends Precision {
  readonly name = "name-only";
}

describe("Precision, the base class of precision plugins", () => {
  it("has Lightning's float32 defaults: modules and tensors unchanged, plain backward, the optimizer always steps", () => {
    const plugin = new NameOnly();
    const model = new nn.Linear(2, 1);
    expect(plugin.convertModule(model)).toBe(model);
    const x = tf.tensor2d([[1, 2]]);
    expect(plugin.convertInput(x)).toBe(x);
    expect(plugin.convertOutput(x)).toBe(x);
    expect(plugin.forwardContext(() => 7)).toBe(7);
    const optimizer = new SGD(model, { lr: 0.5 });
    const before = Array.from(model.weight.data.dataSync());
    const loss = plugin.backward(() => tf.sum(model.forward(x)) as tf.Scalar, model);
    // d(sum(x·wᵀ + b))/dw = x
    expect(Array.from(model.weight.grad!.dataSync())).toEqual([1, 2]);
    plugin.unscaleGradients(optimizer);
    expect(plugin.optimizerStep(optimizer)).toBe(true);
    const after = Array.from(model.weight.data.dataSync());
    expect(after[0]).toBeCloseTo(before[0]! - 0.5, 6);
    expect(after[1]).toBeCloseTo(before[1]! - 1, 6);
    expect(plugin.stateDict()).toEqual({});
    plugin.loadStateDict({});
    loss.dispose();
    x.dispose();
    model.dispose();
  });
});

/** A strategy that gives only its name: the base class's one-process defaults. */
class OneProcess extends Strategy {
  readonly name = "one-process";
}

describe("Strategy, the base class of strategies", () => {
  it("has the defaults of one process on one device: a world of one, steps through the precision, identity collectives", () => {
    const strategy = new OneProcess();
    expect([strategy.worldSize, strategy.globalRank, strategy.localRank, strategy.nodeRank]).toEqual([
      1, 0, 0, 0,
    ]);
    expect(strategy.materializesDeferred).toBe(false);
    const model = new nn.Linear(2, 1);
    expect(() => strategy.setupModule(model)).toThrow(/connect\(\) must be called/);
    strategy.connect({ name: "cpu" } as never, new NameOnly());
    expect(strategy.rootDevice).toBe("cpu:0");
    expect(strategy.setupModule(model)).toBe(model);
    const x = tf.tensor1d([1, 2]);
    const reduced = strategy.allReduce(x, "mean");
    expect(Array.from(reduced.dataSync())).toEqual([1, 2]);
    expect(() => strategy.allReduce(x, "avg" as never)).toThrow(/unknown reduce op 'avg'/);
    expect(strategy.broadcast({ a: 1 }, 0)).toEqual({ a: 1 });
    expect(() => strategy.broadcast(1, 1)).toThrow(/src 1 does not exist/);
    const saved: string[] = [];
    strategy.saveCheckpoint({ tensors: {}, skeleton: null }, "ckpt", {
      save: (_c, path) => saved.push(path),
      load: () => ({ tensors: {}, skeleton: null }),
      remove: () => {},
    });
    expect(saved).toEqual(["ckpt"]);
    for (const t of [x, reduced]) t.dispose();
    model.dispose();
  });
});

import { nn, SGD, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";

describe("a third-party precision plugin", () => {
  it("is unknown until its package is imported, then Fabric finds it by name", async () => {
    expect(() => new Fabric({ accelerator: "cpu", precision: "32-true-nan-guard" })).toThrow(
      /Unknown precision "32-true-nan-guard"/,
    );
    await import("../src/index");
    const fabric = new Fabric({ accelerator: "cpu", precision: "32-true-nan-guard" });
    expect(fabric.precision.name).toBe("32-true-nan-guard");
  });

  it("skips a step whose gradients are not finite and keeps training", async () => {
    await import("../src/index");
    const fabric = new Fabric({ accelerator: "cpu", precision: "32-true-nan-guard" });
    const model = new nn.Linear(2, 1);
    const [m, opt] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
    const before = Array.from(m.weight.data.dataSync());
    opt.zeroGrad();
    fabric
      .backward(() => tf.sum(tf.mul(m.forward(tf.tensor2d([[1, 2]])), Number.NaN)) as tf.Scalar)
      .dispose();
    expect(opt.step()).toBe(false);
    expect(Array.from(m.weight.data.dataSync())).toEqual(before);
    opt.zeroGrad();
    fabric.backward(() => tf.sum(m.forward(tf.tensor2d([[1, 2]]))) as tf.Scalar).dispose();
    expect(opt.step()).toBe(true);
    expect(Array.from(m.weight.data.dataSync())).not.toEqual(before);
    expect(fabric.precision.stateDict()).toEqual({ skippedSteps: 1 });
  });
});

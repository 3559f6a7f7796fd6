import { describe, expect, it } from "vitest";
import { nn, Precision, SGD, tf } from "../src/index";

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

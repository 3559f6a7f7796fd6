import { describe, expect, it } from "vitest";
import { backward, FulmenError, Module, nn, Parameter, SGD, tf } from "../src/index";

/** A model with the three keyed containers, as in PyTorch (the keys below are PyTorch 1.13's state dict). */
class Heads extends Module {
  // pairs, not an object literal: JavaScript lists an object's integer-like keys ("1") first
  heads = new nn.ModuleDict<nn.Linear | nn.ReLU>([
    ["b", new nn.Linear(2, 3)],
    ["1", new nn.Linear(3, 1)],
    ["a", new nn.ReLU()],
  ]);
  scales = new nn.ParameterList([tf.ones([2]), new Parameter(tf.zeros([3]))]);
  extra = new nn.ParameterDict({ gamma: tf.ones([1]), beta: tf.zeros([1]) });

  forward(x: tf.Tensor): tf.Tensor {
    const hidden = this.heads.get("b").forward(x) as tf.Tensor;
    const scaled = tf.mul(hidden, this.scales.at(1).data);
    return tf.add(
      tf.mul(this.heads.get("1").forward(scaled) as tf.Tensor, this.extra.get("gamma").data),
      this.extra.get("beta").data,
    );
  }
}

describe("ModuleDict, ParameterList and ParameterDict", () => {
  it("register their entries under PyTorch's state-dict keys", () => {
    const model = new Heads();
    // torch 1.13: ['heads.b.weight', 'heads.b.bias', 'heads.1.weight', 'heads.1.bias', 'scales.0', 'scales.1',
    // 'extra.beta', 'extra.gamma'] (order aside: loading goes by name)
    expect(Object.keys(model.stateDict()).sort()).toEqual(
      [
        "heads.b.weight",
        "heads.b.bias",
        "heads.1.weight",
        "heads.1.bias",
        "scales.0",
        "scales.1",
        "extra.beta",
        "extra.gamma",
      ].sort(),
    );
    expect(model.parameters()).toHaveLength(8);
    model.dispose();
  });

  it("keep insertion order, replace, pop and clear entries, and train through an optimizer", () => {
    const model = new Heads();
    expect(model.heads.keys()).toEqual(["b", "1", "a"]);
    expect([...model.heads]).toEqual(["b", "1", "a"]);
    expect(model.heads.items().map(([k]) => k)).toEqual(["b", "1", "a"]);
    expect(model.heads.has("a")).toBe(true);
    const relu = model.heads.pop("a");
    expect(relu).toBeInstanceOf(nn.ReLU);
    expect(model.heads.size).toBe(2);
    model.heads.set("a", new nn.Linear(1, 1));
    expect(model.parameters()).toHaveLength(10);
    expect(model.scales.length).toBe(2);
    expect(model.scales.at(-1).shape).toEqual([3]);
    model.scales.extend([tf.ones([4])]);
    expect([...model.scales].map((p) => p.shape)).toEqual([[2], [3], [4]]);
    expect(model.extra.keys()).toEqual(["gamma", "beta"]);

    const sgd = new SGD(model.parameters(), { lr: 0.1 });
    const x = tf.randomNormal([4, 2]);
    const before = model.extra.get("beta").data.dataSync()[0];
    backward(() => tf.mean(tf.square(model.forward(x))), model.parameters());
    sgd.step();
    expect(model.extra.get("beta").data.dataSync()[0]).not.toBe(before);
    model.heads.clear();
    expect(model.heads.size).toBe(0);
    expect(Object.keys(model.stateDict()).some((k) => k.startsWith("heads."))).toBe(false);
    x.dispose();
    model.dispose();
  });

  it("load a state dict strictly by those keys", () => {
    const a = new Heads();
    const b = new Heads();
    b.loadStateDict(a.stateDict(), { strict: true });
    expect(Array.from((b.heads.get("b") as nn.Linear).weight.data.dataSync())).toEqual(
      Array.from((a.heads.get("b") as nn.Linear).weight.data.dataSync()),
    );
    a.dispose();
    b.dispose();
  });

  it("refuse keys that clash with the container's members, dotted keys and unknown keys, naming them", () => {
    expect(() => new nn.ModuleDict({ training: new nn.ReLU() })).toThrow(
      /key 'training' is already a member/,
    );
    expect(() => new nn.ModuleDict({ forward: new nn.ReLU() })).toThrow(FulmenError);
    expect(() => new nn.ParameterDict({ "a.b": tf.ones([1]) })).toThrow(/without '\.'/);
    expect(() => new nn.ModuleDict().get("x")).toThrow(/no module under 'x'; the keys are \(none\)/);
    expect(() => new nn.ParameterList().at(0)).toThrow(/out of range for 0 parameters/);
    expect(() => new nn.ModuleDict({ a: tf.ones([1]) as unknown as Module })).toThrow(/must be a Module/);
    expect(() => new nn.ModuleDict().forward()).toThrow(/get a module by key/);
  });
});

import { describe, expect, it } from "vitest";
import { FulmenError, Module, nn, Parameter, tf } from "../src/index";

class Encoder extends Module {
  fc1 = new nn.Linear(4, 3);
  act = new nn.ReLU();
  fc2 = new nn.Linear(3, 2, { bias: false });
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x)));
  }
}

class Model extends Module {
  encoder = new Encoder();
  head = new nn.Sequential(new nn.Linear(2, 5), new nn.Tanh(), new nn.Linear(5, 1));
  scale = Parameter.full([1], 1);
  constructor() {
    super();
    this.registerBuffer("steps", tf.zeros([1]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(this.head.forward(this.encoder.forward(x)), this.scale.data);
  }
}

describe("Module", () => {
  it("names parameters in declaration order with dotted paths, as PyTorch does", () => {
    const m = new Model();
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      "scale",
      "encoder.fc1.weight",
      "encoder.fc1.bias",
      "encoder.fc2.weight",
      "head.0.weight",
      "head.0.bias",
      "head.2.weight",
      "head.2.bias",
    ]);
    m.dispose();
  });

  it("puts own parameters, then buffers, then children into the state dict with PyTorch layouts", () => {
    const m = new Model();
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual([
      "scale",
      "steps",
      "encoder.fc1.weight",
      "encoder.fc1.bias",
      "encoder.fc2.weight",
      "head.0.weight",
      "head.0.bias",
      "head.2.weight",
      "head.2.bias",
    ]);
    expect(sd["encoder.fc1.weight"]!.shape).toEqual([3, 4]);
    expect(sd["head.2.weight"]!.shape).toEqual([1, 5]);
    m.dispose();
  });

  it("round-trips a state dict into another instance", () => {
    const a = new Model();
    const b = new Model();
    const x = tf.randomNormal([2, 4]);
    b.loadStateDict(a.stateDict());
    expect(b.forward(x).arraySync()).toEqual(a.forward(x).arraySync());
    a.dispose();
    b.dispose();
  });

  it("names every missing, unexpected and wrong-shaped key in one error and changes nothing", () => {
    const m = new nn.Sequential(new nn.Linear(4, 3), new nn.Linear(3, 2));
    const before = m.stateDict()["0.weight"]!.arraySync();
    const bad = {
      "0.weight": tf.zeros([4, 3]),
      "0.bias": tf.zeros([3]),
      "1.weight": tf.zeros([2, 3]),
      extra: tf.zeros([1]),
    };
    let message = "";
    try {
      m.loadStateDict(bad);
    } catch (e) {
      expect(e).toBeInstanceOf(FulmenError);
      message = (e as Error).message;
    }
    expect(message).toContain('Missing key(s) in state_dict: "1.bias"');
    expect(message).toContain('Unexpected key(s) in state_dict: "extra"');
    expect(message).toContain(
      "size mismatch for 0.weight: copying a param with shape [4,3] from checkpoint, the shape in current model is [3,4]",
    );
    expect(m.stateDict()["0.weight"]!.arraySync()).toEqual(before);
  });

  it("reports missing and unexpected keys without failing when not strict", () => {
    const m = new nn.Linear(2, 2);
    const result = m.loadStateDict({ weight: tf.ones([2, 2]), other: tf.ones([1]) }, { strict: false });
    expect(result).toEqual({ missingKeys: ["bias"], unexpectedKeys: ["other"], renamedKeys: [] });
    expect(m.weight.data.arraySync()).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });

  it("propagates train and eval to every descendant", () => {
    const m = new Model();
    m.eval();
    expect(m.modules().every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    m.dispose();
  });

  it("lists a shared parameter once", () => {
    const shared = new nn.Linear(2, 2);
    const m = new nn.Sequential(shared, shared);
    expect(m.parameters()).toHaveLength(2);
  });
});

describe("Module lifecycle", () => {
  it("creating and disposing a model leaves no tensor behind", () => {
    const before = tf.memory().numTensors;
    const m = new Model();
    const extra = new nn.Sequential(
      new nn.Conv2d(1, 2, 3),
      new nn.Embedding(3, 2, { paddingIdx: 0 }),
      new nn.LayerNorm(2),
    );
    m.dispose();
    extra.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

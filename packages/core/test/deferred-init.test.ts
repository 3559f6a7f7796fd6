import { describe, expect, it } from "vitest";
import { deferParameterInit, manualSeed, nn, type tf, tf as tfjs } from "../src/index";
import { hasDeferredParameters, materializeDeferred } from "../src/plugin";

class Net extends nn.Module {
  emb = new nn.Embedding(20, 8, { paddingIdx: 0 });
  conv = new nn.Conv1d(8, 8, 3);
  norm = new nn.LayerNorm(8);
  lstm = new nn.LSTM(8, 8);
  head = new nn.Linear(8, 4);
  forward(x: tf.Tensor): tf.Tensor {
    return this.head.forward(x);
  }
}

const values = (m: nn.Module) => Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.dataSync())]);

describe("deferred initialisation (fabric.initModule({ emptyInit: true }))", () => {
  it("creates parameters without values: nothing is allocated, and initialisers do not draw", () => {
    const before = tfjs.memory().numBytes;
    const big = deferParameterInit(
      () => new nn.Sequential(new nn.Linear(4096, 4096), new nn.Linear(4096, 4096)),
    );
    expect(tfjs.memory().numBytes - before).toBe(0);
    expect(big.parameters().every((p) => p.isDeferred && !p.isMaterialized)).toBe(true);
    expect(hasDeferredParameters(big)).toBe(true);
    expect(() => big.parameters()[0]!.data).toThrow(
      /initModule\(\{ emptyInit: true \}\).*gets its value when the model is set up/,
    );
    // The state dict's entries are known without values.
    expect(big.namedStateEntries().map(([k]) => k)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
    big.dispose();
  });

  it("materialises children before parents, so a seeded model starts as the eager one (padding rows, constants, layers' own initialisation)", () => {
    manualSeed(3);
    const eager = new Net();
    manualSeed(3);
    const deferred = deferParameterInit(() => new Net());
    expect(materializeDeferred(deferred)).toBe(deferred.parameters().length);
    expect(hasDeferredParameters(deferred)).toBe(false);
    expect(values(deferred)).toEqual(values(eager));
    eager.dispose();
    deferred.dispose();
  });

  it("keeps a tensor given to a parameter made while deferred, and copies deferred parameters as deferred", () => {
    const p = deferParameterInit(() => new nn.Parameter([1, 2, 3]));
    const copy = p.copy();
    expect(copy.isDeferred).toBe(true);
    p.materialize();
    copy.materialize();
    expect(Array.from(p.data.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(copy.data.dataSync())).toEqual([1, 2, 3]);
    p.dispose();
    copy.dispose();
  });
});

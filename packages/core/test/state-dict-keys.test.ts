import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  backward,
  Module,
  nn,
  Parameter,
  SafetensorsCheckpointIO,
  SGD,
  type StateDict,
  tf,
} from "../src/index";
import { decodeSkeleton, encodeState, restoreState } from "../src/plugin";

/** A state dict as PyTorch's BatchNorm1d(2) saves it. */
function torchBatchNorm(): StateDict {
  return {
    weight: tf.tensor1d([1.5, 0.5]),
    bias: tf.tensor1d([0.1, -0.2]),
    running_mean: tf.tensor1d([0.3, -1]),
    running_var: tf.tensor1d([2, 0.5]),
    num_batches_tracked: tf.scalar(7, "int32"),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("state-dict keys are PyTorch's", () => {
  it("BatchNorm saves running_mean, running_var and num_batches_tracked and loads PyTorch's strictly", () => {
    const bn = new nn.BatchNorm1d(2);
    expect(Object.keys(bn.stateDict())).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    expect(bn.namedBuffers().map(([k]) => k)).toEqual(["running_mean", "running_var", "num_batches_tracked"]);
    const result = bn.loadStateDict(torchBatchNorm());
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [], renamedKeys: [] });
    // The TypeScript properties read what was loaded.
    expect(Array.from(bn.runningMean!.dataSync())).toEqual([0.30000001192092896, -1]);
    expect(bn.numBatchesTracked!.dataSync()[0]).toBe(7);
    bn.eval();
    const y = bn.forward(tf.tensor2d([[0.3, -1]]));
    expect(Array.from(y.dataSync()).map((v) => Number(v.toFixed(5)))).toEqual([0.1, -0.2]);
    bn.dispose();
  });

  it("nests PyTorch's buffer names under the container's keys", () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2));
    expect(Object.keys(model.stateDict())).toEqual([
      "0.weight",
      "0.bias",
      "1.weight",
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
    ]);
    model.dispose();
  });

  it("every layer's state-dict keys are snake_case, as PyTorch's", () => {
    const layers: Module[] = [
      new nn.Linear(2, 3),
      new nn.Conv2d(2, 2, 3),
      new nn.BatchNorm1d(2),
      new nn.BatchNorm2d(2),
      new nn.LayerNorm(4),
      new nn.Embedding(4, 2, { paddingIdx: 0 }),
      new nn.MaxPool2d(2),
      new nn.AvgPool2d(2),
      new nn.Dropout(0.1),
    ];
    for (const layer of layers) {
      for (const key of Object.keys(layer.stateDict())) expect(key).toMatch(/^[a-z0-9_.]+$/);
      layer.dispose();
    }
  });

  it("loads a state dict an older Fulmen saved with camelCase buffer names, and says so", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const model = new nn.Sequential(new nn.BatchNorm1d(2));
    const old: StateDict = {
      "0.weight": tf.tensor1d([1, 1]),
      "0.bias": tf.tensor1d([0, 0]),
      "0.runningMean": tf.tensor1d([4, 5]),
      "0.runningVar": tf.tensor1d([1, 1]),
      "0.numBatchesTracked": tf.scalar(2, "int32"),
    };
    const result = model.loadStateDict(old);
    expect(result.renamedKeys).toEqual([
      ["0.runningMean", "0.running_mean"],
      ["0.runningVar", "0.running_var"],
      ["0.numBatchesTracked", "0.num_batches_tracked"],
    ]);
    expect(result.unexpectedKeys).toEqual([]);
    expect(Array.from(model.stateDict()["0.running_mean"]!.dataSync())).toEqual([4, 5]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/'0\.runningMean' as '0\.running_mean'.*save the checkpoint again/),
    );
    model.dispose();
  });

  it("resumes a training checkpoint an older Fulmen wrote (camelCase BatchNorm buffers), strict or not", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    /** Fulmen 0.1's BatchNorm1d as it saved itself: the same buffers under their property names. */
    class OldBatchNorm1d extends Module {
      weight = Parameter.full([2], 1);
      bias = Parameter.full([2], 0);
      constructor() {
        super();
        this.registerBuffer("runningMean", tf.tensor1d([0.5, -0.5]));
        this.registerBuffer("runningVar", tf.tensor1d([2, 3]));
        this.registerBuffer("numBatchesTracked", tf.scalar(4, "int32"));
      }
      forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    const oldLinear = new nn.Linear(3, 2);
    const old = new nn.Sequential(oldLinear, new OldBatchNorm1d());
    const oldOptimizer = new SGD(old, { lr: 0.1, momentum: 0.9 });
    const x = tf.tensor2d([
      [1, 2, 3],
      [-1, 0, 2],
    ]);
    backward(() => tf.sum(old.forward(x) as tf.Tensor) as tf.Scalar, old).dispose();
    oldOptimizer.step();
    const io = new SafetensorsCheckpointIO();
    const path = join(mkdtempSync(join(tmpdir(), "fulmen-old-ckpt-")), "epoch=3.ckpt");
    // The layout the Trainer writes: the module under stateDict, the optimizers beside it.
    io.save(encodeState({ epoch: 3, stateDict: old, optimizerStates: [oldOptimizer] }), path);
    expect(Object.keys(io.load(path).tensors)).toContain("stateDict.1.runningMean");

    for (const strict of [false, true]) {
      const linear = new nn.Linear(3, 2);
      const bn = new nn.BatchNorm1d(2);
      const model = new nn.Sequential(linear, bn);
      const optimizer = new SGD(model, { lr: 0.1, momentum: 0.9 });
      const { tensors, skeleton } = io.load(path);
      const decoded = decodeSkeleton(skeleton, tensors) as Record<string, unknown>;
      // What the Trainer's resume does (strict: false) and what fabric.load does by default (strict).
      const state: Record<string, unknown> = { stateDict: model, optimizerStates: [optimizer] };
      const rest = restoreState(state, decoded, strict);
      expect(rest.epoch).toBe(3);
      expect(Array.from(bn.runningMean!.dataSync())).toEqual([0.5, -0.5]);
      expect(Array.from(bn.runningVar!.dataSync())).toEqual([2, 3]);
      expect(bn.numBatchesTracked!.dataSync()[0]).toBe(4);
      expect(Array.from(linear.weight.data.dataSync())).toEqual(Array.from(oldLinear.weight.data.dataSync()));
      // Training goes on from there (the new BatchNorm's affine parameters get their momentum buffers on the
      // first step, the old stand-in had no gradient for them), with a flat tensor count.
      const step = () => {
        backward(() => tf.sum(model.forward(x) as tf.Tensor) as tf.Scalar, model).dispose();
        optimizer.step();
        optimizer.zeroGrad();
      };
      step();
      const before = tf.memory().numTensors;
      step();
      expect(tf.memory().numTensors).toBe(before);
      expect(bn.numBatchesTracked!.dataSync()[0]).toBe(6);
      // Saved again, it carries PyTorch's names only.
      expect(Object.keys(encodeState({ stateDict: model }).tensors)).toEqual([
        "stateDict.0.weight",
        "stateDict.0.bias",
        "stateDict.1.weight",
        "stateDict.1.bias",
        "stateDict.1.running_mean",
        "stateDict.1.running_var",
        "stateDict.1.num_batches_tracked",
      ]);
      optimizer.disposeState();
      model.dispose();
    }
    expect(warn).toHaveBeenCalledTimes(2);
    oldOptimizer.disposeState();
    old.dispose();
    x.dispose();
  });

  it("still refuses a truly unexpected key, and a PyTorch key next to its old name", () => {
    const bn = new nn.BatchNorm1d(2);
    const extra = { ...torchBatchNorm(), running_std: tf.tensor1d([1, 1]) };
    expect(() => bn.loadStateDict(extra)).toThrow(/Unexpected key\(s\) in state_dict: "running_std"/);
    // Both spellings of one buffer: the PyTorch one is read, the old one is left over, hence unexpected.
    const both = { ...torchBatchNorm(), runningMean: tf.tensor1d([9, 9]) };
    expect(() => bn.loadStateDict(both)).toThrow(/Unexpected key\(s\) in state_dict: "runningMean"/);
    const loose = bn.loadStateDict(both, { strict: false });
    expect(loose).toEqual({ missingKeys: [], unexpectedKeys: ["runningMean"], renamedKeys: [] });
    expect(Array.from(bn.runningMean!.dataSync())).toEqual([0.30000001192092896, -1]);
    // An old name that is no property of this module is unexpected, not renamed.
    expect(() => bn.loadStateDict({ ...torchBatchNorm(), "0.runningMean": tf.tensor1d([1, 1]) })).toThrow(
      /Unexpected key\(s\) in state_dict: "0\.runningMean"/,
    );
    bn.dispose();
  });

  it("a custom module names a property's state-dict key with registerParameter, registerBuffer or registerModule", () => {
    class Attention extends Module {
      declare inProjWeight: Parameter;
      declare outProj: nn.Linear;
      declare stepCount: tf.Tensor;
      constructor() {
        super();
        this.registerParameter("inProjWeight", Parameter.full([6, 2], 0), { key: "in_proj_weight" });
        this.registerModule("outProj", new nn.Linear(2, 2), { key: "out_proj" });
        this.registerBuffer("stepCount", tf.zeros([1]), { key: "step_count" });
      }
      forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    const m = new Attention();
    expect(Object.keys(m.stateDict())).toEqual([
      "in_proj_weight",
      "step_count",
      "out_proj.weight",
      "out_proj.bias",
    ]);
    expect(m.namedParameters().map(([k]) => k)).toEqual([
      "in_proj_weight",
      "out_proj.weight",
      "out_proj.bias",
    ]);
    const copy = new Attention();
    copy.loadStateDict(m.stateDict());
    m.dispose();
    copy.dispose();
  });

  it("refuses a key that another property is already saved under, instead of overwriting it", () => {
    class Clash extends Module {
      running_mean = Parameter.full([2], 1);
      constructor() {
        super();
        this.registerBuffer("runningMean", tf.zeros([2]), { key: "running_mean" });
      }
      forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    const m = new Clash();
    expect(() => m.stateDict()).toThrow(
      /Clash: 'running_mean' and 'runningMean' are both saved as state-dict key 'running_mean'/,
    );
    m.dispose();
  });

  it("a non-persistent buffer stays out of the state dict, with the flag alone or in options", () => {
    class WithMask extends Module {
      constructor() {
        super();
        this.registerBuffer("mask", tf.ones([2]), false);
        this.registerBuffer("table", tf.ones([2]), { persistent: false });
      }
      forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    const m = new WithMask();
    expect(Object.keys(m.stateDict())).toEqual([]);
    expect(m.namedBuffers().map(([k]) => k)).toEqual(["mask", "table"]);
    m.dispose();
  });
});

describe("BatchNorm momentum", () => {
  it("momentum null keeps PyTorch's cumulative average: factor 1/numBatchesTracked", () => {
    const bn = new nn.BatchNorm1d(1, { momentum: null });
    const batches = [
      [1, 3],
      [10, 20],
      [-4, 0],
    ];
    for (const b of batches) bn.forward(tf.tensor2d(b.map((v) => [v])));
    // After the k-th batch: running = running·(1 - 1/k) + batch/k, i.e. the average of the batch means
    // (starting from 0, the first batch replaces it).
    const means = batches.map(([a, b]) => (a! + b!) / 2);
    const unbiased = batches.map(([a, b]) => (a! - b!) ** 2 / 2);
    expect(bn.runningMean!.dataSync()[0]).toBeCloseTo(means.reduce((s, v) => s + v) / 3, 5);
    expect(bn.runningVar!.dataSync()[0]).toBeCloseTo(unbiased.reduce((s, v) => s + v) / 3, 4);
    expect(bn.numBatchesTracked!.dataSync()[0]).toBe(3);
    expect(bn.toString()).toContain("momentum=None");
    bn.dispose();
  });

  it("names a misspelt or out-of-range option", () => {
    expect(() => new nn.BatchNorm2d(2, { track_running_stats: false } as never)).toThrow(
      /unknown option 'track_running_stats' \(did you mean 'trackRunningStats'\?\)/,
    );
    expect(() => new nn.BatchNorm2d(2, { momentum: 2 })).toThrow(/invalid momentum 2/);
  });
});

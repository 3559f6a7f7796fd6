import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as core from "@fulmen/core";
import { AdamW, DataLoader, type Dataset, Generator, nn, TensorDataset, tf } from "@fulmen/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fabricPackage from "../src/index";
import { Fabric } from "../src/index";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

beforeAll(async () => {
  await new Fabric({ accelerator: "cpu" }).launch();
});

const items: Dataset<{ x: Float32Array; y: number }> = {
  length: 20,
  get: (i) => ({ x: Float32Array.from([i, -i, i / 2, 1]), y: i % 3 }),
};

describe("Fabric's data loader releases batches", () => {
  it("frees a batch when the next one is drawn, and the last one when the loop ends", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const loader = fabric.setupDataloaders(new DataLoader(items, { batchSize: 8 }));
    const seen: Array<{ x: tf.Tensor; y: tf.Tensor }> = [];
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    for (const batch of loader) {
      // Usable during its step.
      expect(batch.x.shape[1]).toBe(4);
      expect(batch.y.dataSync().length).toBe(batch.x.shape[0]);
      if (seen.length > 0) expect(seen.at(-1)!.x.isDisposed).toBe(true);
      seen.push(batch);
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual([before + 2, before + 2, before + 2]);
    expect(seen.every((b) => b.x.isDisposed && b.y.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("frees the current batch on break and when the loop body throws", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const loader = fabric.setupDataloaders(new DataLoader(items, { batchSize: 4 }));
    const before = tf.memory().numTensors;
    for (const batch of loader) {
      expect(batch.x.isDisposed).toBe(false);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => {
      for (const _ of loader) throw new Error("step failed");
    }).toThrow(/step failed/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("keeps what loader.keep is given, and everything with keepBatches", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const loader = fabric.setupDataloaders(new DataLoader(items, { batchSize: 8 }));
    let first: { x: tf.Tensor; y: tf.Tensor } | null = null;
    let lastY: tf.Tensor | null = null;
    for (const batch of loader) {
      if (first === null) first = loader.keep(batch);
      lastY = loader.keep(batch.y);
    }
    expect(first!.x.isDisposed).toBe(false);
    expect(Array.from(first!.y.dataSync())).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
    expect(Array.from(lastY!.dataSync())).toEqual([1, 2, 0, 1]);
    tf.dispose([first!.x, first!.y, lastY!]);

    const keeping = fabric.setupDataloaders(new DataLoader(items, { batchSize: 8 }), { keepBatches: true });
    const all = [...keeping];
    expect(all.every((b) => !b.x.isDisposed)).toBe(true);
    for (const b of all) tf.dispose([b.x, b.y]);
    expect(() => fabric.setupDataloaders(new DataLoader(items), { keep_batches: true } as never)).toThrow(
      /unknown option 'keep_batches' \(did you mean 'keepBatches'\?\)/,
    );
  });

  it("leaves alone the tensors a collateFn hands out from the dataset (pre-batched data)", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    // PyTorch's DataLoader(batch_size=None) over ready batches: here batchSize 1 and a collateFn that unwraps.
    const stored = [tf.ones([4, 2]), tf.zeros([4, 2])];
    const batches: Dataset<tf.Tensor> = { length: 2, get: (i) => stored[i]! };
    const loader = fabric.setupDataloaders(
      new DataLoader(batches, { batchSize: 1, collateFn: (items: tf.Tensor[]) => items[0]! }),
    );
    const sums: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++)
      for (const batch of loader) sums.push(tf.tidy(() => tf.sum(batch).dataSync()[0]!));
    expect(sums).toEqual([8, 0, 8, 0]);
    expect(stored.map((t) => t.isDisposed)).toEqual([false, false]);
    tf.dispose(stored);
  });

  it("keeps the tensor count flat over a training loop that disposes nothing by hand", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
    const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: 1e-2 }));
    const loader = fabric.setupDataloaders(
      new DataLoader(items, { batchSize: 4, shuffle: true, generator: new Generator(2) }),
    );
    const counts: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      for (const { x, y } of loader) {
        tf.tidy(() => {
          optimizer.zeroGrad();
          fabric.backward(() => nn.crossEntropy(m.forward(x), y));
          fabric.clipGradients(m, optimizer, { maxNorm: 1 });
          optimizer.step();
        });
        counts.push(tf.memory().numTensors);
      }
    }
    // The first step creates the optimizer's state; from then on nothing accumulates.
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it("shards a TensorDataset on several processes through the batch-at-once path", async () => {
    class SecondOfTwo extends fabricPackage.SingleDeviceStrategy {
      override get worldSize(): number {
        return 2;
      }
      override get globalRank(): number {
        return 1;
      }
    }
    const fabric = new Fabric({ accelerator: "cpu", devices: 2, strategy: new SecondOfTwo() });
    const x = tf.tensor2d(
      Array.from({ length: 10 }, (_, i) => i),
      [10, 1],
    );
    const loader = fabric.setupDataloaders(new DataLoader(new TensorDataset(x), { batchSize: 2 }));
    const info = await tf.profile(() => {
      const rows: number[][] = [];
      for (const [xs] of loader) rows.push(Array.from(xs.dataSync()));
      expect(rows).toEqual([[1, 3], [5, 7], [9]]);
    });
    expect(info.kernels.filter((k) => k.name === "Slice")).toEqual([]);
    x.dispose();
  });
});

describe("a TensorDataset on the wasm backend", () => {
  beforeAll(async () => {
    await new fabricPackage.WasmAccelerator().setup();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("gives each batch with one gather per tensor, the same values as stacking rows", async () => {
    const x = tf.tensor2d(
      Array.from({ length: 30 }, (_, i) => i * 0.25),
      [10, 3],
    );
    const y = tf.tensor1d(
      Array.from({ length: 10 }, (_, i) => i % 4),
      "int32",
    );
    const dataset = new TensorDataset(x, y);
    const options = { batchSize: 4, shuffle: true } as const;
    const read = (loader: Iterable<tf.Tensor[]>) => {
      const out: unknown[] = [];
      for (const batch of loader) {
        out.push(batch.map((t) => [t.dtype, t.arraySync()]));
        tf.dispose(batch);
      }
      return out;
    };
    const perRow = { length: 10, get: (i: number) => dataset.get(i) };
    const info = await tf.profile(() => {
      const fast = read(new DataLoader(dataset, { ...options, generator: new Generator(4) }));
      const slow = read(new DataLoader(perRow, { ...options, generator: new Generator(4) }));
      expect(fast).toEqual(slow);
    });
    // 3 batches of 2 tensors through the fast path; the per-row reference slices instead.
    expect(info.kernels.filter((k) => k.name === "GatherV2")).toHaveLength(6);
    tf.dispose([x, y]);
  });

  it("gathers whole rows with any index shape, and other gathers as tfjs does", () => {
    const x = tf.tensor3d(
      Array.from({ length: 24 }, (_, i) => i - 5),
      [4, 3, 2],
      "int32",
    );
    const indices = tf.tensor2d(
      [
        [3, 0],
        [1, 1],
        [2, 3],
      ],
      undefined,
      "int32",
    );
    const wasm = [tf.gather(x, indices), tf.gather(x, [1, 0], -1), tf.gather(x, [1], 1)];
    const values = wasm.map((t) => [t.shape, t.arraySync()]);
    return tf.setBackend("cpu").then(async () => {
      const xs = tf.tensor3d(Array.from(x.dataSync()), [4, 3, 2], "int32");
      const cpu = [
        tf.gather(xs, indices.arraySync() as number[][]),
        tf.gather(xs, [1, 0], -1),
        tf.gather(xs, [1], 1),
      ];
      expect(values).toEqual(cpu.map((t) => [t.shape, t.arraySync()]));
      tf.dispose([...cpu, xs]);
      await tf.setBackend("wasm");
      tf.dispose([...wasm, x, indices]);
    });
  });
});

describe("the wasm GatherV2 on what tfjs's own kernel refuses or special-cases", () => {
  beforeAll(async () => {
    await new fabricPackage.WasmAccelerator().setup();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("refuses indices out of range as tfjs does, and gathers rows of zero width and repeated rows", () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    expect(() => tf.gather(x, [1, 4])).toThrow(/GatherV2: the index value 4 is not in \[0, 3\]/);
    expect(() => tf.gather(x, [-1])).toThrow(/GatherV2: the index value -1 is not in \[0, 3\]/);
    const repeated = tf.gather(x, [2, 2, 0]);
    expect([repeated.shape, repeated.arraySync()]).toEqual([
      [3, 2],
      [
        [5, 6],
        [5, 6],
        [1, 2],
      ],
    ]);
    const empty = tf.zeros([3, 0]);
    const none = tf.gather(empty, [2, 0]);
    expect(none.shape).toEqual([2, 0]);
    const bools = tf.gather(tf.tensor1d([true, false, true], "bool"), [2, 1]);
    expect([bools.dtype, Array.from(bools.dataSync())]).toEqual(["bool", [1, 0]]);
    tf.dispose([x, repeated, empty, none, bools]);
  });
});

describe("fabric.backward", () => {
  it("takes any one-value tensor the closure returns, and refuses a loss of several values", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const model = new nn.Linear(3, 1);
    const [m] = fabric.setup(model, new AdamW(model, { lr: 0.1 }));
    const x = tf.ones([2, 3]);
    // tf.mean types its result as the input's tensor type, not as a scalar.
    const loss = fabric.backward(() => tf.mean(m.forward(x)));
    expect(loss.rank).toBe(0);
    const kept = fabric.backward(() => tf.sum(m.forward(x), 0));
    expect(kept.shape).toEqual([]);
    expect(() => fabric.backward(() => m.forward(x))).toThrow(
      /fabric.backward: the loss must hold one value, got shape \[2,1\].*Reduce it with tf.mean or tf.sum/,
    );
    tf.dispose([loss, kept, x]);
  });
});

describe("Fabric's options", () => {
  it("suggests the camelCase name for Lightning's snake_case and checks values", () => {
    expect(() => new Fabric({ num_nodes: 2 } as never)).toThrow(
      /Fabric: unknown option 'num_nodes' \(did you mean 'numNodes'\?\)\. Valid options: accelerator/,
    );
    expect(() => new Fabric({ accelerator: 3 } as never)).toThrow(
      /Fabric: invalid accelerator 3; it must be a name/,
    );
    expect(() => new Fabric({ callbacks: [3] } as never)).toThrow(/Fabric: invalid callbacks an array/);
    expect(() => new Fabric({ loggers: [{}] } as never)).toThrow(/Fabric: invalid loggers/);
  });

  it("takes Lightning's None (null) for precision, plugins, callbacks and loggers, and one callback object", () => {
    const calls: string[] = [];
    const fabric = new Fabric({
      accelerator: "cpu",
      precision: null,
      plugins: null,
      loggers: null,
      callbacks: { onTrainStart: () => calls.push("started") },
    });
    fabric.call("onTrainStart");
    expect(calls).toEqual(["started"]);
    expect(fabric.loggers).toEqual([]);
    expect(new Fabric({ accelerator: "cpu", callbacks: null }).loggers).toEqual([]);
  });

  it("exports seedEverything, core's function, as Lightning's fabric package does", () => {
    expect(fabricPackage.seedEverything).toBe(core.seedEverything);
    expect(fabricPackage.seedEverything(5)).toBe(5);
  });
});

describe("errors after the wasm backend has started", () => {
  for (const how of ["rejection", "exception"]) {
    it(`are reported by Node as the script's own (${how})`, () => {
      const run = spawnSync(process.execPath, [join(fixtures, "wasm-rejection.cjs"), how], {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(run.stderr).toContain("FulmenError: the script's own error");
      // Emscripten's handlers rethrew it from the backend's file, with exit code 7.
      expect(run.stderr).not.toContain("tf-backend-wasm");
      expect(run.status).toBe(1);
    });
  }
});

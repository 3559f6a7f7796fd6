import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdamW, encodeSafetensors, manualSeed, nn, ReduceLROnPlateau, SGD, StepLR, tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { Fabric } from "../src/index";

const dir = () => mkdtempSync(join(tmpdir(), "fulmen-ckpt-"));

function makeModel(seed = 1) {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
}

function trainSteps(fabric: Fabric, m: nn.Sequential, opt: { zeroGrad(): void; step(): unknown }, n: number) {
  for (let i = 0; i < n; i++) {
    tf.tidy(() => {
      opt.zeroGrad();
      fabric.backward(
        () =>
          nn.crossEntropy(
            m.forward(tf.randomNormal([4, 4], 0, 1, "float32", i + 1)),
            [0, 1, 1, 0],
          ) as tf.Scalar,
      );
      opt.step();
    });
  }
}

describe("fabric.save / fabric.load", () => {
  it("round-trips modules, optimizers, schedulers and plain values, returning the rest", () => {
    const path = join(dir(), "run.ckpt");
    const fabric = new Fabric();
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new AdamW(model, { lr: 0.01 }));
    const sched = new StepLR(fo, { stepSize: 2, gamma: 0.5 });
    const plateau = new ReduceLROnPlateau(fo);
    trainSteps(fabric, fm, fo, 3);
    sched.step();
    sched.step();
    fabric.save(path, {
      model: fm,
      optimizer: fo,
      scheduler: sched,
      plateau,
      epoch: 7,
      meta: { name: "run", tags: ["a"] },
      extra: tf.tensor1d([1, 2], "int32"),
    });

    const model2 = makeModel(99);
    const [fm2, fo2] = fabric.setup(model2, new AdamW(model2, { lr: 0.5 }));
    const sched2 = new StepLR(fo2, { stepSize: 2, gamma: 0.5 });
    const plateau2 = new ReduceLROnPlateau(fo2);
    const state: Record<string, unknown> = {
      model: fm2,
      optimizer: fo2,
      scheduler: sched2,
      plateau: plateau2,
      epoch: 0,
    };
    const rest = fabric.load(path, state);
    expect(state.epoch).toBe(7);
    expect(Object.keys(rest).sort()).toEqual(["extra", "meta"]);
    expect(rest.meta).toEqual({ name: "run", tags: ["a"] });
    expect((rest.extra as tf.Tensor).dtype).toBe("int32");
    expect(fm2.parameters().map((p) => Array.from(p.data.dataSync()))).toEqual(
      fm.parameters().map((p) => Array.from(p.data.dataSync())),
    );
    expect(fo2.paramGroups[0]!.lr).toBe(fo.paramGroups[0]!.lr);
    expect(sched2.lastEpoch).toBe(sched.lastEpoch);
    expect(plateau2.best).toBe(Number.POSITIVE_INFINITY);
    trainSteps(fabric, fm, fo, 2);
    trainSteps(fabric, fm2, fo2, 2);
    expect(fm2.parameters().map((p) => Array.from(p.data.dataSync()))).toEqual(
      fm.parameters().map((p) => Array.from(p.data.dataSync())),
    );
  });

  it("restores modules and optimizers inside arrays and nested objects in place", () => {
    const path = join(dir(), "nested.ckpt");
    const fabric = new Fabric({ accelerator: "cpu" });
    const a = makeModel(1);
    const optA = new SGD(a, { lr: 0.3 });
    fabric.save(path, { models: { main: a }, optimizers: [optA], note: "x" });
    const b = makeModel(2);
    const optB = new SGD(b, { lr: 0.9 });
    const state = { models: { main: b }, optimizers: [optB], note: "" };
    fabric.load(path, state);
    expect(state.models.main).toBe(b);
    expect(state.optimizers[0]).toBe(optB);
    expect(optB.paramGroups[0]!.lr).toBe(0.3);
    expect(Array.from(b.parameters()[0]!.data.dataSync())).toEqual(
      Array.from(a.parameters()[0]!.data.dataSync()),
    );
    expect(state.note).toBe("x");
  });

  it("writes weights PyTorch's safetensors can read, under the state's dotted names", () => {
    const path = join(dir(), "w.ckpt");
    const fabric = new Fabric();
    const model = makeModel();
    fabric.save(path, { model });
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString()) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: number[] }
    >;
    expect(header["model.0.weight"]).toEqual({ dtype: "F32", shape: [8, 4], data_offsets: [0, 128] });
    const first = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + 8 + headerLength, bytes.byteOffset + 8 + headerLength + 4),
    )[0];
    expect(first).toBe(model.parameters()[0]!.data.dataSync()[0]);
  });

  it("loads plain weight files with loadRaw, and filters what it saves", () => {
    const d = dir();
    const fabric = new Fabric();
    const source = makeModel(5);
    const tensors = Object.fromEntries(
      Object.entries(source.stateDict()).map(([k, t]) => [
        k,
        {
          dtype: "F32" as const,
          shape: t.shape,
          data: new Uint8Array(Float32Array.from(t.dataSync()).buffer),
        },
      ]),
    );
    writeFileSync(join(d, "weights.safetensors"), encodeSafetensors({ tensors, metadata: {} }));
    const target = makeModel(6);
    fabric.loadRaw(join(d, "weights.safetensors"), target);
    expect(Array.from(target.parameters()[2]!.data.dataSync())).toEqual(
      Array.from(source.parameters()[2]!.data.dataSync()),
    );

    fabric.save(
      join(d, "filtered.ckpt"),
      { model: source },
      { filter: { model: (name) => name.endsWith("weight") } },
    );
    const loaded = fabric.load(join(d, "filtered.ckpt"));
    expect(Object.keys(loaded.model as object)).toEqual(["0.weight", "2.weight"]);
  });

  it("names missing, unexpected and mis-shaped entries and changes nothing", () => {
    const path = join(dir(), "bad.ckpt");
    const fabric = new Fabric();
    fabric.save(path, { model: makeModel() });
    manualSeed(3);
    const other = new nn.Sequential(new nn.Linear(4, 9), new nn.ReLU(), new nn.Linear(9, 2));
    const before = Array.from(other.parameters()[0]!.data.dataSync());
    expect(() => fabric.load(path, { model: other })).toThrow(
      /size mismatch for 0.weight: copying a param with shape \[8,4\]/,
    );
    expect(Array.from(other.parameters()[0]!.data.dataSync())).toEqual(before);
    expect(() =>
      fabric.load(path, { model: makeModel(), optimizer: new SGD(makeModel(), { lr: 1 }) }),
    ).toThrow(/no entry for 'optimizer'/);
  });

  it("rejects truncated and corrupt files with a clear error", () => {
    const d = dir();
    const fabric = new Fabric();
    const path = join(d, "ok.ckpt");
    fabric.save(path, { model: makeModel() });
    const bytes = readFileSync(path);
    writeFileSync(join(d, "truncated.ckpt"), bytes.subarray(0, bytes.length - 40));
    expect(() => fabric.load(join(d, "truncated.ckpt"), { model: makeModel() })).toThrow(/truncated/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0xff;
    writeFileSync(join(d, "flipped.ckpt"), flipped);
    expect(() => fabric.load(join(d, "flipped.ckpt"), { model: makeModel() })).toThrow(
      /corrupt: its tensor data does not match the checksum/,
    );
    writeFileSync(join(d, "junk.ckpt"), Buffer.from("this is not a checkpoint at all"));
    expect(() => fabric.load(join(d, "junk.ckpt"))).toThrow(/truncated or not a safetensors file/);
    expect(() => fabric.load(join(d, "missing.ckpt"))).toThrow(/cannot read checkpoint/);
  });

  it("stores half-precision models as 16-bit: bf16-true checkpoints are half the size", () => {
    const d = dir();
    const big = () => {
      manualSeed(2);
      return new nn.Sequential(new nn.Linear(64, 64), new nn.Linear(64, 64));
    };
    const full = new Fabric();
    full.save(join(d, "f32.ckpt"), { model: full.setup(big()) });
    const half = new Fabric({ precision: "bf16-true" });
    const hm = half.setup(big());
    half.save(join(d, "bf16.ckpt"), { model: hm });
    const ratio = statSync(join(d, "bf16.ckpt")).size / statSync(join(d, "f32.ckpt")).size;
    expect(ratio).toBeGreaterThan(0.49);
    expect(ratio).toBeLessThan(0.52);
    const back = new Fabric({ precision: "bf16-true" }).setup(big());
    new Fabric().load(join(d, "bf16.ckpt"), { model: back });
    expect(Array.from(back.parameters()[0]!.data.dataSync())).toEqual(
      Array.from(hm.parameters()[0]!.data.dataSync()),
    );
  });

  it("saves the loss scaler's state with a 16-mixed run", () => {
    const path = join(dir(), "amp.ckpt");
    const fabric = new Fabric({ precision: "16-mixed" });
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
    trainSteps(fabric, fm, fo, 1);
    (fabric.precision as unknown as { scaler: { update(s: number): void } }).scaler.update(1024);
    fabric.save(path, { model: fm });
    const resumed = new Fabric({ precision: "16-mixed" });
    resumed.load(path, { model: resumed.setup(makeModel()) });
    expect(resumed.precision.stateDict()).toEqual({ scaler: expect.objectContaining({ scale: 1024 }) });
  });
});

describe("resuming and crashing", () => {
  const script = join(__dirname, "fixtures/resume-run.mjs");
  const weightsOf = (file: string) =>
    JSON.parse(readFileSync(file, "utf8")) as { weights: Record<string, number[]>; lr: number };

  for (const precision of ["32-true", "16-mixed"]) {
    it(`continues a run bit for bit in a new process (${precision})`, () => {
      const d = dir();
      const ckpt = join(d, "half.ckpt");
      execFileSync(process.execPath, [script, "0", "20", "-", join(d, "straight.json"), precision]);
      execFileSync(process.execPath, [script, "0", "10", ckpt, join(d, "first.json"), precision]);
      execFileSync(process.execPath, [script, "10", "20", ckpt, join(d, "resumed.json"), precision]);
      const straight = weightsOf(join(d, "straight.json"));
      const resumed = weightsOf(join(d, "resumed.json"));
      expect(resumed.weights).toEqual(straight.weights);
      expect(resumed.lr).toBe(straight.lr);
      expect(weightsOf(join(d, "first.json")).weights).not.toEqual(straight.weights);
    });
  }

  it("leaves the previous checkpoint intact when the writer dies mid-save", async () => {
    const d = dir();
    const path = join(d, "run.ckpt");
    const writer = `
      import { Fabric } from "@fulmen/fabric";
      import { tf } from "@fulmen/core";
      const fabric = new Fabric();
      fabric.save(${JSON.stringify(path)}, { small: tf.ones([4]) });
      console.log("saved");
      const big = tf.ones([64 * 1024 * 1024]);
      for (;;) fabric.save(${JSON.stringify(path)}, { small: big });`;
    writeFileSync(join(__dirname, "fixtures/.writer.mjs"), writer);
    const child = spawn(process.execPath, [join(__dirname, "fixtures/.writer.mjs")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    // Wait until a temporary file of the big save exists, then kill the writer mid-write.
    const deadline = Date.now() + 60_000;
    while (!readdirSync(d).some((f) => f.endsWith(".fulmen-tmp")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(existsSync(path)).toBe(true);
    const loaded = new Fabric().load(path);
    const small = loaded.small as tf.Tensor;
    expect(small.size === 4 || small.size === 64 * 1024 * 1024).toBe(true);
  });
});

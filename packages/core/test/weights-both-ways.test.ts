import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  Adam,
  decodeSafetensors,
  exportWeights,
  Module,
  nn,
  SafetensorsCheckpointIO,
  type StateDict,
  tf,
} from "../src/index";
import { decodeSkeleton, decodeTensor, encodeState } from "../src/plugin";

/**
 * Weights move both ways between PyTorch 1.13 and Fulmen, on the fixtures of fixtures/gen_weights.py: PyTorch's
 * safetensors files load strictly into the same models built in Fulmen (forward equal to PyTorch's), and the
 * weights of a Fulmen checkpoint, exported with exportWeights, have PyTorch's names, shapes, dtypes and bytes.
 * With FULMEN_WEIGHTS_OUT=DIR the exported files are kept in DIR, for `gen_weights.py --check DIR` (real PyTorch).
 */

const FIXTURES = join(__dirname, "fixtures");

interface Encoded {
  shape: number[];
  dtype: "float32" | "int64";
  data: number[];
}
interface Fixture {
  input: Encoded;
  output: Encoded;
  state_dict: Array<Encoded & { name: string }>;
}

class LstmHead extends Module {
  lstm = new nn.LSTM(4, 6, { numLayers: 2, bidirectional: true, batchFirst: true });
  head = new nn.Linear(12, 3);
  forward(x: tf.Tensor): tf.Tensor {
    const [out, [h, c]] = this.lstm.forward(x);
    const [n, t, f] = out.shape as [number, number, number];
    const last = tf.reshape(tf.slice(out, [0, t - 1, 0], [n, 1, f]), [n, f]);
    const y = this.head.forward(last);
    tf.dispose([out, h, c, last]);
    return y;
  }
}

/** The Fulmen twin of each PyTorch model of gen_weights.py. */
const MODELS: Record<string, () => Module & { forward(x: tf.Tensor): tf.Tensor }> = {
  cnn: () =>
    new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(4 * 4 * 4, 3),
    ),
  transformer: () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
    const encoder = new nn.TransformerEncoder(layer, 2);
    layer.dispose(); // the encoder holds deep copies, as PyTorch's
    return encoder;
  },
  lstm: () => new LstmHead(),
};

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as Fixture;
}

/** A tensor from the fixture's values: int64 becomes Fulmen's int32, as the safetensors reader does. */
function tensorOf(e: Encoded): tf.Tensor {
  return tf.tensor(e.data, e.shape, e.dtype === "int64" ? "int32" : "float32");
}

function forwardEval(model: Module & { forward(x: tf.Tensor): tf.Tensor }, input: Encoded): Float32Array {
  model.eval();
  // tidy: the layers' intermediate tensors are freed with the output.
  return tf.tidy(() => model.forward(tensorOf(input)).dataSync() as Float32Array);
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tolerance);
}

/** Reads a plain safetensors weights file (PyTorch's, or exportWeights') into a state dict the caller owns. */
function readWeights(path: string): StateDict {
  const { tensors, skeleton } = new SafetensorsCheckpointIO().load(path);
  return decodeSkeleton(skeleton, tensors) as StateDict;
}

const keep = process.env.FULMEN_WEIGHTS_OUT;
const outDir = keep ?? mkdtempSync(join(tmpdir(), "fulmen-weights-"));
if (keep !== undefined && !existsSync(keep)) mkdirSync(keep, { recursive: true });

afterAll(() => {
  if (keep !== undefined)
    writeFileSync(join(outDir, "README.txt"), "Run: /usr/bin/python3 gen_weights.py --check .\n");
});

describe.each(Object.keys(MODELS))("weights both ways: %s", (name) => {
  const recorded = fixture(name);

  it("PyTorch → Fulmen: PyTorch's safetensors file loads strictly, and the forward equals PyTorch's", () => {
    const before = tf.memory().numTensors;
    const model = MODELS[name]!();
    const stateDict = readWeights(join(FIXTURES, `${name}.safetensors`));
    const result = model.loadStateDict(stateDict, { strict: true });
    expect(result.missingKeys).toEqual([]);
    expect(result.unexpectedKeys).toEqual([]);
    tf.dispose(Object.values(stateDict));
    // Fulmen's own state dict is PyTorch's, name for name and in order.
    expect(Object.keys(model.stateDict())).toEqual(recorded.state_dict.map((e) => e.name));
    expectClose(forwardEval(model, recorded.input), recorded.output.data, 1e-5);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("Fulmen → PyTorch: exportWeights of a checkpoint writes PyTorch's names, shapes, dtypes and bytes", () => {
    const model = MODELS[name]!();
    // The weights come from the JSON record, not the safetensors file, so the directions stay independent.
    const given: StateDict = {};
    for (const e of recorded.state_dict) given[e.name] = tensorOf(e);
    model.loadStateDict(given, { strict: true });
    tf.dispose(Object.values(given));
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    // Fabric's layout: fabric.save(path, { model, optimizer }) writes encodeState's contents.
    const checkpoint = join(outDir, `${name}.ckpt`);
    new SafetensorsCheckpointIO().save(encodeState({ model, optimizer, epoch: 3 }), checkpoint);
    const out = join(outDir, `${name}.safetensors`);
    const exported = exportWeights(checkpoint, out);
    expect(exported.names).toEqual(recorded.state_dict.map((e) => e.name).sort());

    const file = decodeSafetensors(readFileSync(out), out);
    expect({ ...file.metadata }).toEqual({ format: "pt" });
    expect(Object.keys(file.tensors).sort()).toEqual(recorded.state_dict.map((e) => e.name).sort());
    for (const e of recorded.state_dict) {
      const entry = file.tensors[e.name]!;
      expect([e.name, entry.dtype, entry.shape]).toEqual([
        e.name,
        e.dtype === "int64" ? "I64" : "F32",
        e.shape,
      ]);
      const bytes = entry.data.buffer.slice(
        entry.data.byteOffset,
        entry.data.byteOffset + entry.data.byteLength,
      );
      if (e.dtype === "int64") expect(Array.from(new BigInt64Array(bytes), Number)).toEqual(e.data);
      else expect(Array.from(new Float32Array(bytes))).toEqual(e.data.map(Math.fround));
    }

    // And the exported file loads strictly into a fresh model, whose forward is PyTorch's.
    const fresh = MODELS[name]!();
    const back = readWeights(out);
    fresh.loadStateDict(back, { strict: true });
    tf.dispose(Object.values(back));
    expectClose(forwardEval(fresh, recorded.input), recorded.output.data, 1e-5);
    fresh.dispose();
    model.dispose();
  });
});

describe("exportWeights errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "fulmen-export-errors-"));
  const model = new nn.Linear(2, 1);
  const checkpoint = join(dir, "run.ckpt");
  new SafetensorsCheckpointIO().save(
    encodeState({ net: model, optimizer: new Adam(model.parameters()), epoch: 3 }),
    checkpoint,
  );

  it("names the keys present when the key is missing", () => {
    expect(() => exportWeights(checkpoint, join(dir, "w.safetensors"))).toThrow(
      /has no key 'model'; it holds 'net', 'optimizer', 'epoch'/,
    );
    expect(existsSync(join(dir, "w.safetensors"))).toBe(false);
  });

  it("refuses an optimizer's state, a plain value and a plain safetensors file", () => {
    expect(() => exportWeights(checkpoint, join(dir, "w.safetensors"), { key: "optimizer" })).toThrow(
      /holds an optimizer's or another object's state, not a model's weights/,
    );
    expect(() => exportWeights(checkpoint, join(dir, "w.safetensors"), { key: "epoch" })).toThrow(
      /is a plain value, not a model's weights/,
    );
    expect(() => exportWeights(join(FIXTURES, "cnn.safetensors"), join(dir, "w.safetensors"))).toThrow(
      /is not a Fulmen checkpoint/,
    );
  });

  it("replaces an existing output whole", () => {
    const out = join(dir, "w.safetensors");
    writeFileSync(out, "old contents");
    exportWeights(checkpoint, out, { key: "net" });
    expect(Object.keys(decodeSafetensors(readFileSync(out)).tensors).sort()).toEqual(["bias", "weight"]);
  });

  it("reads PyTorch's int64 as int32, refusing a value int32 cannot hold rather than wrapping it", () => {
    const entry = (v: bigint) => ({
      dtype: "I64" as const,
      shape: [2],
      data: new Uint8Array(new BigInt64Array([5n, v]).buffer),
    });
    const t = decodeTensor(entry(-7n));
    expect([t.dtype, Array.from(t.dataSync())]).toEqual(["int32", [5, -7]]);
    t.dispose();
    expect(() => decodeTensor(entry(2n ** 40n))).toThrow(
      /holding 1099511627776: Fulmen holds integers as int32/,
    );
  });
});

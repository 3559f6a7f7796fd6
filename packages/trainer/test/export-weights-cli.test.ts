import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Adam,
  decodeSafetensors,
  manualSeed,
  nn,
  SafetensorsCheckpointIO,
  type StateDict,
  tf,
} from "@fulmen/core";
import { decodeSkeleton } from "@fulmen/core/plugin";
import { Fabric } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";

const cli = join(__dirname, "../dist/cli.js");
/** PyTorch 1.13's state dict of the same CNN (core's fixtures/gen_weights.py): names, shapes, dtypes. */
const torchCnn = JSON.parse(readFileSync(join(__dirname, "../../core/test/fixtures/cnn.json"), "utf8")) as {
  state_dict: Array<{ name: string; shape: number[]; dtype: "float32" | "int64" }>;
};

function makeCnn(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 3),
  );
}

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, "export-weights", ...args], { encoding: "utf8" });
}

/** A real Fabric checkpoint: a CNN with BatchNorm trained two steps, saved beside its optimizer. */
function fabricCheckpoint(dir: string): { path: string; model: nn.Sequential } {
  const fabric = new Fabric({ accelerator: "cpu" });
  const model = makeCnn(1);
  const [fm, fo] = fabric.setup(model, new Adam(model.parameters(), { lr: 0.01 }));
  for (let i = 0; i < 2; i++) {
    tf.tidy(() => {
      fo.zeroGrad();
      fabric.backward(() =>
        nn.crossEntropy(fm.forward(tf.randomNormal([4, 1, 8, 8], 0, 1, "float32", i + 1)), [0, 1, 2, 0]),
      );
      fo.step();
    });
  }
  const path = join(dir, "run.ckpt");
  fabric.save(path, { model: fm, optimizer: fo, epoch: 2 });
  return { path, model };
}

describe("fulmen export-weights", () => {
  const dir = mkdtempSync(join(tmpdir(), "fulmen-export-"));
  const { path: checkpoint, model } = fabricCheckpoint(dir);

  it("writes a Fabric checkpoint's model as a plain state dict with PyTorch's layout, which loads strictly back", () => {
    const out = join(dir, "weights.safetensors");
    writeFileSync(out, "an older file, replaced whole");
    const result = run(checkpoint, out, "--key", "model");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`wrote 9 tensors of 'model' to ${out}`);

    const file = decodeSafetensors(readFileSync(out), out);
    expect({ ...file.metadata }).toEqual({ format: "pt" });
    // PyTorch's names (no "model." prefix, BatchNorm's running_mean/running_var/num_batches_tracked), shapes, dtypes.
    const header = Object.entries(file.tensors)
      .map(([name, e]) => [name, e.dtype, e.shape])
      .sort();
    const torch = torchCnn.state_dict
      .map((e) => [e.name, e.dtype === "int64" ? "I64" : "F32", e.shape])
      .sort();
    expect(header).toEqual(torch);
    const tracked = file.tensors["1.num_batches_tracked"]!.data;
    expect(new BigInt64Array(tracked.buffer, tracked.byteOffset, 1)[0]).toBe(2n);

    const { tensors, skeleton } = new SafetensorsCheckpointIO().load(out);
    const loaded = decodeSkeleton(skeleton, tensors) as StateDict;
    const fresh = makeCnn(99);
    fresh.loadStateDict(loaded, { strict: true });
    const expected = model.stateDict();
    for (const [name, t] of Object.entries(fresh.stateDict())) {
      expect([name, t.dtype, Array.from(t.dataSync())]).toEqual([
        name,
        expected[name]!.dtype,
        Array.from(expected[name]!.dataSync()),
      ]);
    }
    tf.dispose(Object.values(loaded));
    fresh.dispose();
  });

  it("lists the keys present when --key names none, and refuses a file that is not a Fulmen checkpoint", () => {
    const missing = run(checkpoint, join(dir, "w.safetensors"), "--key", "net");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("has no key 'net'; it holds 'model', 'optimizer', 'epoch'");

    const plain = join(dir, "plain.safetensors");
    expect(run(checkpoint, plain).status).toBe(0);
    const notFulmen = run(plain, join(dir, "again.safetensors"));
    expect(notFulmen.status).toBe(1);
    expect(notFulmen.stderr).toContain("is not a Fulmen checkpoint");
  });

  it("answers a wrong command line with its usage", () => {
    const none = run();
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("usage: fulmen export-weights CKPT OUT.safetensors [--key model]");
    expect(run(checkpoint, "out.safetensors", "--keys", "model").status).toBe(2);
    const help = run("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--key KEY");
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isShardedCheckpoint, SafetensorsCheckpointIO, tf } from "../src/index";
import { encodeTensor, type ShardedMetadata, shardFileName, writeShardedMetadata } from "../src/plugin";

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** A folder as two ranks write it: a [2,3] tensor split 4 + 2 elements, and a whole scalar on rank 0. */
function folder(chunks: ShardedMetadata["tensors"]["w"]["chunks"], format = "fulmen-sharded-checkpoint/1") {
  const path = mkdtempSync(join(tmpdir(), "fulmen-sharded-ckpt-"));
  folders.push(path);
  const io = new SafetensorsCheckpointIO();
  const part = (values: number[]) => encodeTensor(tf.tensor1d(values), "F32");
  io.save(
    { tensors: { w: part([0, 1, 2, 3]), b: part([9]) }, skeleton: null },
    join(path, shardFileName(0, "ab")),
  );
  io.save({ tensors: { w: part([4, 5]) }, skeleton: null }, join(path, shardFileName(1, "ab")));
  writeShardedMetadata(path, {
    format,
    generation: "ab",
    files: [shardFileName(0, "ab"), shardFileName(1, "ab")],
    skeleton: { $object: { w: { $tensor: "w" }, b: { $tensor: "b" } } },
    tensors: {
      w: { dtype: "F32", shape: [2, 3], chunks },
      b: { dtype: "F32", shape: [1], chunks: [{ file: 0, from: 0, length: 1 }] },
    },
  });
  return path;
}

const GOOD = [
  { file: 0, from: 0, length: 4 },
  { file: 1, from: 4, length: 2 },
];

describe("sharded checkpoint folders", () => {
  it("are read back whole, whatever the number of files", () => {
    const path = folder(GOOD);
    expect(isShardedCheckpoint(path)).toBe(true);
    const contents = new SafetensorsCheckpointIO().load(path);
    expect(contents.tensors.w!.shape).toEqual([2, 3]);
    expect(Array.from(new Float32Array(contents.tensors.w!.data.slice().buffer))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("refuse a missing rank file, overlapping or missing chunks and foreign metadata, naming what is wrong", () => {
    const io = new SafetensorsCheckpointIO();
    const missing = folder(GOOD);
    rmSync(join(missing, shardFileName(1, "ab")));
    expect(() => io.load(missing)).toThrow(/rank file rank-1\.ab\.safetensors is missing/);
    expect(() => io.load(folder([GOOD[0]!, { file: 1, from: 3, length: 2 }]))).toThrow(
      /'w' has overlapping chunks/,
    );
    expect(() => io.load(folder([GOOD[0]!]))).toThrow(/'w' is not covered by its chunks/);
    expect(() => io.load(folder([GOOD[0]!, { file: 1, from: 5, length: 2 }]))).toThrow(
      /does not fit its shape/,
    );
    expect(() => io.load(folder(GOOD, "something-else"))).toThrow(/is corrupt: fulmen-sharded\.json/);
    const duplicate = folder(GOOD);
    writeFileSync(join(duplicate, "fulmen-sharded.json"), '{"format": "a", "format": "b"}');
    expect(() => io.load(duplicate)).toThrow(/cannot be read/);
  });

  it("are removed whole by the CheckpointIO", () => {
    const path = folder(GOOD);
    new SafetensorsCheckpointIO().remove(path);
    expect(isShardedCheckpoint(path)).toBe(false);
  });
});

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { crc32 } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { mountTinyDisk } from "../../../tooling/test-helpers/tmpfs";
import {
  type CheckpointFileSystem,
  copyFileAtomic,
  nodeFileSystem,
  SafetensorsCheckpointIO,
  writeFileAtomic,
} from "../src/checkpoint/checkpoint-io";
import type { SafetensorsEntry } from "../src/checkpoint/safetensors";
import { FulmenError } from "../src/utils/errors";

const folder = () => mkdtempSync(join(tmpdir(), "fulmen-atomic-"));
const temporaries = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".fulmen-tmp"));

/** Checkpoint contents of `n` float32 values, different for each seed. */
function contents(n: number, seed: number) {
  const values = Float32Array.from({ length: n }, (_, i) => i * 0.5 + seed);
  const w: SafetensorsEntry = { dtype: "F32", shape: [n], data: new Uint8Array(values.buffer) };
  return { tensors: { w }, skeleton: { $object: { w: { $tensor: "w" }, seed } } };
}

function errnoError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated failure`), { code });
}

/** Node's fs, but writeSync writes at most `limit` bytes a call and fails once `budget` bytes are written. */
function limitedDisk(
  limit: number,
  budget = Number.POSITIVE_INFINITY,
  failure = "ENOSPC",
): CheckpointFileSystem {
  let used = 0;
  return {
    ...nodeFileSystem,
    writeSync(fd, buffer, offset, length) {
      if (used >= budget) throw errnoError(failure);
      const n = nodeFileSystem.writeSync(fd, buffer, offset, Math.min(length, limit, budget - used));
      used += n;
      return n;
    },
  };
}

describe("atomic checkpoint saves", () => {
  it("writes every byte when the file system takes few bytes a call (short writes)", () => {
    const dir = folder();
    const io = new SafetensorsCheckpointIO({ fileSystem: limitedDisk(7) });
    io.save(contents(300, 1), join(dir, "a.ckpt"));
    const loaded = io.load(join(dir, "a.ckpt"));
    expect(Array.from(new Float32Array(loaded.tensors.w!.data.buffer))).toEqual(
      Array.from(Float32Array.from({ length: 300 }, (_, i) => i * 0.5 + 1)),
    );
    expect(temporaries(dir)).toEqual([]);
  });

  it.each([
    ["a full disk (ENOSPC after a short write)", limitedDisk(100, 700), /ENOSPC.*Free disk space/],
    ["a quota (EDQUOT)", limitedDisk(100, 700, "EDQUOT"), /EDQUOT/],
    [
      "a write that makes no progress",
      { ...nodeFileSystem, writeSync: () => 0 } as CheckpointFileSystem,
      /accepted 0 of \d+ bytes/,
    ],
    [
      "a failing fsync (EIO)",
      {
        ...nodeFileSystem,
        fsyncSync: () => {
          throw errnoError("EIO");
        },
      } as CheckpointFileSystem,
      /EIO/,
    ],
    [
      "a failing close",
      {
        ...nodeFileSystem,
        closeSync: (fd: number) => {
          nodeFileSystem.closeSync(fd);
          throw errnoError("EIO");
        },
      } as CheckpointFileSystem,
      /EIO/,
    ],
  ])(
    "fails on %s, removes its temporary file and keeps the previous checkpoint byte for byte",
    (_, fs, cause) => {
      const dir = folder();
      const path = join(dir, "model.ckpt");
      new SafetensorsCheckpointIO().save(contents(100, 1), path);
      const before = readFileSync(path);
      let error: unknown;
      try {
        new SafetensorsCheckpointIO({ fileSystem: fs }).save(contents(1000, 2), path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FulmenError);
      expect((error as Error).message).toContain(`cannot save '${path}'`);
      expect((error as Error).message).toMatch(cause);
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(temporaries(dir)).toEqual([]);
      expect(readdirSync(dir)).toEqual(["model.ckpt"]);
    },
  );

  it("fails when a folder is in the way, leaving the folder and no temporary file", () => {
    const dir = folder();
    const path = join(dir, "taken.ckpt");
    mkdirSync(path);
    writeFileSync(join(path, "inside"), "x");
    expect(() => new SafetensorsCheckpointIO().save(contents(10, 1), path)).toThrow(
      new RegExp(`cannot save '${path}'.*A folder is in the way`),
    );
    expect(readFileSync(join(path, "inside"), "utf8")).toBe("x");
    expect(readdirSync(dir)).toEqual(["taken.ckpt"]);
  });

  it("fails when the folder does not exist, naming the path and the folder", () => {
    const dir = folder();
    const path = join(dir, "missing", "x.ckpt");
    let error: unknown;
    try {
      writeFileAtomic(path, new Uint8Array(8));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FulmenError);
    expect((error as Error).message).toContain(`cannot save '${path}'`);
    expect((error as Error).message).toMatch(/ENOENT.*Create the folder/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("copies atomically and keeps the target when the copy fails", () => {
    const dir = folder();
    writeFileSync(join(dir, "src"), "new bytes");
    writeFileSync(join(dir, "last.ckpt"), "old bytes");
    const failing: CheckpointFileSystem = {
      ...nodeFileSystem,
      copyFileSync: (source, destination, mode) => {
        nodeFileSystem.copyFileSync(source, destination, mode);
        throw errnoError("ENOSPC");
      },
    };
    expect(() => copyFileAtomic(join(dir, "src"), join(dir, "last.ckpt"), failing)).toThrow(/ENOSPC/);
    expect(readFileSync(join(dir, "last.ckpt"), "utf8")).toBe("old bytes");
    expect(temporaries(dir)).toEqual([]);
    copyFileAtomic(join(dir, "src"), join(dir, "last.ckpt"));
    expect(readFileSync(join(dir, "last.ckpt"), "utf8")).toBe("new bytes");
    expect(() => copyFileAtomic(join(dir, "gone"), join(dir, "last.ckpt"))).toThrow(
      /source .* does not exist/,
    );
    expect(temporaries(dir)).toEqual([]);
  });
});

describe("temporary files of killed saves", () => {
  const coreDist = pathToFileURL(resolve(__dirname, "../dist/index.js")).href;

  it("do not outlive the next successful save in their folder; others' files stay", () => {
    const dir = folder();
    const path = join(dir, "model.ckpt");
    writeFileSync(path, "good");
    // A process that starts a save and is killed with SIGKILL after its first short write.
    const script = `
      const { writeFileAtomic, nodeFileSystem } = await import(${JSON.stringify(coreDist)});
      writeFileAtomic(${JSON.stringify(path)}, new Uint8Array(1 << 20), {
        ...nodeFileSystem,
        writeSync(fd, buffer, offset) {
          nodeFileSystem.writeSync(fd, buffer, offset, 1024);
          process.kill(process.pid, "SIGKILL");
          return 0;
        },
      });`;
    const killed = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(killed.stderr).not.toMatch(/Cannot find|ERR_MODULE_NOT_FOUND/);
    expect(killed.signal).toBe("SIGKILL");
    const left = temporaries(dir);
    expect(left).toHaveLength(1);
    expect(readFileSync(path, "utf8")).toBe("good");
    // Not Fulmen's pattern, or a live writer's (this process's): kept.
    const keep = [".notes.fulmen-tmp", "data.fulmen-tmp", `.00000000-${process.pid}-abc.fulmen-tmp`];
    for (const name of keep) writeFileSync(join(dir, name), "x");

    writeFileAtomic(join(dir, "other.ckpt"), new Uint8Array(16));
    expect(existsSync(join(dir, left[0]!))).toBe(false);
    for (const name of keep) expect(existsSync(join(dir, name))).toBe(true);
  });

  it("are removed when an earlier process had this pid, or when untouched for an hour; live ones stay", () => {
    const dir = folder();
    const host = crc32(hostname()).toString(16).padStart(8, "0");
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
    const started = new Date(Date.now() - process.uptime() * 1000);
    const files = {
      // A restarted container runs its trainer under the same pid (often 1): its killed save is not ours.
      earlierProcessSamePid: [`.${host}-${process.pid}-aaa.fulmen-tmp`, new Date(started.getTime() - 5_000)],
      // This process's own (a worker thread's save in progress): written after this process started.
      ownLive: [`.${host}-${process.pid}-bbb.fulmen-tmp`, new Date()],
      // Another machine's writer (or a reused pid) cannot be judged by its pid: its time decides.
      otherHostRecent: [".0badf00d-4242-ccc.fulmen-tmp", new Date()],
      otherHostAbandoned: [".0badf00d-4242-ddd.fulmen-tmp", hoursAgo(2)],
      liveParentRecent: [`.${host}-${process.ppid}-eee.fulmen-tmp`, new Date()],
      liveParentAbandoned: [`.${host}-${process.ppid}-fff.fulmen-tmp`, hoursAgo(2)],
      // Not Fulmen's pattern: never touched, however old.
      userFile: [".0badf00d-4242-ggg.fulmen-tmp.bak", hoursAgo(2)],
    } as const;
    for (const [name, time] of Object.values(files)) {
      writeFileSync(join(dir, name), "x");
      utimesSync(join(dir, name), time, time);
    }
    writeFileAtomic(join(dir, "model.ckpt"), new Uint8Array(16));
    const kept = Object.fromEntries(
      Object.entries(files).map(([what, [name]]) => [what, existsSync(join(dir, name))]),
    );
    expect(kept).toEqual({
      earlierProcessSamePid: false,
      ownLive: true,
      otherHostRecent: true,
      otherHostAbandoned: false,
      liveParentRecent: true,
      liveParentAbandoned: false,
      userFile: true,
    });
  });
});

describe("a real full disk (a 64 KiB tmpfs)", () => {
  let unmount: (() => void) | null = null;
  afterEach(() => {
    unmount?.();
    unmount = null;
  });

  it("fails the save with ENOSPC, removes the temporary file and keeps the previous checkpoint", (ctx) => {
    const disk = mountTinyDisk(64);
    if ("reason" in disk) return ctx.skip(disk.reason);
    unmount = disk.unmount;
    const path = join(disk.dir, "model.ckpt");
    const io = new SafetensorsCheckpointIO();
    io.save(contents(4000, 1), path); // 16 KB of tensors
    const before = readFileSync(path);
    expect(() => io.save(contents(16000, 2), path)).toThrow(
      new RegExp(`cannot save '${path}': ENOSPC.*unchanged`),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(disk.dir)).toEqual(["model.ckpt"]);
    expect(io.load(path).skeleton).toEqual(contents(4000, 1).skeleton);
    // The disk is usable again once the failed save is gone.
    io.save(contents(4000, 3), path);
    expect(io.load(path).skeleton).toEqual(contents(4000, 3).skeleton);
  });
});

import * as fs from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { FulmenError } from "../utils/errors";

/**
 * The synchronous file operations checkpoint I/O uses, with Node's `fs` signatures. Node's `fs` by default
 * ({@link nodeFileSystem}); pass another to write elsewhere or to test what happens when the disk fails.
 */
export interface CheckpointFileSystem {
  /** Opens `path` with Node's `flags` (`"wx"`, `"r"`, `"r+"`) and returns its file descriptor. */
  openSync(path: string, flags: string): number;
  /** Writes up to `length` bytes and returns how many it wrote, which may be fewer (a short write). */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** Flushes the file (or folder) open as `fd` to disk; a save calls it before renaming the file. */
  fsyncSync(fd: number): void;
  /** Closes `fd`. A network file system may report a failed write here, so it can throw. */
  closeSync(fd: number): void;
  /** Renames `oldPath` to `newPath`, replacing any file there (the step that makes a save atomic). */
  renameSync(oldPath: string, newPath: string): void;
  /** Copies `source` to `destination`; `mode` is Node's copy flags (`fs.constants.COPYFILE_EXCL` here). */
  copyFileSync(source: string, destination: string, mode: number): void;
  /** Removes the file at `path`; with `force`, a missing file is no error. */
  rmSync(path: string, options: { force: boolean }): void;
  /** The entries of the folder `path` (read to find temporary files that killed writers left). */
  readdirSync(path: string): string[];
  /** The whole content of the file at `path`. */
  readFileSync(path: string): Uint8Array;
  /** The file's last modification time, in milliseconds since 1970 (as `fs.statSync(path).mtimeMs`). */
  statSync(path: string): {
    /** The modification time, in milliseconds since 1970-01-01 UTC. */
    mtimeMs: number;
  };
}

/** Node's `fs`, as a {@link CheckpointFileSystem}. */
export const nodeFileSystem: CheckpointFileSystem = {
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (oldPath, newPath) => fs.renameSync(oldPath, newPath),
  copyFileSync: (source, destination, mode) => fs.copyFileSync(source, destination, mode),
  rmSync: (path, options) => fs.rmSync(path, options),
  readdirSync: (path) => fs.readdirSync(path),
  readFileSync: (path) => fs.readFileSync(path),
  statSync: (path) => fs.statSync(path),
};

const CHUNK = 16 * 1024 * 1024;
const SUFFIX = ".fulmen-tmp";
/** This machine, in temporary names: a folder shared between machines must not judge another's processes. */
const HOST_TAG = crc32(hostname()).toString(16).padStart(8, "0");
/**
 * Temporary names: `.<host>-<pid>-<random>.fulmen-tmp`, and the `.<Date.now()>-<pid>-<random>.fulmen-tmp` of
 * earlier Fulmen versions (which had no host tag).
 */
const TEMPORARY = /^\.([0-9a-f]{8}|[0-9]{13})-([0-9]+)-[0-9a-z]+\.fulmen-tmp$/;
/**
 * No live writer leaves its temporary file untouched this long (every chunk it writes refreshes the file's time),
 * so an older one is abandoned whoever wrote it: a process on another machine, or one whose pid was reused.
 */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;
/** When this process started, by this machine's clock. */
const PROCESS_START_MS = Date.now() - process.uptime() * 1000;

function temporaryPath(path: string): string {
  const random = Math.random().toString(36).slice(2, 10) || "0";
  return join(dirname(path), `.${HOST_TAG}-${process.pid}-${random}${SUFFIX}`);
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether the temporary file `name` (matched by {@link TEMPORARY}) was left by a writer that is gone: one of this
 * machine whose process no longer runs, or one that ran before this process with this process's pid (a
 * restarted container runs its trainer under the same pid, often 1), or any writer at all once the file has been
 * untouched for an hour.
 */
function isAbandoned(match: RegExpExecArray, mtimeMs: number): boolean {
  const fromThisHost = match[1]!.length === 13 || match[1] === HOST_TAG;
  if (fromThisHost) {
    const pid = Number(match[2]);
    if (!processIsAlive(pid)) return true;
    // This process writes its files after it started; worker threads share its pid and write after it too.
    if (pid === process.pid && mtimeMs < PROCESS_START_MS) return true;
  }
  return Date.now() - mtimeMs > ABANDONED_AFTER_MS;
}

/**
 * Removes the temporary files that killed writers left in `folder`: only names of Fulmen's pattern whose writer
 * is gone ({@link isAbandoned}); a live writer's file, this process's included, stays.
 */
function removeStaleTemporaries(folder: string, fileSystem: CheckpointFileSystem): void {
  let names: string[];
  try {
    names = fileSystem.readdirSync(folder);
  } catch {
    return; // Tidying is a courtesy; the save itself succeeded.
  }
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (match === null) continue;
    try {
      if (!isAbandoned(match, fileSystem.statSync(join(folder, name)).mtimeMs)) continue;
      fileSystem.rmSync(join(folder, name), { force: true });
    } catch {
      // Another process may be removing it at the same time.
    }
  }
}

/** Flushes a folder's entries (the rename) to disk; not every platform can open a folder, so it is best effort. */
function syncFolder(folder: string, fileSystem: CheckpointFileSystem): void {
  let fd: number;
  try {
    fd = fileSystem.openSync(folder, "r");
  } catch {
    return;
  }
  try {
    fileSystem.fsyncSync(fd);
  } catch {
    // Windows and some network file systems refuse fsync on a folder; the file itself was synced.
  } finally {
    try {
      fileSystem.closeSync(fd);
    } catch {
      // Nothing was written through this descriptor.
    }
  }
}

function fixFor(code: string | undefined, path: string): string {
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
    case "EFBIG":
    case "SHORT_WRITE":
      return "Free disk space (or raise the quota) or save to another disk.";
    case "ENOENT":
      return `Create the folder '${dirname(path)}' first, or save elsewhere.`;
    case "COPY_SOURCE":
      return "The file to copy is gone; save it again instead of copying it.";
    case "ENOTDIR":
      return `A part of '${dirname(path)}' is a file, not a folder; save elsewhere.`;
    case "EISDIR":
    case "ENOTEMPTY":
      return `A folder is in the way at '${path}'; remove it or save under another name.`;
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return "This process may not write there; fix the permissions or save elsewhere.";
    default:
      return "Check the disk and the path, then save again.";
  }
}

function saveFailed(path: string, cause: unknown): FulmenError {
  const code = (cause as NodeJS.ErrnoException).code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FulmenError(
    `cannot save '${path}': ${reason}. The file at that path, if any, is unchanged. ${fixFor(code, path)}`,
    { cause },
  );
}

function shortWrite(written: number, total: number): Error {
  return Object.assign(
    new Error(`the file system accepted ${written} of ${total} bytes and then no more (is the disk full?)`),
    { code: "SHORT_WRITE" },
  );
}

/**
 * Replaces `path` through a temporary file in its folder: `create` makes that file and opens it, `fill` writes
 * it, then it is flushed and renamed over `path`, the folder is flushed and what killed writers left there is
 * removed. On any failure the temporary file is removed and `path` is as it was.
 */
function commit(
  path: string,
  fileSystem: CheckpointFileSystem,
  create: (temporary: string) => number,
  fill: (fd: number) => void = () => {},
): void {
  const temporary = temporaryPath(path);
  let fd: number | null = null;
  try {
    fd = create(temporary);
    fill(fd);
    fileSystem.fsyncSync(fd);
    const closing = fd;
    fd = null;
    // close can be where a network file system reports a failed write.
    fileSystem.closeSync(closing);
    fileSystem.renameSync(temporary, path);
  } catch (e) {
    if (fd !== null) {
      try {
        fileSystem.closeSync(fd);
      } catch {
        // The write already failed; that error is the one to report.
      }
    }
    try {
      fileSystem.rmSync(temporary, { force: true });
    } catch {
      // Left for the next successful save in this folder to remove.
    }
    throw saveFailed(path, e);
  }
  syncFolder(dirname(path), fileSystem);
  removeStaleTemporaries(dirname(path), fileSystem);
}

/**
 * Writes `bytes` to `path` so that a crash or a full disk never leaves a half-written file there: the bytes go to
 * a temporary file in the same folder (every byte: short writes are resumed, a write that makes no progress is an
 * error), are flushed to disk, and the temporary file is renamed over `path`. On failure it throws a
 * {@link FulmenError} naming `path` and the cause, and the previous file at `path` is untouched. The folder must
 * exist.
 */
export function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  fileSystem: CheckpointFileSystem = nodeFileSystem,
): void {
  commit(
    path,
    fileSystem,
    // "wx": never open (and so never truncate) a file that already exists.
    (temporary) => fileSystem.openSync(temporary, "wx"),
    (fd) => {
      let written = 0;
      while (written < bytes.length) {
        const n = fileSystem.writeSync(fd, bytes, written, Math.min(CHUNK, bytes.length - written));
        if (!(n > 0)) throw shortWrite(written, bytes.length);
        written += n;
      }
    },
  );
}

/**
 * Copies `source` to `path` atomically, as {@link writeFileAtomic} writes: through a flushed temporary file in
 * `path`'s folder that is renamed over `path`.
 */
export function copyFileAtomic(
  source: string,
  path: string,
  fileSystem: CheckpointFileSystem = nodeFileSystem,
): void {
  // The copy is the whole content: made and reopened (to be flushed) in one step, with nothing left to write.
  commit(path, fileSystem, (temporary) => {
    try {
      fileSystem.copyFileSync(source, temporary, fs.constants.COPYFILE_EXCL);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === "ENOENT" && !fs.existsSync(source);
      if (missing)
        throw Object.assign(new Error(`its source '${source}' does not exist`), { code: "COPY_SOURCE" });
      throw e;
    }
    // Reopen the copy to flush it: copyFileSync does not.
    return fileSystem.openSync(temporary, "r+");
  });
}

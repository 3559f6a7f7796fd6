import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FulmenError, type ReduceOp } from "@fulmen/core";
import { locateNativeAddon, prebuildPlatform } from "@fulmen/core/plugin";

/**
 * How a native collective runs: `false` now, `true` on a libuv worker (returns a Promise), `"start"` on a thread
 * of its own (returns a {@link NativeStarted}).
 */
export type NativeMode = boolean | "start";

/** A collective the addon started on a thread of its own; `wait()` joins it and throws what it threw. */
export interface NativeStarted {
  /**
   * Blocks until the collective's thread is done (joining it) and releases the arrays it held; throws the
   * collective's error, if it failed. Safe to call inside tfjs's synchronous gradient code.
   */
  wait(): void;
}

/** What the native `Group` class offers (see native/addon.cc), each collective in a {@link NativeMode}. */
export interface NativeGroup {
  /**
   * Meets every rank through the store and connects the full mesh of Gloo connections, blocking the JS
   * thread until all ranks have joined or `timeoutMs` passes. On rank 0 of a `"tcp"` group it first starts
   * the store. A subgroup meets through its parent's store under its name.
   */
  connect(): void;
  /** {@link NativeGroup.connect} on a libuv worker thread: resolves once connected, rejects on failure. */
  connectAsync(): Promise<void>;
  /**
   * Reduces `data` across the ranks in place (every rank ends with the result). `data` is a Float32Array,
   * an Int32Array, or a Uint16Array of 16-bit floats whose format `halfFormat` names (`"float16"` or
   * `"bfloat16"`; reduced in float32, rounded back). `op` is `"sum"`, `"mean"` (the sum divided by the world
   * size; not for int32), `"max"` or `"min"`. `async` true runs it on a libuv worker and returns a Promise;
   * false blocks.
   */
  allReduce(
    data: ArrayBufferView,
    op: ReduceOp,
    halfFormat: string | undefined,
    async: boolean,
  ): Promise<void> | void;
  /**
   * Concatenates every rank's `input` in rank order into `output`, which must hold `worldSize` times
   * `input`'s bytes (a RangeError otherwise); any typed array, copied as bytes. `mode` says how it runs
   * ({@link NativeMode}).
   */
  allGather(
    input: ArrayBufferView,
    output: ArrayBufferView,
    mode: NativeMode,
  ): Promise<void> | NativeStarted | void;
  /**
   * Reduces `input` across the ranks with `op` (as {@link NativeGroup.allReduce}) and writes this rank's
   * chunk, chunk `rank` of `worldSize` equal ones, into `output`; `input` must hold `worldSize` times
   * `output`'s elements (a RangeError otherwise). `mode` says how it runs ({@link NativeMode}).
   */
  reduceScatter(
    input: ArrayBufferView,
    output: ArrayBufferView,
    op: ReduceOp,
    halfFormat: string | undefined,
    mode: NativeMode,
  ): Promise<void> | NativeStarted | void;
  /**
   * Copies rank `root`'s `data` into every other rank's `data` in place (as bytes; any typed array). A `root`
   * outside the group throws. `async` true runs it on a libuv worker and returns a Promise; false blocks.
   */
  broadcast(data: ArrayBufferView, root: number, async: boolean): Promise<void> | void;
  /** Returns once every rank has reached the barrier; `async` true: a Promise from a libuv worker. */
  barrier(async: boolean): Promise<void> | void;
  /**
   * Releases the Gloo connections and the store connection, and on rank 0 stops the store it hosts; the group
   * cannot be used afterwards.
   */
  close(): void;
  /**
   * The TCP store's port: on rank 0 the one its store actually listens on (the free one picked when `port`
   * was 0), on other ranks the `port` given; 0 before {@link NativeGroup.connect}, for a file store and for
   * a subgroup.
   */
  readonly storePort: number;
  /** The numeric address rank 0's store listens on; empty on other ranks. */
  readonly storeAddress: string;
}

/** The native group's constructor options (see GroupOptions in native/group.h). */
export interface NativeGroupOptions {
  /** This process's rank, 0 to `worldSize - 1` (the constructor throws otherwise). */
  rank: number;
  /** How many processes the group has (at least 1). */
  worldSize: number;
  /**
   * How the ranks meet: `"tcp"`, a store rank 0 hosts at `host`:`port` and the others connect to; `"file"`, a
   * store in the directory `path` that every rank can reach (a shared file system).
   */
  store: "tcp" | "file";
  /** The TCP store's address (the job's main address, `MASTER_ADDR`); default `"127.0.0.1"`. */
  host?: string;
  /** The TCP store's port; rank 0 listens on it, 0 picking a free one (see `storePort`). Default 0. */
  port?: number;
  /** Where rank 0's store listens (default: `host`). */
  bindHost?: string;
  /** The job's store secret; empty or absent: none (the store must then listen on loopback). */
  secret?: string;
  /** The file store's directory (with `store: "file"`). */
  path?: string;
  /** The prefix of this group's keys in the store (groups sharing one do not meet); default `"fulmen"`. */
  prefix?: string;
  /**
   * The address this rank's Gloo transport binds and gives its peers; default: the local address of its
   * connection to the TCP store (the route to `host`), or `"127.0.0.1"` with a file store.
   */
  hostname?: string;
  /** How long the rendezvous and each collective may wait for the other ranks, in ms; default 30000. */
  timeoutMs?: number;
}

/**
 * A subgroup's constructor options: a connected parent group, the parent ranks that form the subgroup (in the
 * subgroup's rank order; this process among them) and a name no other subgroup of the parent uses.
 */
export interface NativeSubgroupOptions {
  /** The group the subgroup is made from: connected; its store carries the subgroup's rendezvous. */
  parent: NativeGroup;
  /**
   * The parent ranks that form the subgroup, distinct, in the subgroup's rank order; this process's parent
   * rank must be among them (the constructor throws otherwise).
   */
  members: number[];
  /** The subgroup's key prefix in the parent's store: the same on every member, used by no other subgroup. */
  name: string;
}

/** The Gloo addon as loaded: its process-group class. */
export interface NativeModule {
  /**
   * The native process-group class. The constructor only checks and keeps the options (rank within the world,
   * subgroup members); {@link NativeGroup.connect} or `connectAsync()` then meets the other ranks.
   *
   * @param options a root group's options, or a subgroup's (told apart by `parent`).
   * @returns the group, not yet connected.
   */
  Group: new (
    options: NativeGroupOptions | NativeSubgroupOptions,
  ) => NativeGroup;
}

// dist/index.js and src/native-binding.ts both sit one level below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
let loaded: NativeModule | null = null;

/** Whether the Gloo addon is built and loads on this machine. */
export function isGlooAvailable(): boolean {
  try {
    loadGloo();
    return true;
  } catch {
    return false;
  }
}

/** How to build the addon from source, for the errors below. */
const BUILD_FROM_SOURCE =
  "Multi-process strategies need it. Build it from source: install a C++ toolchain and Gloo (Debian/Ubuntu: " +
  "apt-get install -y g++ make python3 libgloo-dev), then run `npx fulmen-build-native` in " +
  "node_modules/@fulmen/collective-gloo (in Fulmen's repository: pnpm build).";

/**
 * Loads the addon — a source build (build/Release) when there is one, else the prebuilt addon the package carries
 * for this platform, with Gloo's libraries beside it — or throws an error that says why there is none and how to
 * build it.
 */
export function loadGloo(): NativeModule {
  if (loaded !== null) return loaded;
  const addon = locateNativeAddon(packageRoot, "fulmen_gloo");
  if (addon === null) {
    const reasonFile = join(packageRoot, "build", "unavailable.txt");
    const reason = existsSync(reasonFile)
      ? readFileSync(reasonFile, "utf8").trim()
      : `no source build, and no prebuilt addon for ${prebuildPlatform()} in the package`;
    throw new FulmenError(
      `The Gloo collectives addon of @fulmen/collective-gloo is not built: ${reason}\n${BUILD_FROM_SOURCE}`,
    );
  }
  try {
    loaded = createRequire(import.meta.url)(addon) as NativeModule;
  } catch (error) {
    throw new FulmenError(
      `The Gloo collectives addon (${addon}) failed to load: ${(error as Error).message}\n${BUILD_FROM_SOURCE}`,
    );
  }
  return loaded;
}

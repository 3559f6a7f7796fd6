import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FulmenError, locateNativeAddon, prebuildPlatform, type ReduceOp } from "@fulmen/core";

/**
 * How a native collective runs: `false` now, `true` on a libuv worker (returns a Promise), `"start"` on a thread
 * of its own (returns a {@link NativeStarted}).
 */
export type NativeMode = boolean | "start";

/** A collective the addon started on a thread of its own; `wait()` joins it and throws what it threw. */
export interface NativeStarted {
  wait(): void;
}

/** What the native `Group` class offers (see native/addon.cc), each collective in a {@link NativeMode}. */
export interface NativeGroup {
  connect(): void;
  connectAsync(): Promise<void>;
  allReduce(
    data: ArrayBufferView,
    op: ReduceOp,
    halfFormat: string | undefined,
    async: boolean,
  ): Promise<void> | void;
  allGather(
    input: ArrayBufferView,
    output: ArrayBufferView,
    mode: NativeMode,
  ): Promise<void> | NativeStarted | void;
  reduceScatter(
    input: ArrayBufferView,
    output: ArrayBufferView,
    op: ReduceOp,
    halfFormat: string | undefined,
    mode: NativeMode,
  ): Promise<void> | NativeStarted | void;
  broadcast(data: ArrayBufferView, root: number, async: boolean): Promise<void> | void;
  barrier(async: boolean): Promise<void> | void;
  close(): void;
  readonly storePort: number;
  /** The numeric address rank 0's store listens on; empty on other ranks. */
  readonly storeAddress: string;
}

/** The native group's constructor options (see GroupOptions in native/group.h). */
export interface NativeGroupOptions {
  rank: number;
  worldSize: number;
  store: "tcp" | "file";
  host?: string;
  port?: number;
  /** Where rank 0's store listens (default: `host`). */
  bindHost?: string;
  /** The job's store secret; empty or absent: none (the store must then listen on loopback). */
  secret?: string;
  path?: string;
  prefix?: string;
  hostname?: string;
  timeoutMs?: number;
}

/**
 * A subgroup's constructor options: a connected parent group, the parent ranks that form the subgroup (in the
 * subgroup's rank order; this process among them) and a name no other subgroup of the parent uses.
 */
export interface NativeSubgroupOptions {
  parent: NativeGroup;
  members: number[];
  name: string;
}

/** The Gloo addon as loaded: its process-group class. */
export interface NativeModule {
  Group: new (options: NativeGroupOptions | NativeSubgroupOptions) => NativeGroup;
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

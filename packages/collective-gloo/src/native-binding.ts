import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FulmenError, type ReduceOp } from "@fulmen/core";

/** What the native `Group` class offers (see native/addon.cc); `async` true returns a Promise. */
export interface NativeGroup {
  connect(): void;
  connectAsync(): Promise<void>;
  allReduce(
    data: ArrayBufferView,
    op: ReduceOp,
    halfFormat: string | undefined,
    async: boolean,
  ): Promise<void> | void;
  allGather(input: ArrayBufferView, output: ArrayBufferView, async: boolean): Promise<void> | void;
  reduceScatter(
    input: ArrayBufferView,
    output: ArrayBufferView,
    op: ReduceOp,
    halfFormat: string | undefined,
    async: boolean,
  ): Promise<void> | void;
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

/** The Gloo addon as loaded: its process-group class. */
export interface NativeModule {
  Group: new (options: NativeGroupOptions) => NativeGroup;
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

/** Loads the addon, or throws an error that says why it is missing and how to build it. */
export function loadGloo(): NativeModule {
  if (loaded !== null) return loaded;
  const addon = join(packageRoot, "build", "Release", "fulmen_gloo.node");
  const reasonFile = join(packageRoot, "build", "unavailable.txt");
  if (!existsSync(addon)) {
    const reason = existsSync(reasonFile)
      ? readFileSync(reasonFile, "utf8").trim()
      : "it was never built (install scripts did not run)";
    throw new FulmenError(
      `The Gloo collectives addon of @fulmen/collective-gloo is not built: ${reason}\n` +
        "Multi-process strategies need it. Install a C++ toolchain and Gloo (Debian/Ubuntu: " +
        "apt-get install -y g++ make python3 libgloo-dev), then rebuild the package " +
        "(pnpm rebuild @fulmen/collective-gloo, or npm rebuild @fulmen/collective-gloo).",
    );
  }
  try {
    loaded = createRequire(import.meta.url)(addon) as NativeModule;
  } catch (error) {
    throw new FulmenError(
      `The Gloo collectives addon failed to load (${(error as Error).message}). Is libgloo installed ` +
        "(apt-get install -y libgloo-dev)? Rebuild with pnpm rebuild @fulmen/collective-gloo.",
    );
  }
  return loaded;
}

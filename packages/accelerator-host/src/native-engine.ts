import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FulmenError, locateNativeAddon, prebuildPlatform } from "@fulmen/core";

/** The host engine's native entry points (see native/engine_addon.cc). */
export interface NativeEngine {
  batchMatMul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  binary(
    op: number,
    a: Float32Array,
    aShape: number[],
    b: Float32Array,
    bShape: number[],
    out: Float32Array,
    outShape: number[],
  ): void;
  compare(
    op: number,
    a: Float32Array,
    aShape: number[],
    b: Float32Array,
    bShape: number[],
    out: Uint8Array,
    outShape: number[],
  ): void;
  select(condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array): void;
  clip(x: Float32Array, out: Float32Array, lo: number, hi: number): void;
  addN(inputs: Float32Array[], out: Float32Array): void;
  extremumMiddle(
    x: Float32Array,
    out: Float32Array,
    outer: number,
    reduce: number,
    inner: number,
    max: boolean,
  ): void;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  step(x: Float32Array, out: Float32Array, alpha: number): void;
  sumMiddle(
    x: Float32Array,
    out: Float32Array,
    outer: number,
    reduce: number,
    inner: number,
    mean?: boolean,
  ): void;
  conv2d(
    kind: 0 | 1 | 2,
    first: Float32Array,
    second: Float32Array,
    out: Float32Array,
    shape: number[],
  ): void;
  transpose(
    x: Float32Array | Int32Array,
    shape: number[],
    perm: number[],
    out: Float32Array | Int32Array,
  ): void;
  maxPool(x: Float32Array, out: Float32Array, shape: number[]): void;
  avgPool(x: Float32Array, out: Float32Array, shape: number[]): void;
  avgPoolGrad(dy: Float32Array, dx: Float32Array, shape: number[]): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, shape: number[]): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /**
   * Copies `rows` slabs of `slab` elements, slab r from src[srcStart + r·srcRow] to dst[dstStart + r·dstRow]
   * (4-byte elements; throws a RangeError when a slab falls outside either array).
   */
  copySlabs(
    src: Float32Array | Int32Array,
    srcStart: number,
    srcRow: number,
    dst: Float32Array | Int32Array,
    dstStart: number,
    dstRow: number,
    rows: number,
    slab: number,
  ): void;
  unsortedSegmentSum(
    x: Float32Array,
    ids: Int32Array,
    out: Float32Array,
    n: number,
    inner: number,
    numSegments: number,
  ): void;
  adamUpdate(
    param: Float32Array,
    grad: Float32Array,
    expAvg: Float32Array,
    expAvgSq: Float32Array,
    maxExpAvgSq: Float32Array | null,
    paramOut: Float32Array,
    expAvgOut: Float32Array,
    expAvgSqOut: Float32Array,
    maxOut: Float32Array | null,
    hyper: number[],
  ): void;
  rmspropUpdate(
    param: Float32Array,
    grad: Float32Array,
    squareAvg: Float32Array,
    gradAvg: Float32Array | null,
    buffer: Float32Array | null,
    paramOut: Float32Array,
    squareAvgOut: Float32Array,
    gradAvgOut: Float32Array | null,
    bufferOut: Float32Array | null,
    hyper: number[],
  ): void;
  adagradUpdate(
    param: Float32Array,
    grad: Float32Array,
    sum: Float32Array,
    paramOut: Float32Array,
    sumOut: Float32Array,
    hyper: number[],
  ): void;
  gelu(x: Float32Array, y: Float32Array): void;
  geluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  layerNorm(
    x: Float32Array,
    weight: Float32Array | null,
    bias: Float32Array | null,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  layerNormGrad(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    weight: Float32Array | null,
    dx: Float32Array,
    dWeight: Float32Array | null,
    dBias: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  sgdUpdate(
    param: Float32Array,
    grad: Float32Array,
    buffer: Float32Array | null,
    paramOut: Float32Array,
    bufferOut: Float32Array | null,
    hyper: number[],
  ): void;
  setThreads(threads: number): void;
  threads(): number;
  /** out = x rounded to float16 (format 0) or bfloat16 (format 1) values. */
  roundHalf(format: 0 | 1, x: Float32Array, out: Float32Array): void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
let loaded: NativeEngine | null = null;

/**
 * The OpenBLAS kernels this CPU can run, by its instruction sets: "SkylakeX" with AVX-512, "Haswell" with AVX2
 * and FMA, else null (OpenBLAS decides). Debian's OpenBLAS (0.3.21) picks its kernels by CPU model and falls back
 * to its generic pre-AVX ones ("Prescott") on models it does not know — newer CPUs and the generic CPUs of virtual
 * machines — which makes every GEMM about 4× slower (measured: 1024³ in 31 ms instead of 8). Applied unless
 * OPENBLAS_CORETYPE is set; read when the library loads.
 */
function openblasCoreType(): string | null {
  if (process.platform !== "linux" || process.arch !== "x64") return null;
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return null;
  }
  const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? []);
  const has = (...names: string[]) => names.every((n) => flags.has(n));
  if (has("avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl")) return "SkylakeX";
  if (has("avx2", "fma")) return "Haswell";
  return null;
}

/**
 * Sets the engine's OpenBLAS settings in the environment, where not set already; OpenBLAS reads them once, when
 * the library loads, so any addon that loads OpenBLAS into this process calls this first (the engine does). Its
 * idle workers spin for ~0.1 s (2^28 cycles) after each threaded product by default, taking the core that the
 * engine's own element-wise threads (or another rank) need next: OPENBLAS_THREAD_TIMEOUT shortens that. Its
 * kernels are chosen by the CPU's instruction sets (OPENBLAS_CORETYPE, see below).
 */
export function configureOpenBlas(): void {
  process.env.OPENBLAS_THREAD_TIMEOUT ??= "4";
  const coreType = openblasCoreType();
  if (coreType !== null) process.env.OPENBLAS_CORETYPE ??= coreType;
}

/** How to build the engine from source, for the errors below. */
const BUILD_FROM_SOURCE =
  "Build it from source: install a C++ toolchain and OpenBLAS (apt-get install -y g++ make python3 " +
  "libopenblas-dev), then run `npx fulmen-build-native` in node_modules/@fulmen/accelerator-host (in Fulmen's " +
  "repository: pnpm build).";

/**
 * Loads the engine's addon — a source build (build/Release) when there is one, else the prebuilt addon the
 * package carries for this platform — or throws an error that says why there is none and how to get it.
 */
export function loadEngine(): NativeEngine {
  if (loaded !== null) return loaded;
  const addon = locateNativeAddon(packageRoot, "fulmen_engine");
  if (addon === null) {
    const reasonFile = join(packageRoot, "build", "unavailable.txt");
    const reason = existsSync(reasonFile)
      ? readFileSync(reasonFile, "utf8").trim()
      : `no source build, and no prebuilt engine for ${prebuildPlatform()} in the package`;
    throw new FulmenError(`The native engine of @fulmen/accelerator-host is not built: ${reason}
${BUILD_FROM_SOURCE}`);
  }
  configureOpenBlas();
  try {
    loaded = createRequire(import.meta.url)(addon) as NativeEngine;
  } catch (error) {
    throw new FulmenError(
      `The native engine of @fulmen/accelerator-host (${addon}) does not load here: ${(error as Error).message}
${BUILD_FROM_SOURCE}`,
    );
  }
  return loaded;
}

/** Whether the engine's addon is built and loads here. */
export function isEngineAvailable(): boolean {
  try {
    loadEngine();
    return true;
  } catch {
    return false;
  }
}

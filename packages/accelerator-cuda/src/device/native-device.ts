/**
 * A device engine as the addons expose it (native/device/device_napi.cc): memory that JavaScript reaches only
 * through addresses, copies in and out, and kernels enqueued in order. The GPU build implements it over CUDA;
 * the host build over host memory, so that the device backend runs in CI as it will on a GPU. Every address
 * passed in is checked to be a live block of the size the call needs.
 */
export interface NativeDevice {
  /** What the memory is: "host memory", or the GPU's name. */
  describe(): string;
  /** A block of at least `bytes` (≥ 1); its address. */
  allocate(bytes: number): number;
  /** Gives a block back once the work already enqueued on it is done. */
  release(address: number): void;
  memory(): DeviceMemoryStats;
  /** Returns the cached free blocks to the device (on a GPU, a device-wide synchronisation). */
  emptyCache(): void;
  /** Host → device: the whole array into the block. */
  upload(address: number, values: Float32Array | Int32Array | Uint8Array): void;
  /** Device → host: fills the whole array, after every kernel enqueued before. */
  download(address: number, values: Float32Array | Int32Array | Uint8Array): void;
  copy(target: number, source: number, bytes: number): void;
  /** Waits for every enqueued kernel; throws what a kernel failed with. */
  synchronize(): void;
  binary(
    op: number,
    a: number,
    aShape: number[],
    b: number,
    bShape: number[],
    out: number,
    outShape: number[],
  ): void;
  compare(
    op: number,
    a: number,
    aShape: number[],
    b: number,
    bShape: number[],
    out: number,
    outShape: number[],
  ): void;
  unary(op: number, x: number, out: number, n: number): void;
  /** Half storage: x rounded to float16 (format 0) or bfloat16 (1) and packed into 2 bytes a value. */
  toHalf(format: number, x: number, out: number, n: number): void;
  /** Half storage's float32 values. */
  fromHalf(format: number, x: number, out: number, n: number): void;
  /** batchMatMul of two half-stored operands of one format, float32 accumulation (tensor cores on a GPU). */
  batchMatMulHalf(
    format: number,
    a: number,
    b: number,
    c: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  /** out = x rounded to float16 (format 0) or bfloat16 (1) values. */
  roundHalf(format: number, x: number, out: number, n: number): void;
  gelu(x: number, y: number, n: number): void;
  geluGrad(dy: number, x: number, dx: number, n: number): void;
  softmax(x: number, out: number, rows: number, cols: number): void;
  layerNorm(
    x: number,
    weight: number | null,
    bias: number | null,
    y: number,
    mean: number,
    rstd: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  layerNormGrad(
    dy: number,
    x: number,
    mean: number,
    rstd: number,
    weight: number | null,
    dx: number,
    dWeight: number | null,
    dBias: number | null,
    rows: number,
    cols: number,
  ): void;
  gather(
    x: number,
    indices: number,
    out: number,
    outer: number,
    axisDim: number,
    inner: number,
    n: number,
    elementBytes: number,
  ): void;
  segmentSum(x: number, ids: number, out: number, n: number, inner: number, numSegments: number): void;
  copy2d(
    src: number,
    srcStride: number,
    srcOffset: number,
    dst: number,
    dstStride: number,
    dstOffset: number,
    rows: number,
    cols: number,
    elementBytes: number,
  ): void;
  slice(x: number, out: number, shape: number[], begin: number[], size: number[], elementBytes: number): void;
  /** The mirror of slice: x (of `size`) written into out (of `outShape`) at `begin`. */
  insert(
    x: number,
    out: number,
    outShape: number[],
    begin: number[],
    size: number[],
    elementBytes: number,
  ): void;
  /** kind 0: conv (x, filter); 1: input gradient (dy, filter); 2: filter gradient (x, dy). */
  conv2d(kind: number, first: number, second: number, out: number, shape: number[]): void;
  /** kind 0: max, 1: average. */
  pool(kind: number, x: number, out: number, shape: number[]): void;
  poolGrad(kind: number, dy: number, x: number | null, dx: number, shape: number[]): void;
  /** The fused optimizer updates: inputs, outputs (null where the options leave state out), count, hyperparameters. */
  adamUpdate(...args: Array<number | null | number[]>): void;
  sgdUpdate(...args: Array<number | null | number[]>): void;
  rmspropUpdate(...args: Array<number | null | number[]>): void;
  adagradUpdate(...args: Array<number | null | number[]>): void;
  /** kind: 0 sum, 1 mean, 2 max, 3 min over the middle of [outer, reduce, inner]. */
  reduceMiddle(kind: number, x: number, out: number, outer: number, reduce: number, inner: number): void;
  /** Element types: 0 float32, 1 int32, 2 bool. */
  cast(x: number, fromType: number, out: number, toType: number, n: number): void;
  fill(out: number, type: number, value: number, n: number): void;
  oneHot(indices: number, out: number, type: number, n: number, depth: number, on: number, off: number): void;
  step(x: number, out: number, n: number, alpha: number): void;
  select(condition: number, t: number, e: number, out: number, n: number): void;
  clip(x: number, out: number, n: number, lo: number, hi: number): void;
  /** 4-byte elements. */
  transpose(x: number, out: number, shape: number[], perm: number[]): void;
  batchMatMul(
    a: number,
    b: number,
    c: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
}

/** What the device's caching allocator holds. */
export interface DeviceMemoryStats {
  /** Bytes in blocks that tensors hold. */
  allocatedBytes: number;
  /** Bytes in freed blocks kept for reuse. */
  cachedBytes: number;
  /** How often raw device memory was allocated (cudaMalloc on a GPU). */
  rawAllocations: number;
}

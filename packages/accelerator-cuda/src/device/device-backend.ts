import { FulmenError, tf } from "@fulmen/core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import {
  type BackendTimingInfo,
  type BackendValues,
  type DataId,
  DataStorage,
  type DataType,
  KernelBackend,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import type { DeviceMemoryStats, NativeDevice } from "./native-device";

/** What the backend keeps per tensor: an address on the device, or host bytes for strings. */
interface DeviceData {
  dtype: DataType;
  /** The block's address (0 for strings, which never go to the device). */
  address: number;
  /** The tensor's bytes in the block. */
  bytes: number;
  refCount: number;
  strings?: Uint8Array[];
  /** The int32 values a small tensor was written with (indices), kept so checking them needs no download. */
  hostInts?: Int32Array;
  /**
   * Half storage: float32 values exactly representable in float16 (0) or bfloat16 (1), kept in 2 bytes each at
   * `address` (made by the precision plugins' rounding kernels; GEMMs read them as they are).
   */
  half?: 0 | 1;
  /** A half-stored tensor's float32 values, made when a kernel first needs them, freed with the tensor. */
  wide?: number;
  /** A complex64 tensor's parts: two float32 tensors of this backend, as tfjs's backends keep them. */
  complexParts?: { real: DataId; imag: DataId };
}

/** What `tf.memory()` adds for this backend. */
export interface DeviceBackendMemory {
  /**
   * Whether tfjs should treat the counts as approximate; always false here (the allocator counts exactly).
   */
  unreliable: boolean;
  /** Bytes in device blocks that tensors hold. */
  numBytesInDevice: number;
  /** Bytes in freed device blocks the allocator keeps for reuse. */
  numBytesCachedInDevice: number;
}

type DeviceArray = Float32Array | Int32Array | Uint8Array;

/** Int32 tensors up to this many values keep a host copy of what they were written with (see int32Values). */
const MAX_HOST_INTS = 1 << 16;

const BYTES_PER_ELEMENT: Partial<Record<DataType, number>> = { float32: 4, int32: 4, bool: 1 };

function arrayFor(dtype: DataType, length: number): DeviceArray {
  if (dtype === "float32") return new Float32Array(length);
  if (dtype === "int32") return new Int32Array(length);
  return new Uint8Array(length);
}

/** Values in the typed array the dtype is stored as (tfjs hands some kernels' results over in another). */
function asStored(values: BackendValues, dtype: DataType): DeviceArray {
  if (dtype === "float32")
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (dtype === "int32")
    return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>);
}

/**
 * A tfjs backend whose tensors live in a device's memory (a GPU's, through the native engine), which JavaScript
 * reaches only by copying. Kernels the device implements run there; every other kernel runs tfjs's CPU
 * implementation on copies of its inputs, its outputs copied back — each such call counted (`fallbackStats()`), so
 * a model never fails for a missing kernel and the cost is visible.
 */
export class DeviceBackend extends KernelBackend {
  private static nextId = 0;
  private readonly data: DataStorage<DeviceData>;
  private readonly fallbacks = new Map<string, number>();
  /** tfjs's CPU backend, private to this backend: where fallbacks run. */
  private readonly cpu = new MathBackendCPU();

  constructor(
    /** The native device whose memory holds the tensors and whose kernels this backend enqueues. */
    readonly device: NativeDevice,
  ) {
    super();
    this.data = new DataStorage(this, tf.engine());
  }

  /**
   * Copies `values` into a new device block (strings stay on the host) and returns the new tensor's data id.
   */
  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = { id: DeviceBackend.nextId++ };
    this.store(dataId, values, shape, dtype, 1);
    return dataId;
  }

  /** Takes over a tensor tfjs moves here from another backend: `values` copied into a new device block. */
  override move(
    dataId: DataId,
    values: BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    this.store(dataId, values, shape, dtype, refCount);
  }

  /** A tensor of this backend: with `values` copied to the device, or with uninitialised memory for a kernel. */
  makeTensorInfo(shape: number[], dtype: DataType, values?: BackendValues): TensorInfo {
    const dataId = { id: DeviceBackend.nextId++ };
    if (values !== undefined) this.store(dataId, values, shape, dtype, 1);
    else this.data.set(dataId, this.allocateFor(shape, dtype, 1));
    return { dataId, shape, dtype };
  }

  /**
   * A tensor's int32 values on the host: the ones it was written with when it came from JavaScript (token ids,
   * labels), else a download (on a GPU, a wait for the kernels before it).
   */
  int32Values(t: TensorInfo): Int32Array {
    return this.data.get(t.dataId).hostInts ?? (this.readSync(t.dataId) as Int32Array);
  }

  /**
   * The device address of a tensor's values in its dtype (moving it here first when it lives elsewhere); for a
   * half-stored tensor, its float32 values (made once, kept while the tensor lives).
   */
  address(t: TensorInfo): number {
    return this.floatAddress(this.data.get(t.dataId));
  }

  /** A half-stored tensor's format and 16-bit values; null for every other tensor. */
  halfOf(t: TensorInfo): {
    /** The 16-bit format of the stored values: 0 float16, 1 bfloat16. */
    format: 0 | 1;
    /** The device address of the 16-bit values (2 bytes each). */
    address: number;
  } | null {
    const stored = this.data.get(t.dataId);
    return stored.half === undefined ? null : { format: stored.half, address: stored.address };
  }

  /** An uninitialised float32 tensor kept in half storage (2 bytes a value), for a kernel to fill. */
  makeHalfTensorInfo(shape: number[], format: 0 | 1): TensorInfo {
    const dataId = { id: DeviceBackend.nextId++ };
    const bytes = 2 * tf.util.sizeFromShape(shape);
    this.data.set(dataId, {
      dtype: "float32",
      address: this.device.allocate(Math.max(bytes, 1)),
      bytes,
      refCount: 1,
      half: format,
    });
    return { dataId, shape, dtype: "float32" };
  }

  /**
   * Downloads a tensor's values into a new typed array, after every kernel enqueued before it (on a GPU, a
   * wait); half-stored tensors as float32, complex64 as interleaved parts, strings as kept.
   */
  override readSync(dataId: DataId): BackendValues {
    const stored = this.data.get(dataId);
    if (stored.strings !== undefined) return stored.strings;
    if (stored.complexParts !== undefined)
      return tf.backend_util.mergeRealAndImagArrays(
        this.readSync(stored.complexParts.real) as Float32Array,
        this.readSync(stored.complexParts.imag) as Float32Array,
      );
    const values = arrayFor(stored.dtype, this.lengthOf(stored));
    if (values.length > 0) this.device.download(this.floatAddress(stored), values);
    return values;
  }

  /** {@link DeviceBackend.readSync}, resolved: the download itself is synchronous. */
  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  /** How many tfjs references the tensor's data has; 0 when it is not (or no longer) on this backend. */
  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  /** Adds a reference to the tensor's data (a kernel output sharing an input's block). */
  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  /** How many tensors' data this backend holds (tfjs's leak checks count them). */
  override numDataIds(): number {
    return this.data.numDataIds();
  }

  /**
   * Drops a reference to the tensor's data (every one with `force`); at the last, releases its device blocks
   * to the allocator and returns true. False while references remain.
   */
  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const stored = this.data.get(dataId);
    stored.refCount--;
    if (!force && stored.refCount > 0) return false;
    if (stored.address !== 0) this.device.release(stored.address);
    if (stored.wide !== undefined) this.device.release(stored.wide);
    if (stored.complexParts !== undefined) {
      this.disposeData(stored.complexParts.real, true);
      this.disposeData(stored.complexParts.imag, true);
    }
    this.data.delete(dataId);
    return true;
  }

  /** What `tf.memory()` adds for this backend: the device allocator's held and cached bytes. */
  override memory(): DeviceBackendMemory {
    const stats: DeviceMemoryStats = this.device.memory();
    return {
      unreliable: false,
      numBytesInDevice: stats.allocatedBytes,
      numBytesCachedInDevice: stats.cachedBytes,
    };
  }

  /** Wall time of `f` until the device has finished its kernels. */
  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = tf.util.now();
    f();
    this.device.synchronize();
    return { kernelMs: tf.util.now() - start };
  }

  /** True: {@link DeviceBackend.time} measures wall time up to the device's synchronisation. */
  override timerAvailable(): boolean {
    return true;
  }

  override floatPrecision(): 32 {
    return 32;
  }

  /** Waits for the device's enqueued kernels (tfjs calls it when the backend is removed); frees nothing. */
  override dispose(): void {
    this.device.synchronize();
  }

  /**
   * Runs tfjs's CPU kernel on copies of the inputs and copies its outputs to the device, counting the call. An
   * output that is one of its inputs (a reshape's view) stays that input's device block.
   */
  runFallback(
    kernelName: string,
    kernel: KernelFunc,
    args: Parameters<KernelFunc>[0],
  ): TensorInfo | TensorInfo[] {
    this.fallbacks.set(kernelName, (this.fallbacks.get(kernelName) ?? 0) + 1);
    const onHost = new Map<DataId, TensorInfo>();
    const toHost = (t: TensorInfo | undefined): TensorInfo | undefined => {
      if (t === undefined) return undefined;
      let copy = onHost.get(t.dataId);
      if (copy === undefined) {
        copy = {
          dataId: this.writeToCpu(this.readSync(t.dataId), t.shape, t.dtype),
          shape: t.shape,
          dtype: t.dtype,
        };
        onHost.set(t.dataId, copy);
      }
      return { ...copy, shape: t.shape };
    };
    const inputs = Array.isArray(args.inputs)
      ? (args.inputs as TensorInfo[]).map(toHost)
      : Object.fromEntries(Object.entries(args.inputs).map(([name, t]) => [name, toHost(t)]));
    const inputOf = new Map(
      [...onHost].map(([deviceId, copy]) => [copy.dataId, { deviceId, dtype: copy.dtype }]),
    );
    let hostOutputs: TensorInfo[] = [];
    try {
      const result = kernel({ ...args, inputs: inputs as typeof args.inputs, backend: this.cpu });
      hostOutputs = Array.isArray(result) ? result : [result];
      const outputs = hostOutputs.map((out) => {
        // tfjs's cast to a wider dtype returns its input's values as they are (int32 read as float32): on the
        // device the bits would be wrong, so only a same-dtype output stays a view.
        const input = inputOf.get(out.dataId);
        if (input !== undefined && input.dtype === out.dtype) {
          this.incRef(input.deviceId);
          return { dataId: input.deviceId, shape: out.shape, dtype: out.dtype };
        }
        return this.makeTensorInfo(out.shape, out.dtype, this.cpu.readSync(out.dataId));
      });
      return Array.isArray(result) ? outputs : outputs[0]!;
    } finally {
      for (const out of hostOutputs) {
        // A few tfjs kernels return engine-tracked tensors of the backend they ran on.
        if (out instanceof tf.Tensor) out.dispose();
        else if (!inputOf.has(out.dataId)) this.cpu.disposeData(out.dataId, true);
      }
      for (const copy of onHost.values()) this.cpu.disposeData(copy.dataId, true);
    }
  }

  /** How often each kernel ran on tfjs's CPU implementation, with its data copied off and back onto the device. */
  fallbackStats(): Record<string, number> {
    return Object.fromEntries([...this.fallbacks.entries()].sort((x, y) => y[1] - x[1]));
  }

  /** Forgets the counts. */
  resetFallbackStats(): void {
    this.fallbacks.clear();
  }

  private lengthOf(stored: DeviceData): number {
    return stored.bytes / (stored.half !== undefined ? 2 : BYTES_PER_ELEMENT[stored.dtype]!);
  }

  private floatAddress(stored: DeviceData): number {
    if (stored.half === undefined) return stored.address;
    if (stored.wide === undefined) {
      const n = this.lengthOf(stored);
      stored.wide = this.device.allocate(Math.max(4 * n, 1));
      if (n > 0) this.device.fromHalf(stored.half, stored.address, stored.wide, n);
    }
    return stored.wide;
  }

  /** Values into the fallbacks' CPU backend; complex64 as tfjs's CPU kernels keep it (two float32 parts). */
  private writeToCpu(values: BackendValues, shape: number[], dtype: DataType): DataId {
    if (dtype !== "complex64") return this.cpu.write(values, shape, dtype);
    const { real, imag } = tf.backend_util.splitRealAndImagArrays(values as Float32Array);
    const complex = this.cpu.makeTensorInfo(shape, "complex64");
    this.cpu.data.get(complex.dataId).complexTensorInfos = {
      real: this.cpu.makeTensorInfo(shape, "float32", real),
      imag: this.cpu.makeTensorInfo(shape, "float32", imag),
    };
    return complex.dataId;
  }

  private allocateFor(shape: number[], dtype: DataType, refCount: number): DeviceData {
    const perElement = BYTES_PER_ELEMENT[dtype];
    if (perElement === undefined)
      throw new FulmenError(
        `The device backend has no kernel that makes a ${dtype} tensor from nothing; ` +
          "make it from its parts (tf.complex(real, imag)).",
      );
    const bytes = tf.util.sizeFromShape(shape) * perElement;
    return { dtype, address: this.device.allocate(Math.max(bytes, 1)), bytes, refCount };
  }

  private store(
    dataId: DataId,
    values: BackendValues | null,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    if (dtype === "string") {
      this.data.set(dataId, { dtype, address: 0, bytes: 0, refCount, strings: values as Uint8Array[] });
      return;
    }
    if (dtype === "complex64" && values !== null) {
      const { real, imag } = tf.backend_util.splitRealAndImagArrays(values as Float32Array);
      const complexParts = {
        real: this.write(real, shape, "float32"),
        imag: this.write(imag, shape, "float32"),
      };
      this.data.set(dataId, { dtype, address: 0, bytes: 0, refCount, complexParts });
      return;
    }
    const stored = this.allocateFor(shape, dtype, refCount);
    if (values !== null && values.length > 0) {
      const typed = asStored(values, dtype);
      this.device.upload(stored.address, typed);
      if (typed instanceof Int32Array && typed.length <= MAX_HOST_INTS) stored.hostInts = typed;
    }
    this.data.set(dataId, stored);
  }
}

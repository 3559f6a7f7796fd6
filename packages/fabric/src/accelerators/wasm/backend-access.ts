import { FulmenError, tf } from "@fulmen/core";

/** A tensor as kernels see it. */
export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

/** The parts of the wasm backend that Fulmen's kernels use. */
export interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Runs another kernel of the same backend directly (as backends compose kernels internally). */
export function runKernel(
  backend: WasmBackendLike,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const kernel = tf.getKernel(kernelName, "wasm");
  if (kernel === undefined) throw new FulmenError(`the wasm backend has no '${kernelName}' kernel.`);
  return kernel.kernelFunc({
    inputs,
    backend,
    attrs,
  } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
}

/** Frees intermediate tensors a kernel created. */
export function release(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A transpose that swaps the last two dimensions. */
export function swapLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return runKernel(backend, "Transpose", { x }, { perm });
}

import type { tf } from "@fulmen/core";
import type { TensorInfo, WasmBackendLike } from "../backend-access";

/**
 * Sums the rows of `x` into `numSegments` rows by segment id (the gradient of `gather`, which embeddings
 * need), computed in JavaScript because the wasm backend lacks it. Rows with an id outside [0, numSegments)
 * are dropped, as in TensorFlow.
 */
export function unsortedSegmentSum(args: {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  backend: WasmBackendLike;
  attrs: { numSegments: number };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, segmentIds } = inputs;
  const ids = backend.readSync(segmentIds.dataId);
  const values = backend.readSync(x.dataId);
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
  const out = new (x.dtype === "int32" ? Int32Array : Float32Array)(attrs.numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= attrs.numSegments) continue;
    const src = i * inner;
    const dst = id * inner;
    for (let k = 0; k < inner; k++) out[dst + k]! += values[src + k]!;
  }
  return backend.makeOutput(
    [attrs.numSegments, ...x.shape.slice(segmentIds.shape.length)],
    x.dtype as tf.DataType,
    undefined,
    out,
  );
}

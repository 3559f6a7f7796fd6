import { type Collective, FulmenError, type ReduceOp, tf } from "@fulmen/core";

/** Reduces a tensor across processes; integer tensors are averaged in float32 (gloo has no integer mean). */
export function allReduceTensor(collective: Collective, tensor: tf.Tensor, op: ReduceOp): tf.Tensor {
  if (!["sum", "mean", "max", "min"].includes(op))
    throw new FulmenError(`allReduce: unknown reduce op '${op}'; use "sum", "mean", "max" or "min".`);
  const asFloat = tensor.dtype === "float32" || op === "mean";
  const data = asFloat ? Float32Array.from(tensor.dataSync()) : Int32Array.from(tensor.dataSync());
  collective.allReduce(data, op);
  return tf.tensor(data, tensor.shape, asFloat ? "float32" : "int32");
}

/** Gathers a tensor from every process, stacked on a new first dimension. */
export function allGatherTensor(collective: Collective, tensor: tf.Tensor): tf.Tensor {
  const isFloat = tensor.dtype === "float32";
  const data = isFloat ? Float32Array.from(tensor.dataSync()) : Int32Array.from(tensor.dataSync());
  const gathered = collective.allGather(data);
  return tf.tensor(gathered, [collective.worldSize, ...tensor.shape], isFloat ? "float32" : "int32");
}

/** Sends a JSON-serialisable value from `src` to every process (length first, then the UTF-8 text). */
export function broadcastValue<T>(collective: Collective, value: T, src: number): T {
  const isSource = collective.rank === src;
  const bytes = isSource ? new TextEncoder().encode(JSON.stringify({ value })) : new Uint8Array(0);
  const length = Int32Array.of(bytes.length);
  collective.broadcast(length, src);
  const payload = isSource ? bytes : new Uint8Array(length[0]!);
  collective.broadcast(payload, src);
  return (JSON.parse(new TextDecoder().decode(payload)) as { value: T }).value;
}

/** Copies every tensor of `state` from rank `src` into the same tensors' places on every process. */
export function broadcastTensors(collective: Collective, tensors: tf.Tensor[], src: number): tf.Tensor[] {
  const total = tensors.reduce((n, t) => n + t.size, 0);
  const flat = new Float32Array(total);
  const ints = new Int32Array(flat.buffer);
  let offset = 0;
  for (const t of tensors) {
    if (t.dtype === "float32") flat.set(t.dataSync() as Float32Array, offset);
    else ints.set(Int32Array.from(t.dataSync()), offset);
    offset += t.size;
  }
  collective.broadcast(flat, src);
  offset = 0;
  return tensors.map((t) => {
    const slice =
      t.dtype === "float32" ? flat.slice(offset, offset + t.size) : ints.slice(offset, offset + t.size);
    offset += t.size;
    return tf.tensor(slice, t.shape, t.dtype === "float32" ? "float32" : "int32");
  });
}

/** Gathers a JSON-serialisable value from every process, in rank order. */
export function allGatherValues<T>(collective: Collective, value: T): T[] {
  const bytes = new TextEncoder().encode(JSON.stringify({ value }));
  const lengths = collective.allGather(Int32Array.of(bytes.length));
  const longest = Math.max(...lengths);
  const padded = new Uint8Array(longest);
  padded.set(bytes);
  const all = collective.allGather(padded);
  return Array.from(lengths, (length, r) => {
    const text = new TextDecoder().decode(all.subarray(r * longest, r * longest + length));
    return (JSON.parse(text) as { value: T }).value;
  });
}

import {
  type Accelerator,
  type Collective,
  decodeHalf,
  encodeHalf,
  FulmenError,
  type Parameter,
  tf,
} from "@fulmen/core";

/** How gradients travel: float32, or compressed to 16 bits (PyTorch's fp16/bf16 compression hooks). */
export type GradientCompression = "fp16" | "bf16" | null;

/**
 * Averages gradients across processes as PyTorch's DDP reducer does: parameters in reverse order (the order
 * backward produces them) are packed into flat buckets of at most `bucketBytes`, and each bucket is all-reduced
 * once. With compression, each rank divides by the world size, sends 16-bit values and sums them, and the result
 * is widened back to float32.
 */
export class GradientReducer {
  /** Bucket buffers kept from step to step, where the accelerator copies arrays into new tensors. */
  private readonly reusable = new Map<string, Float32Array>();

  constructor(
    private readonly collective: Collective,
    private readonly bucketBytes: number,
    private readonly compression: GradientCompression,
    private readonly accelerator: Pick<Accelerator, "copyToHost" | "uploadCopies" | "stagingBuffer"> = {},
  ) {}

  /** Replaces every parameter's gradient with its mean across processes. */
  allReduce(params: Parameter[]): void {
    const trainable = params.filter((p) => p.requiresGrad).reverse();
    const missing = trainable.findIndex((p) => p.grad === null);
    if (missing >= 0)
      throw new FulmenError(
        `DDP: a parameter of shape [${trainable[missing]!.shape}] received no gradient on rank ${this.collective.rank}. ` +
          "Every trainable parameter must take part in the loss on every rank (or set requiresGrad = false on it).",
      );
    this.buckets(trainable).forEach((bucket, index) => {
      this.reduceBucket(bucket, index);
    });
  }

  private buckets(params: Parameter[]): Parameter[][] {
    const out: Parameter[][] = [];
    let current: Parameter[] = [];
    let bytes = 0;
    for (const p of params) {
      if (current.length > 0 && bytes + p.size * 4 > this.bucketBytes) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(p);
      bytes += p.size * 4;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  private reduceBucket(bucket: Parameter[], index: number): void {
    const total = bucket.reduce((n, p) => n + p.size, 0);
    let flat = this.bucketBuffer(index, total);
    let offset = 0;
    for (const p of bucket) {
      if (this.accelerator.copyToHost) this.accelerator.copyToHost(p.grad!, flat, offset);
      else flat.set(p.grad!.dataSync() as Float32Array, offset);
      offset += p.size;
    }
    if (this.compression === null) {
      this.collective.allReduce(flat, "mean");
    } else {
      const format = this.compression === "fp16" ? "float16" : "bfloat16";
      const world = this.collective.worldSize;
      for (let i = 0; i < total; i++) flat[i] = flat[i]! / world;
      const bits = encodeHalf(flat, format);
      this.collective.allReduce(bits, "sum", { halfFormat: format });
      flat = decodeHalf(bits, format);
    }
    // Views, not copies: the new gradients are windows on `flat`. Where tensors copy arrays in (wasm), the
    // buffer is free again at once and serves the next step; elsewhere the tensors share it, so it is not
    // written again: the next step takes a fresh one, or one the engine recycled once these gradients were gone.
    offset = 0;
    for (const p of bucket) {
      p.setGrad(tf.tensor(flat.subarray(offset, offset + p.size), p.shape, "float32"));
      offset += p.size;
    }
  }

  /** A buffer for bucket `index`: the one from the last step when it may be reused (a fresh one costs page faults). */
  private bucketBuffer(index: number, total: number): Float32Array {
    if (this.accelerator.uploadCopies !== true)
      return this.accelerator.stagingBuffer?.(total) ?? new Float32Array(total);
    const key = `${index}:${total}`;
    let buffer = this.reusable.get(key);
    if (buffer === undefined) {
      buffer = new Float32Array(total);
      this.reusable.set(key, buffer);
    }
    return buffer;
  }
}

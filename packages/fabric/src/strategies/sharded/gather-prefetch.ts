import { type Collective, decodeHalf } from "@fulmen/core";
import type { FlatParameter } from "./flat-parameter";

/** A unit's values gathered ahead of its use (`wait` gives them), and the version they were gathered from. */
interface Prefetched {
  wait: () => Float32Array;
  version: number;
}

/**
 * FSDP's forward and backward prefetch: when a unit gathers its parameters, the unit expected to run next
 * (after it in the last forward pass, before it in backward) is gathered ahead and kept until it asks, at the
 * cost of at most one more gathered unit in flight. Where the collective can start an all-gather in the
 * background (`allGatherStart`), the next unit's gather runs while this unit computes, as PyTorch's prefetch
 * does on its own stream; otherwise both are gathered in the same call, which halves the collective calls (each
 * a point where every rank waits for the slowest). The order is the one the units ran in during the last
 * training step, the same on every rank (as the collectives already require); a unit prefetched but not used by
 * the end of backward is dropped, and a copy whose values changed since (an optimizer step) is never used.
 */
export class GatherPrefetch {
  /** Units in the order their forward ran in this step. */
  private ranThisStep: FlatParameter[] = [];
  private nextInForward = new Map<FlatParameter, FlatParameter>();
  private nextInBackward = new Map<FlatParameter, FlatParameter>();
  private readonly ready = new Map<FlatParameter, Prefetched>();

  constructor(
    private readonly collective: Collective,
    /** Start gathers in the background where the collective can (false: gather the next unit in the same call). */
    private readonly overlap = true,
  ) {}

  /** The whole values of `flat` for its forward (every rank must call it, in the same order). */
  forForward(flat: FlatParameter): Float32Array {
    this.ranThisStep.push(flat);
    return this.take(flat, this.nextInForward.get(flat));
  }

  /** The whole values of `flat` for its backward (every rank must call it, in the same order). */
  forBackward(flat: FlatParameter): Float32Array {
    return this.take(flat, this.nextInBackward.get(flat));
  }

  /** Backward is over: learns this step's order for the next one and drops what was not used. */
  endStep(): void {
    if (this.ranThisStep.length > 1) {
      this.nextInForward = new Map();
      this.nextInBackward = new Map();
      const order = this.ranThisStep;
      for (let i = 0; i + 1 < order.length; i++) {
        if (order[i] === order[i + 1]) continue;
        this.nextInForward.set(order[i]!, order[i + 1]!);
        this.nextInBackward.set(order[i + 1]!, order[i]!);
      }
    }
    this.ranThisStep = [];
    // A started gather not used is still waited for: every one must end before its arrays are let go.
    for (const unused of this.ready.values()) unused.wait();
    this.ready.clear();
  }

  private take(flat: FlatParameter, next: FlatParameter | undefined): Float32Array {
    const prefetched = this.ready.get(flat);
    this.ready.delete(flat);
    const values = prefetched?.wait();
    const current = prefetched !== undefined && prefetched.version === flat.version;
    const wanted = next !== undefined && next !== flat && !this.ready.has(next);
    const start = this.overlap ? this.collective.allGatherStart?.bind(this.collective) : undefined;
    if (start !== undefined) {
      const mine = current ? values! : flat.gatherValues(true);
      if (wanted) this.ready.set(next, startGather(start, next));
      return mine;
    }
    if (current) return values!;
    if (!wanted || next.paramDtype !== flat.paramDtype) return flat.gatherValues(true);
    const [mine, theirs] = gatherTogether(this.collective, flat, next);
    this.ready.set(next, { wait: () => theirs, version: next.version });
    return mine;
  }
}

/** Starts gathering a flat parameter's whole values for computing; they arrive at `wait()`. */
function startGather(start: NonNullable<Collective["allGatherStart"]>, flat: FlatParameter): Prefetched {
  const dtype = flat.paramDtype;
  const shard = flat.shardForGather(dtype);
  const started = start<Float32Array | Uint16Array>(shard, dtype === null ? flat.gatherTarget() : undefined);
  let values: Float32Array | null = null;
  return {
    version: flat.version,
    wait: () => {
      if (values === null) {
        const everyone = started.wait();
        flat.doneWithGatherInput(shard);
        values = dtype === null ? (everyone as Float32Array) : decodeHalf(everyone as Uint16Array, dtype);
      }
      return values;
    },
  };
}

/**
 * Both flat parameters' whole values for computing (in their `paramDtype`) in one all-gather: every rank sends
 * its two shards back to back.
 */
function gatherTogether(
  collective: Collective,
  a: FlatParameter,
  b: FlatParameter,
): [Float32Array, Float32Array] {
  const dtype = a.paramDtype;
  const sizeA = a.layout.shardSize;
  const sizeB = b.layout.shardSize;
  const both = dtype === null ? new Float32Array(sizeA + sizeB) : new Uint16Array(sizeA + sizeB);
  for (const [flat, at] of [
    [a, 0],
    [b, sizeA],
  ] as const) {
    const shard = flat.shardForGather(dtype);
    both.set(shard, at);
    flat.doneWithGatherInput(shard);
  }
  const gathered = collective.allGather(both);
  const everyone = dtype === null ? (gathered as Float32Array) : decodeHalf(gathered as Uint16Array, dtype);
  const fullA = a.gatherTarget();
  const fullB = b.gatherTarget();
  for (let r = 0; r < collective.worldSize; r++) {
    const from = r * (sizeA + sizeB);
    fullA.set(everyone.subarray(from, from + sizeA), r * sizeA);
    fullB.set(everyone.subarray(from + sizeA, from + sizeA + sizeB), r * sizeB);
  }
  return [fullA, fullB];
}

import { type HalfFormat, type Parameter, type tf as TF, tf } from "@fulmen/core";
import {
  forgetFreedStorage,
  freeTensorStorage,
  halfFormatOf,
  markHalf,
  refillTensorStorage,
  replaceTensorLeaves,
  tensorLeaves,
} from "@fulmen/core/plugin";
import type { FlatParameter } from "./flat-parameter";
import type { GatherPrefetch } from "./gather-prefetch";

/** Where a run is: gathered for forward, values freed, gathered again for backward, or finished. */
type Phase = "forward" | "freed" | "backward" | "done";

/**
 * One forward call of a sharded unit while tfjs records a tape (training), as PyTorch's FSDP runs it: the
 * parameters are all-gathered and lent to the module as tensors on the tape, and after the forward their
 * buffers are freed while the tape keeps its references to them. Three small ops of its own mark the unit's
 * place in backward, which tfjs walks in reverse order of recording:
 * - an identity on each output, reached first: gather again and write the values back into the same buffers
 *   (FSDP's pre-backward hook), so the unit's recorded ops find their weights;
 * - one op per trainable parameter producing its value, reached once the unit's ops are done with it: it
 *   receives the parameter's whole gradient;
 * - an identity on the strategy's anchor that all of those take as input, reached last: the gradients are
 *   reduce-scattered into the shard and the buffers freed again (FSDP's post-backward hook).
 * Nothing is recomputed. {@link UnitRun.settle} ends a run whatever backward did (the strategy calls it when
 * backward returns).
 */
export class UnitRun {
  private phase: Phase = "forward";
  /** The lent values, in the flat parameter's order. */
  private values: TF.Tensor[] = [];
  private readonly grads = new Map<Parameter, TF.Tensor>();

  constructor(
    private readonly flat: FlatParameter,
    /** Where the whole values come from (all-gathered, or prefetched with another unit's). */
    private readonly gather: GatherPrefetch,
    /** A scalar the tape differentiates (the strategy's anchor), so backward reaches units fed only by data. */
    private readonly anchor: TF.Tensor,
    /** Whether this backward synchronises gradients (read when the gradients arrive). */
    private readonly syncGradients: () => boolean,
    /** The half format the values are gathered in (FSDP's param_dtype), marked on them; null: float32. */
    private readonly half: HalfFormat | null = null,
    /**
     * Takes the step that ends the unit's gradient reduction when the reduction runs in the background (see
     * `FlatParameter.addGradients`); absent: the unit's gradients are reduced before backward goes on.
     */
    private readonly deferReduce?: (finish: () => void) => void,
  ) {}

  /** Runs `forward` with the unit's parameters gathered and lent; returns its result as the tape will see it. */
  run<T>(forward: () => T): T {
    const full = this.gather.forForward(this.flat);
    const start = marker(this.anchor, tf.clone, (dy) => {
      this.finish();
      return tf.zerosLike(dy);
    });
    // Kept until the run settles (a tidy inside the model must not take them): backward writes into them again.
    // Views of the gathered buffer, not copies: nothing writes it again, and an engine that recycles its arrays
    // takes it back once every tensor viewing it is gone.
    this.values = this.flat.params.map((p, i) => {
      const at = this.flat.layout.offsets[i]!;
      const slice = full.subarray(at, at + p.size);
      if (!p.requiresGrad) return tf.keep(this.marked(tf.tensor(slice, p.shape, "float32")));
      const value = marker(
        start,
        () => tf.tensor(slice, p.shape, "float32"),
        (dy) => {
          const earlier = this.grads.get(p);
          this.grads.set(p, tf.keep(earlier === undefined ? tf.clone(dy) : tf.add(earlier, dy)));
          earlier?.dispose();
          // tfjs keeps every gradient it computes until backward ends; nothing reads this one after here, so
          // it goes now (its buffer lives on in the copy above until the shard is reduced): otherwise every
          // unit's whole gradient would stay until the end of backward.
          dy.dispose();
          return tf.zeros(this.anchor.shape);
        },
      );
      return tf.keep(this.marked(value));
    });
    this.lend();
    let result: T;
    try {
      result = forward();
    } finally {
      this.releaseValues();
    }
    const outputs = tensorLeaves([result]);
    const marked = outputs.map((t) => {
      if (t.dtype !== "float32") return t;
      const out = marker(t, tf.clone, (dy) => {
        this.refill();
        return tf.clone(dy);
      });
      // An output autocast made in half stays half for the ops after the unit.
      const half = halfFormatOf(t);
      return half === undefined ? out : markHalf(out, half);
    });
    return (replaceTensorLeaves([result], marked) as unknown[])[0] as T;
  }

  /** Ends the run: gradients received are handed on, the buffers forgotten and the lent values disposed. */
  settle(): void {
    if (this.phase === "backward") this.finish();
    for (const v of this.values) {
      forgetFreedStorage(v);
      v.dispose();
    }
    this.values = [];
    for (const g of this.grads.values()) g.dispose();
    this.grads.clear();
    this.phase = "done";
  }

  /** A gathered value as the unit sees it: marked half when gathered in half. */
  private marked(value: TF.Tensor): TF.Tensor {
    return this.half === null ? value : markHalf(value, this.half);
  }

  private lend(): void {
    this.flat.params.forEach((p, i) => {
      p.lend(this.values[i]!);
    });
  }

  /** Takes the values from the parameters and frees their buffers (the tape's references stay valid). */
  private releaseValues(): void {
    for (const p of this.flat.params) p.releaseStorage(this.flat.releaseReason);
    for (const v of this.values) freeTensorStorage(v);
    this.phase = "freed";
  }

  /** Backward reached the unit: the values are gathered again into the buffers the tape holds. */
  private refill(): void {
    if (this.phase !== "freed") return;
    const full = this.gather.forBackward(this.flat);
    this.flat.params.forEach((p, i) => {
      const at = this.flat.layout.offsets[i]!;
      refillTensorStorage(this.values[i]!, full.subarray(at, at + p.size));
    });
    this.lend();
    this.phase = "backward";
  }

  /** Backward is done with the unit: its gradients go to the shard, and the values are freed again. */
  private finish(): void {
    if (this.phase !== "backward") return;
    this.flat.addGradients(
      this.flat.params.map((p) => this.grads.get(p) ?? null),
      this.syncGradients(),
      this.deferReduce,
    );
    for (const g of this.grads.values()) g.dispose();
    this.grads.clear();
    this.releaseValues();
  }
}

/** An op of one input whose forward is `make(input)` and whose gradient is `grad(dy)`: a place on the tape. */
function marker(
  input: TF.Tensor,
  make: (x: TF.Tensor) => TF.Tensor,
  grad: (dy: TF.Tensor) => TF.Tensor,
): TF.Tensor {
  return tf.customGrad((...args: Array<TF.Tensor | TF.GradSaveFunc>) => ({
    value: make(args[0] as TF.Tensor),
    gradFunc: (dy: TF.Tensor | TF.Tensor[]) => grad(dy as TF.Tensor),
  }))(input);
}

/**
 * Whether tfjs is recording a tape right now (inside a gradient computation, not inside a kernel such as a
 * checkpointed region's forward): only then does a unit's forward need a `UnitRun`.
 */
export function isRecordingTape(): boolean {
  const { state } = tf.engine() as unknown as { state: { gradientDepth: number; kernelDepth: number } };
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

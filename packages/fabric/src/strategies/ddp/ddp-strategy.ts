import {
  type Collective,
  FulmenError,
  type Module,
  type ParameterSource,
  type tf,
  toParameterList,
} from "@fulmen/core";
import { strategyRegistry } from "@fulmen/core/plugin";
import { ParallelStrategy, type ParallelStrategyOptions } from "../parallel/parallel-strategy";
import { broadcastTensors } from "../parallel/tensor-collectives";
import { type GradientCompression, GradientReducer } from "./gradient-reducer";
import { verifySameModelOnEveryRank } from "./model-agreement";

/** Options of {@link DDPStrategy}, as in Lightning's `DDPStrategy`. */
export interface DDPStrategyOptions extends ParallelStrategyOptions {
  /** Gradient bucket size in MiB (PyTorch's `bucket_cap_mb`, 25). */
  bucketCapMb?: number;
  /** Send gradients as 16-bit floats (PyTorch's `fp16_compress_hook` / `bf16_compress_hook`). */
  gradientCompression?: GradientCompression;
}

/**
 * Distributed data parallel (Lightning's `DDPStrategy`): one process per device, rank 0's initial state copied
 * to every rank, gradients averaged after each backward (bucketed all-reduce) unless inside `noBackwardSync`, so
 * that every rank takes the same optimizer step. `fabric.launch()` starts the local ranks (or joins ranks that a
 * scheduler started) and connects the collective (both from {@link ParallelStrategy}).
 */
export class DDPStrategy extends ParallelStrategy {
  readonly name: string = "ddp";
  private reducer: GradientReducer | null = null;
  /** False inside `noBackwardSync`: backward leaves the local gradients as they are. */
  protected syncGradients = true;

  constructor(private readonly options: DDPStrategyOptions = {}) {
    super(options);
    if (
      options.gradientCompression !== undefined &&
      ![null, "fp16", "bf16"].includes(options.gradientCompression)
    )
      throw new FulmenError(`DDPStrategy: gradientCompression must be "fp16", "bf16" or null.`);
  }

  protected override onLaunched(collective: Collective): void {
    this.reducer = new GradientReducer(
      collective,
      (this.options.bucketCapMb ?? 25) * 1024 * 1024,
      this.gradientCompression,
      this.accelerator ?? {},
    );
  }

  /** How the gradient all-reduce sends gradients (the `gradientCompression` option; subclasses may decide). */
  protected get gradientCompression(): GradientCompression {
    return this.options.gradientCompression ?? null;
  }

  /** The bucketed gradient all-reduce (after `launch()`). */
  protected get gradientReducer(): GradientReducer {
    if (this.reducer === null) this.collective; // throws the "not launched" error
    return this.reducer!;
  }

  setupModule<M extends Module>(module: M): M {
    const converted = this.precision.convertModule(module);
    // Every rank starts from rank 0's parameters and buffers, as DistributedDataParallel's constructor does.
    const state = converted.stateDict();
    const names = Object.keys(state);
    // First a fixed-size exchange that fails on every rank, naming the difference, when the models differ.
    verifySameModelOnEveryRank(
      this.collective,
      names.map((name) => ({ name, shape: state[name]!.shape, dtype: state[name]!.dtype })),
    );
    const copies = broadcastTensors(
      this.collective,
      names.map((n) => state[n]!),
      0,
    );
    converted.loadStateDict(Object.fromEntries(names.map((n, i) => [n, copies[i]!])));
    for (const t of copies) t.dispose();
    return converted;
  }

  override backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    const loss = super.backward(closure, params);
    if (this.syncGradients) this.gradientReducer.allReduce(toParameterList(params));
    return loss;
  }

  override noBackwardSync<T>(fn: () => T): T {
    const previous = this.syncGradients;
    this.syncGradients = false;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.syncGradients = previous;
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        this.syncGradients = previous;
      }) as T;
    }
    this.syncGradients = previous;
    return result;
  }

  /** Lets go of the strategy's state; the process group stays for later strategies (call destroyProcessGroup). */
  override teardown(): void {
    super.teardown();
    this.reducer = null;
  }
}

strategyRegistry.register("ddp", () => new DDPStrategy(), {
  description: "distributed data parallel: one process per device, gradients all-reduced (Gloo)",
  packageName: "@fulmen/fabric",
});

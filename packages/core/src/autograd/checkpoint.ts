import { currentAutocast, halfFormatOf, markHalf, withAutocast } from "../amp/autocast";
import { getDefaultGenerator } from "../random/seed";
import { processWide } from "../runtime/process-wide";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import type { Parameter } from "./parameter";
import { replaceTensorLeaves as replaceLeaves, tensorLeaves } from "./tensor-tree";

/** Options of {@link checkpoint}. */
export interface CheckpointOptions {
  /**
   * Parameters the region uses that the ordinary tape differentiates (a checkpointed module's parameters): their
   * gradients flow back as if the region had not been checkpointed.
   */
  params?: Parameter[];
  /** Replay the default generator's state in the recomputation, so dropout draws the same masks (default true). */
  preserveRngState?: boolean;
}

// Whether a recomputation is running, once per process: layers skip their running-statistics updates then, or
// BatchNorm would count a checkpointed batch twice.
const recompute = processWide("autograd/recompute@1", () => ({ depth: 0 }));

/** Whether the code runs inside a {@link checkpoint}'s recomputation (buffers are not updated there). */
export function isRecomputing(): boolean {
  return recompute.depth > 0;
}

/**
 * Activation checkpointing (`torch.utils.checkpoint.checkpoint`): runs `fn(...args)` without keeping its
 * intermediate tensors for backward, and recomputes it during backward to take its gradients. Saves memory for
 * compute: only the region's inputs are kept. The result is the same as calling `fn` directly: gradients reach
 * the tensor inputs, the parameters listed in `options.params`, and (with the default generator's state
 * replayed) dropout draws the same masks. Buffers (BatchNorm's running statistics) are updated once, in the
 * forward pass.
 *
 * `args` may hold tensors inside arrays and plain objects; the result may be a tensor or arrays/objects of
 * tensors and other values. Integer tensors pass through undifferentiated.
 */
export function checkpoint<T>(
  fn: (...args: never[]) => T,
  args: unknown[],
  options: CheckpointOptions = {},
): T {
  const inputs = tensorLeaves(args);
  const floatInputs = inputs.filter(isFloat);
  const tapeParams = (options.params ?? []).filter((p) => p.requiresGrad);
  const rngBefore = options.preserveRngState === false ? null : getDefaultGenerator().getState();
  const autocast = currentAutocast();
  let template: unknown;
  let outputs: tf.Tensor[] = [];
  const call = (given: unknown[]): unknown => (fn as (...a: unknown[]) => T)(...given);
  const forward = (): unknown => call(args);
  const op = tf.customGrad((...opArgs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = opArgs[opArgs.length - 1] as tf.GradSaveFunc;
    save(inputs);
    template = forward();
    outputs = tensorLeaves([template]);
    // Values the caller owns beyond the op's own tidy: integer outputs are kept here and cloned outside.
    for (const t of outputs) if (!isFloat(t)) tf.keep(t);
    const value = packFloats(outputs.filter(isFloat));
    return {
      value,
      // tfjs calls a custom gradient outside any tidy of its own: what the recomputation makes beyond the input
      // gradients (its activations) is freed here, region by region, rather than at the end of the whole
      // backward pass.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const replayed = replaceLeaves(args, saved) as unknown[];
          const savedFloat = saved.filter(isFloat);
          const generator = getDefaultGenerator();
          const rngAfter = rngBefore === null ? null : generator.getState();
          if (rngBefore !== null) generator.setState(rngBefore);
          recompute.depth += 1;
          try {
            const xs = [...savedFloat, ...tapeParams.map((p) => p.data)];
            const grads = isolatedGradients(
              () =>
                withAutocast(autocast, () => {
                  const again = tensorLeaves([call(replayed)]).filter(isFloat);
                  return packFloats(again);
                }),
              xs,
              dy,
            );
            const at = (i: number, like: tf.Tensor) => grads[i] ?? tf.zerosLike(like);
            const forInputs = savedFloat.map((t, i) => at(i, t));
            const forParams = tapeParams.map((p, i) => at(savedFloat.length + i, p.data));
            return [...forInputs, ...forParams];
          } finally {
            recompute.depth -= 1;
            if (rngAfter !== null) generator.setState(rngAfter);
          }
        }),
    };
  });
  const opInputs = [...floatInputs, ...tapeParams.map((p) => p.data)];
  if (opInputs.length === 0) return forward() as T;
  // customGrad's value must be one tensor: a region with several float outputs returns them packed into one
  // flat vector, unpacked here on the tape (so each output's gradient finds its place in the packed one).
  const packed = op(...opInputs);
  const floats = outputs.filter(isFloat);
  let offset = 0;
  const unpacked = new Map<tf.Tensor, tf.Tensor>();
  for (const t of outputs) {
    if (!isFloat(t)) {
      unpacked.set(t, tf.clone(t));
      t.dispose();
    } else if (floats.length === 1) {
      unpacked.set(t, packed);
    } else {
      unpacked.set(t, tf.reshape(tf.slice(packed, [offset], [t.size]), t.shape));
      offset += t.size;
    }
  }
  if (floats.length > 1) packed.dispose();
  // An output autocast made in half stays half for the ops after the region.
  for (const [t, out] of unpacked) {
    const half = halfFormatOf(t);
    if (half !== undefined) markHalf(out, half);
  }
  return (
    replaceLeaves(
      [template],
      outputs.map((t) => unpacked.get(t)!),
    ) as unknown[]
  )[0] as T;
}

function isFloat(t: tf.Tensor): boolean {
  return t.dtype === "float32";
}

/** One tensor of a region's float outputs: the tensor itself, or all of them flattened and concatenated. */
function packFloats(floats: tf.Tensor[]): tf.Tensor {
  if (floats.length === 0)
    throw new FulmenError(
      "checkpoint: the checkpointed function returned no float tensor, so there is nothing to differentiate; call it directly.",
    );
  if (floats.length === 1) return floats[0]!;
  return tf.concat(floats.map((t) => tf.reshape(t, [-1])));
}

/**
 * The gradients of `f()` (seeded with `dy`) with respect to `xs`, taken on a tape of their own: called from
 * inside another backward pass (a recomputation), tfjs would otherwise start its new tape over the outer one
 * and, when done, clear the outer tape the running backward pass still needs.
 */
function isolatedGradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): Array<tf.Tensor | null> {
  const engine = tf.engine() as unknown as { state: { activeTape: unknown; gradientDepth: number } };
  const outer = engine.state.activeTape;
  const isolate = engine.state.gradientDepth === 0;
  try {
    const { value, grads } = tf.engine().gradients(f, xs, dy, true);
    value.dispose();
    return grads.map((g) => g ?? null);
  } finally {
    if (isolate) engine.state.activeTape = outer;
  }
}

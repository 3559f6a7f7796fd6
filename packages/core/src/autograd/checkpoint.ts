import { currentAutocast, withAutocast } from "../amp/autocast";
import { getDefaultGenerator } from "../random/seed";
import { processWide } from "../runtime/process-wide";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import type { Parameter } from "./parameter";

/**
 * What a sharding strategy does around a checkpointed region (FSDP's unit): gather its parameters before the
 * region runs, free them after, and receive the gradients of the parameters it gathered.
 */
export interface CheckpointHooks {
  /** Runs before the region, in the forward pass and again before it is recomputed in backward. */
  before(phase: "forward" | "recompute"): void;
  /** Runs after the region's forward pass, and after its recomputation's gradients have been taken. */
  after(phase: "forward" | "recompute"): void;
  /**
   * Parameters that {@link CheckpointHooks.before} materialised and that the tape does not know (their variables
   * are new at every gathering): the recomputation differentiates them and hands their gradients to
   * {@link CheckpointHooks.gradients} (null where a parameter took no part), in this order.
   */
  localParams(): Parameter[];
  gradients(grads: Array<tf.Tensor | null>): void;
  /**
   * Tensors on the tape made inputs of the region, so that backward reaches it even when nothing else connects
   * it to a differentiated variable (a region whose only inputs are data, whose parameters are all local).
   * Their gradient is zero.
   */
  anchors?: tf.Tensor[];
}

/** Options of {@link checkpoint}. */
export interface CheckpointOptions {
  /**
   * Parameters the region uses that the ordinary tape differentiates (a checkpointed module's parameters): their
   * gradients flow back as if the region had not been checkpointed.
   */
  params?: Parameter[];
  /** Replay the default generator's state in the recomputation, so dropout draws the same masks (default true). */
  preserveRngState?: boolean;
  /** For sharding strategies (see {@link CheckpointHooks}). */
  hooks?: CheckpointHooks;
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
  const hooks = options.hooks;
  const inputs = tensorLeaves(args);
  const floatInputs = inputs.filter(isFloat);
  const tapeParams = (options.params ?? []).filter((p) => p.requiresGrad);
  const anchors = hooks?.anchors ?? [];
  const rngBefore = options.preserveRngState === false ? null : getDefaultGenerator().getState();
  const autocast = currentAutocast();
  let template: unknown;
  let outputs: tf.Tensor[] = [];
  const call = (given: unknown[]): unknown => (fn as (...a: unknown[]) => T)(...given);
  const forward = (): unknown => {
    hooks?.before("forward");
    try {
      return call(args);
    } finally {
      hooks?.after("forward");
    }
  };
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
      // gradients (activations, the local parameters' full gradients) is freed here, unit by unit, rather than
      // at the end of the whole backward pass.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const replayed = replaceLeaves(args, saved) as unknown[];
          const savedFloat = saved.filter(isFloat);
          const generator = getDefaultGenerator();
          const rngAfter = rngBefore === null ? null : generator.getState();
          if (rngBefore !== null) generator.setState(rngBefore);
          recompute.depth += 1;
          try {
            hooks?.before("recompute");
            const local = hooks === undefined ? [] : hooks.localParams().filter((p) => p.requiresGrad);
            const xs = [
              ...savedFloat,
              ...tapeParams.map((p) => p.data),
              ...local.map((p) => p.data),
              ...anchors,
            ];
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
            const base = savedFloat.length + tapeParams.length;
            hooks?.gradients(local.map((_, i) => grads[base + i] ?? null));
            const forAnchors = anchors.map((a) => tf.zerosLike(a));
            return [...forInputs, ...forParams, ...forAnchors];
          } finally {
            recompute.depth -= 1;
            if (rngAfter !== null) generator.setState(rngAfter);
            hooks?.after("recompute");
          }
        }),
    };
  });
  const opInputs = [...floatInputs, ...tapeParams.map((p) => p.data), ...anchors];
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

/** The tensors of a value tree (tensors in arrays and plain objects), in a fixed order. */
function tensorLeaves(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) for (const v of value) tensorLeaves(v, out);
  else if (isPlainObject(value)) for (const v of Object.values(value)) tensorLeaves(v, out);
  return out;
}

/** The value tree with its tensors replaced, in {@link tensorLeaves}' order, by `replacements`. */
function replaceLeaves(value: unknown, replacements: tf.Tensor[]): unknown {
  let next = 0;
  const walk = (v: unknown): unknown => {
    if (v instanceof tf.Tensor) return replacements[next++];
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

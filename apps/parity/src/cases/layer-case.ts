import { type Module, nn, type StateDict, tf } from "@fulmen/core";
import { type CaseOutcome, field, type GoldenCase } from "../golden";
import {
  buildModule,
  callFunctional,
  functionalArguments,
  functionalOptions,
  type ModuleSpec,
  toOptions,
} from "./layer-build";
import { decodeTensor, encodeTensor, type FlatTensor, scalarError, tensorError } from "./layer-tensors";

/**
 * Float32 tolerance of the layer cases, on the error of {@link tensorError} (absolute below 1, relative
 * above). PyTorch and tfjs sum in different orders, so correct results differ by float32 rounding: at most
 * 2e-6 on PyTorch's golden file on the cpu, wasm and host backends. Every real discrepancy found (wrong
 * gradients at 0, padding, ceil mode, running statistics) was above 1e-2.
 */
export const LAYER_TOLERANCE = 2e-5;

const ERROR_KIND = "error (abs, rel above 1)";

/** Tracks the worst error over named comparisons, keeping the name of the worst one for the report. */
class Errors {
  worst = 0;
  where = "";

  tensor(name: string, actual: FlatTensor, expected: FlatTensor | null | undefined): void {
    if (expected == null) return;
    this.note(name, tensorError(actual, expected));
  }

  scalar(name: string, actual: number, expected: number | string): void {
    this.note(name, scalarError(actual, expected));
  }

  private note(name: string, err: number): void {
    if (err > this.worst || (this.where === "" && err > 0)) {
      this.worst = err;
      this.where = name;
    }
  }
}

/** Runs `fn` in a tensor scope that frees every tensor it made (the results are plain numbers by then). */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

function outcome(label: string, errors: Errors, results: Record<string, unknown>): CaseOutcome {
  const failed = errors.worst > LAYER_TOLERANCE;
  return {
    label,
    maxError: errors.worst,
    tolerance: LAYER_TOLERANCE,
    errorKind: failed ? `${ERROR_KIND}, worst in ${errors.where}` : ERROR_KIND,
    results,
  };
}

/** `sum(y · R)` with the case's recorded R, or the output itself when the case has none (a reduced loss). */
function scalarOf(y: tf.Tensor, r: FlatTensor | null | undefined): tf.Scalar {
  if (r == null) return y as tf.Scalar;
  return tf.sum(tf.mul(y, decodeTensor(r)));
}

/**
 * Runs `forward` on the tape and differentiates the case's scalar for `targets` in one pass (a second forward
 * would update BatchNorm's running statistics twice). Returns the kept outputs and the gradients (zeros where
 * a target is unused, as PyTorch's `allow_unused` records them).
 */
function forwardAndGrads(
  forward: () => tf.Tensor[],
  r: FlatTensor | null | undefined,
  targets: tf.Tensor[],
): { outputs: tf.Tensor[]; scalar: number; grads: tf.Tensor[] } {
  let outputs: tf.Tensor[] = [];
  if (targets.length === 0) {
    // nothing to differentiate (a parameterless layer PyTorch has no derivative for): the forward pass alone
    outputs = forward().map((t) => tf.keep(t));
    return { outputs, scalar: scalarOf(outputs[0]!, r).dataSync()[0]!, grads: [] };
  }
  const { value, grads } = tf.engine().gradients(
    () => {
      outputs = forward().map((t) => tf.keep(t));
      return scalarOf(outputs[0]!, r);
    },
    targets,
    undefined,
    true,
  );
  const scalar = value.dataSync()[0]!;
  return { outputs, scalar, grads: grads.map((g, i) => g ?? tf.zerosLike(targets[i]!)) };
}

/** The first tensor of a module's result and the rest (a tuple's further outputs, flattened). */
function flattenOutputs(result: unknown): tf.Tensor[] {
  if (result instanceof tf.Tensor) return [result];
  if (Array.isArray(result)) return result.flatMap(flattenOutputs);
  if (result === null || result === undefined) return [];
  throw new Error(`the module returned ${typeof result}, not tensors`);
}

/** A case's input: a tensor, None, or a tuple of them (LSTM's `(h0, c0)`), as nested arrays. */
type NestedSpec = FlatTensor | null | NestedSpec[];
/** A decoded {@link NestedSpec}: tuples become arrays, None null. */
type NestedInput = tf.Tensor | null | NestedInput[];

function decodeNested(spec: NestedSpec): NestedInput {
  if (spec === null || spec === undefined) return null;
  return Array.isArray(spec) ? spec.map(decodeNested) : decodeTensor(spec);
}

/** The leaves of nested inputs (or of their recorded gradients) in order, None kept as null. */
function leavesOf<T>(nested: ReadonlyArray<T | null | readonly unknown[]>): Array<T | null> {
  return nested.flatMap((v) =>
    Array.isArray(v) ? leavesOf(v as Array<T | null>) : [(v ?? null) as T | null],
  );
}

function decodeStateDict(sd: Record<string, FlatTensor>): StateDict {
  const out: StateDict = {};
  for (const [k, v] of Object.entries(sd)) out[k] = decodeTensor(v);
  return out;
}

/**
 * Replays a `module` case: builds `nn.<module>` from PyTorch's constructor arguments, loads the state dict
 * strictly by PyTorch's names, runs forward in the case's mode, and differentiates `sum(output · R)` for every
 * parameter (by PyTorch's name) and every floating-point input; train-mode buffers are compared afterwards.
 */
export function runModuleCase(c: GoldenCase): CaseOutcome {
  const name = field<string>(c, "name");
  const spec: ModuleSpec = {
    type: field<string>(c, "module"),
    args: c.args as unknown[] | undefined,
    kwargs: c.kwargs as Record<string, unknown> | undefined,
    children: c.children as ModuleSpec[] | null | undefined,
  };
  const module = buildModule(spec);
  try {
    return scoped(() => replayModule(c, name, module));
  } finally {
    module.dispose();
  }
}

function replayModule(c: GoldenCase, name: string, module: Module): CaseOutcome {
  module.loadStateDict(decodeStateDict(field<Record<string, FlatTensor>>(c, "state_dict")), { strict: true });
  module.train(field<string>(c, "mode") === "train");
  const inputSpecs = field<NestedSpec[]>(c, "inputs");
  // inputs may nest (LSTM's `hx = (h0, c0)`): input_grads mirrors the nesting; both are compared leaf by leaf
  const expectedInputGrads = leavesOf<FlatTensor>(field<NestedSpec[]>(c, "input_grads"));
  const inputs = inputSpecs.map(decodeNested);
  const inputLeaves = leavesOf<tf.Tensor>(inputs);
  const gradInputs = inputLeaves.filter(
    (t, i): t is tf.Tensor => t !== null && expectedInputGrads[i] != null,
  );
  const forwardOptions = toOptions(c.forward_kwargs as Record<string, unknown> | undefined);
  const extraArgs = Object.keys(forwardOptions).length > 0 ? [forwardOptions] : [];
  const params = module.namedParameters();
  const bound = module.forward.bind(module) as (...args: unknown[]) => unknown;
  const packed = c.packed as PackedSpec | undefined;
  const forward = packed === undefined ? bound : packedForward(bound, packed);
  const { outputs, scalar, grads } = forwardAndGrads(
    () => flattenOutputs(forward(...inputs, ...extraArgs)),
    c.R as FlatTensor | null,
    [...params.map(([, p]) => p.data), ...gradInputs],
  );
  const errors = new Errors();
  const output = encodeTensor(outputs[0]!);
  errors.tensor("output", output, field<FlatTensor>(c, "output"));
  const expectedExtras = (c.extra_outputs as FlatTensor[] | undefined) ?? [];
  const extras = outputs.slice(1, 1 + expectedExtras.length).map((t) => encodeTensor(t));
  expectedExtras.forEach((e, i) => {
    errors.tensor(`extra_outputs[${i}]`, extras[i] ?? { shape: [-1], dtype: "float32", data: [] }, e);
  });
  errors.scalar("scalar", scalar, field<number | string>(c, "scalar"));
  const expectedParamGrads = field<Record<string, FlatTensor>>(c, "param_grads");
  const paramGrads: Record<string, FlatTensor> = {};
  params.forEach(([key], i) => {
    paramGrads[key] = encodeTensor(grads[i]!);
  });
  for (const [key, expected] of Object.entries(expectedParamGrads)) {
    const actual = paramGrads[key];
    if (actual === undefined) throw new Error(`Fulmen's module has no parameter named '${key}'`);
    errors.tensor(`param_grads.${key}`, actual, expected);
  }
  const inputGrads: Array<FlatTensor | null> = [];
  let next = params.length;
  for (const expected of expectedInputGrads) {
    if (expected == null) {
      inputGrads.push(null);
      continue;
    }
    const actual = encodeTensor(grads[next++]!);
    inputGrads.push(actual);
    errors.tensor(`input_grads[${inputGrads.length - 1}]`, actual, expected);
  }
  const results: Record<string, unknown> = {
    output,
    extra_outputs: extras,
    scalar,
    param_grads: paramGrads,
    input_grads: inputGrads,
  };
  const expectedAfter = c.state_dict_after as Record<string, FlatTensor> | undefined;
  if (expectedAfter !== undefined) {
    const state = module.stateDict();
    const after: Record<string, FlatTensor> = {};
    for (const [key, expected] of Object.entries(expectedAfter)) {
      const t = state[key];
      if (t === undefined) throw new Error(`Fulmen's state dict has no '${key}' after forward`);
      after[key] = encodeTensor(t, expected);
      errors.tensor(`state_dict_after.${key}`, after[key]!, expected);
    }
    results.state_dict_after = after;
  }
  tf.dispose(outputs);
  return outcome(`module ${name}`, errors, results);
}

/** A case's packing of its first input (`torch.nn.utils.rnn.pack_padded_sequence`'s arguments). */
interface PackedSpec {
  lengths: number[];
  batch_first?: boolean;
  enforce_sorted?: boolean;
}

/**
 * A recurrent layer's forward over the first input packed as the case says, its packed output padded back, as
 * a program using `nn.utils.rnn` does (the tensors are freed by the case's scope).
 */
function packedForward(
  forward: (...args: unknown[]) => unknown,
  spec: PackedSpec,
): (...args: unknown[]) => unknown {
  const batchFirst = spec.batch_first ?? false;
  return (first, ...rest) => {
    const sequence = nn.utils.rnn.packPaddedSequence(first as tf.Tensor, spec.lengths, {
      batchFirst,
      enforceSorted: spec.enforce_sorted ?? true,
    });
    const [output, states] = forward(sequence, ...rest) as [nn.utils.rnn.PackedSequence, unknown];
    return [nn.utils.rnn.padPackedSequence(output, { batchFirst })[0], states];
  };
}

/**
 * Replays a `loss` case: `nn.functional.<camelName>(input, target, options)` with PyTorch's keywords in
 * camelCase and its tensor keywords (weight, pos_weight) decoded; compares the output and the gradient of the
 * loss (or of `sum(output · R)` when unreduced) for the input, and for the target where PyTorch recorded one.
 */
export function runLossCase(c: GoldenCase): CaseOutcome {
  return scoped(() => {
    const name = field<string>(c, "name");
    const inputSpec = field<FlatTensor>(c, "input");
    const targetSpec = field<FlatTensor>(c, "target");
    const input = decodeTensor(inputSpec);
    const target = decodeTensor(targetSpec);
    const expectedTargetGrad = c.target_grad as FlatTensor | null | undefined;
    const options = lossOptions(c);
    const { outputs, scalar, grads } = forwardAndGrads(
      () => [callFunctional(field<string>(c, "fn"), [input, target], options)],
      c.R as FlatTensor | null,
      expectedTargetGrad != null ? [input, target] : [input],
    );
    const errors = new Errors();
    const output = encodeTensor(outputs[0]!);
    errors.tensor("output", output, field<FlatTensor>(c, "output"));
    errors.scalar("scalar", scalar, field<number | string>(c, "scalar"));
    const inputGrad = encodeTensor(grads[0]!);
    errors.tensor("input_grad", inputGrad, field<FlatTensor>(c, "input_grad"));
    const targetGrad = expectedTargetGrad != null ? encodeTensor(grads[1]!) : null;
    if (targetGrad !== null) errors.tensor("target_grad", targetGrad, expectedTargetGrad);
    tf.dispose(outputs);
    return outcome(`loss ${name}`, errors, {
      output,
      scalar,
      input_grad: inputGrad,
      target_grad: targetGrad,
    });
  });
}

/**
 * Replays a `loss2` case, a loss of two inputs and a target (`cosine_embedding_loss(x1, x2, y)`): compares
 * the output and the gradients of both inputs.
 */
export function runLoss2Case(c: GoldenCase): CaseOutcome {
  return scoped(() => {
    const name = field<string>(c, "name");
    const inputs = field<FlatTensor[]>(c, "inputs").map(decodeTensor);
    const target = decodeTensor(field<FlatTensor>(c, "target"));
    const { outputs, scalar, grads } = forwardAndGrads(
      () => [callFunctional(field<string>(c, "fn"), [...inputs, target], lossOptions(c))],
      c.R as FlatTensor | null,
      inputs,
    );
    const errors = new Errors();
    const output = encodeTensor(outputs[0]!);
    errors.tensor("output", output, field<FlatTensor>(c, "output"));
    errors.scalar("scalar", scalar, field<number | string>(c, "scalar"));
    const expectedGrads = field<FlatTensor[]>(c, "input_grads");
    const inputGrads = grads.map((g) => encodeTensor(g));
    inputGrads.forEach((g, i) => {
      errors.tensor(`input_grads[${i}]`, g, expectedGrads[i]);
    });
    tf.dispose(outputs);
    return outcome(`loss ${name}`, errors, { output, scalar, input_grads: inputGrads });
  });
}

/** A loss case's keywords and tensor keywords as one Fulmen options object. */
function lossOptions(c: GoldenCase): Record<string, unknown> {
  return functionalOptions(field<string>(c, "fn"), {
    ...(c.kwargs as Record<string, unknown> | undefined),
    ...(c.tensor_kwargs as Record<string, unknown> | undefined),
  });
}

/**
 * Replays a `function` case, one `torch.nn.functional` call: `nn.functional.<camelName>(...inputs, options)`
 * with PyTorch's keywords in camelCase; compares the output, `sum(output · R)` and the gradient of every input
 * PyTorch recorded one for.
 */
export function runFunctionCase(c: GoldenCase): CaseOutcome {
  return scoped(() => {
    const name = field<string>(c, "name");
    const inputs = field<FlatTensor[]>(c, "inputs").map(decodeTensor);
    const expectedGrads = field<Array<FlatTensor | null>>(c, "input_grads");
    const differentiated = inputs.filter((_, i) => expectedGrads[i] != null);
    const args = functionalArguments(field<string>(c, "fn"), (c.kwargs as Record<string, unknown>) ?? {});
    const { outputs, scalar, grads } = forwardAndGrads(
      () => [callFunctional(field<string>(c, "fn"), inputs, ...args)],
      c.R as FlatTensor | null,
      differentiated,
    );
    const errors = new Errors();
    const output = encodeTensor(outputs[0]!);
    errors.tensor("output", output, field<FlatTensor>(c, "output"));
    errors.scalar("scalar", scalar, field<number | string>(c, "scalar"));
    let next = 0;
    const inputGrads = expectedGrads.map((expected, i) => {
      if (expected == null) return null;
      const actual = encodeTensor(grads[next++]!);
      errors.tensor(`input_grads[${i}]`, actual, expected);
      return actual;
    });
    tf.dispose(outputs);
    return outcome(`function ${name}`, errors, { output, scalar, input_grads: inputGrads });
  });
}

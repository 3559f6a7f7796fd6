import { tf } from "@fulmen/core";
import {
  GRU_CELL_GRAD_KERNEL,
  GRU_CELL_KERNEL,
  GRU_SEQUENCE_GRAD_KERNEL,
  GRU_SEQUENCE_KERNEL,
  LSTM_CELL_GRAD_KERNEL,
  LSTM_CELL_KERNEL,
  LSTM_SEQUENCE_GRAD_KERNEL,
  LSTM_SEQUENCE_KERNEL,
} from "@fulmen/core/plugin";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import { outputsOf } from "./kernel-outputs";
import type { NativeEngine } from "./native-engine";

// An LSTM or GRU time step's update is a few thousand elements of element-wise work; op by op it costs a dozen
// kernel dispatches and tape entries forward and twice that backward, which one native kernel each way removes
// (native/rnn_host.cc).

/** `[B, 4H]` gates and `[B, H]` cell state → `[h, cy, act]` (core's LSTM_CELL_KERNEL contract). */
function lstmCellKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { gates, c } = args.inputs as { gates: TensorInfo; c: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const [batch, width] = gates.shape as [number, number];
    const hidden = width / 4;
    const h = backend.allocate(Float32Array, batch * hidden);
    const cy = backend.allocate(Float32Array, batch * hidden);
    const act = backend.allocate(Float32Array, batch * 5 * hidden);
    engine.lstmCell(backend.floats(gates), backend.floats(c), h, cy, act, batch, hidden);
    return [
      backend.makeTensorInfo([batch, hidden], "float32", h),
      backend.makeTensorInfo([batch, hidden], "float32", cy),
      backend.makeTensorInfo([batch, 5 * hidden], "float32", act),
    ];
  };
}

/** `{dh, dcy, c, act}` → the gradient for `gates` or for `c` (core's LSTM_CELL_GRAD_KERNEL contract). */
function lstmCellGradKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { dh, dcy, c, act } = args.inputs as Record<"dh" | "dcy" | "c" | "act", TensorInfo>;
    const { wrt } = args.attrs as unknown as { wrt: "gates" | "c" };
    const backend = args.backend as HostEngineBackend;
    const [batch, hidden] = c.shape as [number, number];
    const shape = wrt === "gates" ? [batch, 4 * hidden] : [batch, hidden];
    const out = backend.allocate(Float32Array, shape[0]! * shape[1]!);
    const read = (t: TensorInfo) => backend.floats(t);
    engine.lstmCellGrad(read(dh), read(dcy), read(c), read(act), out, batch, hidden, wrt === "gates");
    return backend.makeTensorInfo(shape, "float32", out);
  };
}

/** `{gi, gh, h}` → `[hy, act]` (core's GRU_CELL_KERNEL contract). */
function gruCellKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { gi, gh, h } = args.inputs as { gi: TensorInfo; gh: TensorInfo; h: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const [batch, width] = gi.shape as [number, number];
    const hidden = width / 3;
    const hy = backend.allocate(Float32Array, batch * hidden);
    const act = backend.allocate(Float32Array, batch * width);
    engine.gruCell(backend.floats(gi), backend.floats(gh), backend.floats(h), hy, act, batch, hidden);
    return [
      backend.makeTensorInfo([batch, hidden], "float32", hy),
      backend.makeTensorInfo([batch, width], "float32", act),
    ];
  };
}

const GRU_GRAD_OF = { gi: 0, gh: 1, h: 2 } as const;

/** `{dhy, gh, h, act}` → the gradient for `gi`, `gh` or `h` (core's GRU_CELL_GRAD_KERNEL contract). */
function gruCellGradKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { dhy, gh, h, act } = args.inputs as Record<"dhy" | "gh" | "h" | "act", TensorInfo>;
    const { wrt } = args.attrs as unknown as { wrt: keyof typeof GRU_GRAD_OF };
    const backend = args.backend as HostEngineBackend;
    const [batch, hidden] = h.shape as [number, number];
    const shape = wrt === "h" ? [batch, hidden] : [batch, 3 * hidden];
    const out = backend.allocate(Float32Array, shape[0]! * shape[1]!);
    const read = (t: TensorInfo) => backend.floats(t);
    engine.gruCellGrad(read(dhy), read(gh), read(h), read(act), out, batch, hidden, GRU_GRAD_OF[wrt]);
    return backend.makeTensorInfo(shape, "float32", out);
  };
}

/** A sequence kernel's sizes from `gi [T, B, gates·H]`: steps, batch and hidden units. */
function sequenceShape(gi: TensorInfo, gates: number): [number, number, number] {
  const [steps, batch, width] = gi.shape as [number, number, number];
  return [steps, batch, width / gates];
}

/** `{gi, weightHh, biasHh?, h0, c0}` → `[output, hN, cN, cells, act]` (core's LSTM_SEQUENCE_KERNEL contract). */
function lstmSequenceKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { gi, weightHh, biasHh, h0, c0 } = args.inputs as Record<string, TensorInfo>;
    const backend = args.backend as HostEngineBackend;
    const [T, B, H] = sequenceShape(gi!, 4);
    const out = outputsOf(backend, [
      [T, B, H],
      [B, H],
      [B, H],
      [T, B, H],
      [T, B, 5 * H],
    ]);
    const [output, hN, cN, cells, act] = out.arrays as [Float32Array, ...Float32Array[]];
    const read = (t: TensorInfo) => backend.floats(t);
    const bias = biasHh === undefined ? null : read(biasHh);
    engine.lstmSequence(
      read(gi!),
      read(weightHh!),
      bias,
      read(h0!),
      read(c0!),
      output,
      hN!,
      cN!,
      cells!,
      act!,
      T,
      B,
      H,
      args.attrs?.reverse === true,
    );
    return out.infos();
  };
}

/** `{dOutput, dhN, dcN, weightHh, h0, c0, output, cells, act}` → `[dgi, dWeightHh, dBiasHh, dh0, dc0]`. */
function lstmSequenceGradKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const i = args.inputs as Record<string, TensorInfo>;
    const backend = args.backend as HostEngineBackend;
    const [T, B, H] = sequenceShape(i.act!, 5);
    const out = outputsOf(backend, [[T, B, 4 * H], [4 * H, H], [4 * H], [B, H], [B, H]]);
    const [dgi, dWeightHh, dBiasHh, dh0, dc0] = out.arrays as [Float32Array, ...Float32Array[]];
    const read = (name: string) => backend.floats(i[name]!);
    engine.lstmSequenceGrad(
      read("dOutput"),
      read("dhN"),
      read("dcN"),
      read("weightHh"),
      read("h0"),
      read("c0"),
      read("output"),
      read("cells"),
      read("act"),
      dgi,
      dWeightHh!,
      dBiasHh!,
      dh0!,
      dc0!,
      T,
      B,
      H,
      args.attrs?.reverse === true,
    );
    return out.infos();
  };
}

/** `{gi, weightHh, biasHh?, h0}` → `[output, hN, gh, act]` (core's GRU_SEQUENCE_KERNEL contract). */
function gruSequenceKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { gi, weightHh, biasHh, h0 } = args.inputs as Record<string, TensorInfo>;
    const backend = args.backend as HostEngineBackend;
    const [T, B, H] = sequenceShape(gi!, 3);
    const out = outputsOf(backend, [
      [T, B, H],
      [B, H],
      [T, B, 3 * H],
      [T, B, 3 * H],
    ]);
    const [output, hN, gh, act] = out.arrays as [Float32Array, ...Float32Array[]];
    const read = (t: TensorInfo) => backend.floats(t);
    const bias = biasHh === undefined ? null : read(biasHh);
    engine.gruSequence(
      read(gi!),
      read(weightHh!),
      bias,
      read(h0!),
      output,
      hN!,
      gh!,
      act!,
      T,
      B,
      H,
      args.attrs?.reverse === true,
    );
    return out.infos();
  };
}

/** `{dOutput, dhN, weightHh, h0, output, gh, act}` → `[dgi, dWeightHh, dBiasHh, dh0]`. */
function gruSequenceGradKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const i = args.inputs as Record<string, TensorInfo>;
    const backend = args.backend as HostEngineBackend;
    const [T, B, H] = sequenceShape(i.act!, 3);
    const out = outputsOf(backend, [[T, B, 3 * H], [3 * H, H], [3 * H], [B, H]]);
    const [dgi, dWeightHh, dBiasHh, dh0] = out.arrays as [Float32Array, ...Float32Array[]];
    const read = (name: string) => backend.floats(i[name]!);
    engine.gruSequenceGrad(
      read("dOutput"),
      read("dhN"),
      read("weightHh"),
      read("h0"),
      read("output"),
      read("gh"),
      read("act"),
      dgi,
      dWeightHh!,
      dBiasHh!,
      dh0!,
      T,
      B,
      H,
      args.attrs?.reverse === true,
    );
    return out.infos();
  };
}

/** Registers the engine's fused recurrent kernels (core's LSTM and GRU cell pairs) for `backendName`. */
export function registerRecurrentKernels(engine: NativeEngine, backendName: string): void {
  const kernels: Array<[string, KernelFunc]> = [
    [LSTM_CELL_KERNEL, lstmCellKernel(engine)],
    [LSTM_CELL_GRAD_KERNEL, lstmCellGradKernel(engine)],
    [GRU_CELL_KERNEL, gruCellKernel(engine)],
    [GRU_CELL_GRAD_KERNEL, gruCellGradKernel(engine)],
    [LSTM_SEQUENCE_KERNEL, lstmSequenceKernel(engine)],
    [LSTM_SEQUENCE_GRAD_KERNEL, lstmSequenceGradKernel(engine)],
    [GRU_SEQUENCE_KERNEL, gruSequenceKernel(engine)],
    [GRU_SEQUENCE_GRAD_KERNEL, gruSequenceGradKernel(engine)],
  ];
  for (const [kernelName, kernelFunc] of kernels) tf.registerKernel({ kernelName, backendName, kernelFunc });
}

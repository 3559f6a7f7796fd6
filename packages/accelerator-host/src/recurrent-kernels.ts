import { tf } from "@fulmen/core";
import {
  GRU_CELL_GRAD_KERNEL,
  GRU_CELL_KERNEL,
  LSTM_CELL_GRAD_KERNEL,
  LSTM_CELL_KERNEL,
} from "@fulmen/core/plugin";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";

// Hand-written here rather than in the C++ engine: an LSTM or GRU step's update is a few thousand elements of
// element-wise work (microseconds); what it costs op by op is a dozen kernel dispatches and tape entries per
// time step, forward and twice that backward, which one kernel each way removes.

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** `[B, 4H]` gates and `[B, H]` cell state → `[h, cy]` (core's LSTM_CELL_KERNEL contract). */
const lstmCellKernel: KernelFunc = (args) => {
  const { gates, c } = args.inputs as { gates: TensorInfo; c: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const [batch, width] = gates.shape as [number, number];
  const hidden = width / 4;
  const g = backend.floats(gates);
  const cPrev = backend.floats(c);
  const h = backend.allocate(Float32Array, batch * hidden);
  const cy = backend.allocate(Float32Array, batch * hidden);
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    for (let j = 0; j < hidden; j++) {
      const at = b * hidden + j;
      const cell =
        sigmoid(g[row + hidden + j]!) * cPrev[at]! +
        sigmoid(g[row + j]!) * Math.tanh(g[row + 2 * hidden + j]!);
      cy[at] = cell;
      // From the stored (rounded) cell state, as the op-by-op path computes tanh(cy).
      h[at] = sigmoid(g[row + 3 * hidden + j]!) * Math.tanh(cy[at]!);
    }
  }
  return [
    backend.makeTensorInfo([batch, hidden], "float32", h),
    backend.makeTensorInfo([batch, hidden], "float32", cy),
  ];
};

/** `{dh, dcy, gates, c, cy}` → the gradient for `gates` or for `c` (core's LSTM_CELL_GRAD_KERNEL contract). */
const lstmCellGradKernel: KernelFunc = (args) => {
  const inputs = args.inputs as Record<"dh" | "dcy" | "gates" | "c" | "cy", TensorInfo>;
  const { wrt } = args.attrs as unknown as { wrt: "gates" | "c" };
  const backend = args.backend as HostEngineBackend;
  const [batch, width] = inputs.gates.shape as [number, number];
  const hidden = width / 4;
  const [dh, dcy, g, cPrev, cy] = [inputs.dh, inputs.dcy, inputs.gates, inputs.c, inputs.cy].map((t) =>
    backend.floats(t),
  ) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const forGates = wrt === "gates";
  const out = backend.allocate(Float32Array, batch * (forGates ? width : hidden));
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    for (let j = 0; j < hidden; j++) {
      const at = b * hidden + j;
      const f = sigmoid(g[row + hidden + j]!);
      const o = sigmoid(g[row + 3 * hidden + j]!);
      const tc = Math.tanh(cy[at]!);
      // The gradient reaching the new cell state: its own, and through h = o·tanh(cy).
      const dCell = dcy[at]! + dh[at]! * o * (1 - tc * tc);
      if (!forGates) {
        out[at] = dCell * f;
        continue;
      }
      const i = sigmoid(g[row + j]!);
      const cand = Math.tanh(g[row + 2 * hidden + j]!);
      out[row + j] = dCell * cand * i * (1 - i);
      out[row + hidden + j] = dCell * cPrev[at]! * f * (1 - f);
      out[row + 2 * hidden + j] = dCell * i * (1 - cand * cand);
      out[row + 3 * hidden + j] = dh[at]! * tc * o * (1 - o);
    }
  }
  return backend.makeTensorInfo(forGates ? [batch, width] : [batch, hidden], "float32", out);
};

/** `{gi, gh, h}` → `hy` (core's GRU_CELL_KERNEL contract). */
const gruCellKernel: KernelFunc = (args) => {
  const { gi, gh, h } = args.inputs as { gi: TensorInfo; gh: TensorInfo; h: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const [batch, width] = gi.shape as [number, number];
  const hidden = width / 3;
  const [x, hp, hPrev] = [gi, gh, h].map((t) => backend.floats(t)) as [
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const hy = backend.allocate(Float32Array, batch * hidden);
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    for (let j = 0; j < hidden; j++) {
      const at = b * hidden + j;
      const r = sigmoid(x[row + j]! + hp[row + j]!);
      const z = sigmoid(x[row + hidden + j]! + hp[row + hidden + j]!);
      const n = Math.tanh(x[row + 2 * hidden + j]! + r * hp[row + 2 * hidden + j]!);
      hy[at] = (hPrev[at]! - n) * z + n;
    }
  }
  return backend.makeTensorInfo([batch, hidden], "float32", hy);
};

/** `{dhy, gi, gh, h}` → the gradient for `gi`, `gh` or `h` (core's GRU_CELL_GRAD_KERNEL contract). */
const gruCellGradKernel: KernelFunc = (args) => {
  const inputs = args.inputs as Record<"dhy" | "gi" | "gh" | "h", TensorInfo>;
  const { wrt } = args.attrs as unknown as { wrt: "gi" | "gh" | "h" };
  const backend = args.backend as HostEngineBackend;
  const [batch, width] = inputs.gi.shape as [number, number];
  const hidden = width / 3;
  const [dhy, x, hp, hPrev] = [inputs.dhy, inputs.gi, inputs.gh, inputs.h].map((t) => backend.floats(t)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const out = backend.allocate(Float32Array, batch * (wrt === "h" ? hidden : width));
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    for (let j = 0; j < hidden; j++) {
      const at = b * hidden + j;
      const z = sigmoid(x[row + hidden + j]! + hp[row + hidden + j]!);
      if (wrt === "h") {
        out[at] = dhy[at]! * z;
        continue;
      }
      const r = sigmoid(x[row + j]! + hp[row + j]!);
      const hn = hp[row + 2 * hidden + j]!;
      const n = Math.tanh(x[row + 2 * hidden + j]! + r * hn);
      // Through n's pre-activation (gi_n + r·gh_n), then r's and z's.
      const dnPre = dhy[at]! * (1 - z) * (1 - n * n);
      out[row + j] = dnPre * hn * r * (1 - r);
      out[row + hidden + j] = dhy[at]! * (hPrev[at]! - n) * z * (1 - z);
      out[row + 2 * hidden + j] = wrt === "gi" ? dnPre : dnPre * r;
    }
  }
  return backend.makeTensorInfo(wrt === "h" ? [batch, hidden] : [batch, width], "float32", out);
};

/** Registers the engine's fused recurrent kernels (core's LSTM and GRU cell pairs) for `backendName`. */
export function registerRecurrentKernels(backendName: string): void {
  tf.registerKernel({ kernelName: LSTM_CELL_KERNEL, backendName, kernelFunc: lstmCellKernel });
  tf.registerKernel({ kernelName: LSTM_CELL_GRAD_KERNEL, backendName, kernelFunc: lstmCellGradKernel });
  tf.registerKernel({ kernelName: GRU_CELL_KERNEL, backendName, kernelFunc: gruCellKernel });
  tf.registerKernel({ kernelName: GRU_CELL_GRAD_KERNEL, backendName, kernelFunc: gruCellGradKernel });
}

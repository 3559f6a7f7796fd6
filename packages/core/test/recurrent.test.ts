import { describe, expect, it } from "vitest";
import { backward, FulmenError, manualSeed, nn, SGD, tf } from "../src/index";

function close(a: tf.Tensor, b: tf.Tensor, tol = 1e-5): void {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [a.dataSync(), b.dataSync()];
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThanOrEqual(tol);
}

/** Copies a sequence layer's layer-0 forward weights into a cell (PyTorch's names, without the _l0 suffix). */
function cellFrom(layer: nn.Module, cell: nn.Module): void {
  const sd = layer.stateDict();
  const keys = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"];
  cell.loadStateDict(Object.fromEntries(keys.map((k) => [k, sd[`${k}_l0`]!])), { strict: true });
}

describe("nn.RNN / LSTM / GRU: PyTorch's parameters", () => {
  it("names, orders and shapes the parameters as PyTorch's state dict, projections and _reverse included", () => {
    const lstm = new nn.LSTM(3, 5, { numLayers: 2, bidirectional: true, projSize: 2 });
    const shapes = lstm.namedParameters().map(([k, p]) => `${k}:${p.shape.join("x")}`);
    const layer = (l: number, s: string, input: number) => [
      `weight_ih_l${l}${s}:20x${input}`,
      `weight_hh_l${l}${s}:20x2`,
      `bias_ih_l${l}${s}:20`,
      `bias_hh_l${l}${s}:20`,
      `weight_hr_l${l}${s}:2x5`,
    ];
    expect(shapes).toEqual([
      ...layer(0, "", 3),
      ...layer(0, "_reverse", 3),
      ...layer(1, "", 4),
      ...layer(1, "_reverse", 4),
    ]);
    expect(Object.keys(new nn.GRU(3, 4, { bias: false }).stateDict())).toEqual([
      "weight_ih_l0",
      "weight_hh_l0",
    ]);
    expect(new nn.RNN(3, 4).namedParameters().map(([k, p]) => `${k}:${p.shape}`)).toEqual([
      "weight_ih_l0:4,3",
      "weight_hh_l0:4,4",
      "bias_ih_l0:4",
      "bias_hh_l0:4",
    ]);
    expect(Object.keys(new nn.GRUCell(3, 4).stateDict())).toEqual([
      "weight_ih",
      "weight_hh",
      "bias_ih",
      "bias_hh",
    ]);
    expect(new nn.LSTMCell(3, 4).weight_ih.shape).toEqual([16, 3]);
  });

  it("initialises every parameter from U(±1/√hidden) with the seeded generator", () => {
    manualSeed(11);
    const a = new nn.GRU(3, 16, { numLayers: 2 });
    manualSeed(11);
    const b = new nn.GRU(3, 16, { numLayers: 2 });
    const bound = 1 / Math.sqrt(16);
    for (const [[, p], [, q]] of a.namedParameters().map((e, i) => [e, b.namedParameters()[i]!] as const)) {
      const values = Array.from(p.data.dataSync());
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(bound * 0.8);
      expect(values).toEqual(Array.from(q.data.dataSync()));
    }
    a.dispose();
    b.dispose();
  });
});

describe("nn.RNN / LSTM / GRU: forward", () => {
  it("LSTM equals a loop of LSTMCell with the same weights, hN and cN included, and so do their gradients", () => {
    manualSeed(2);
    const lstm = new nn.LSTM(3, 4);
    const cell = new nn.LSTMCell(3, 4);
    cellFrom(lstm, cell);
    const x = tf.randomNormal([5, 2, 3], 0, 1, "float32", 1);
    const h0 = tf.randomNormal([1, 2, 4], 0, 1, "float32", 2);
    const c0 = tf.randomNormal([1, 2, 4], 0, 1, "float32", 3);
    const w = tf.randomNormal([2, 4], 0, 1, "float32", 4);
    // the loss weighs hN and cN differently, so the cell state's own gradient path is checked
    const viaLayer = tf.grads((xs: tf.Tensor, c: tf.Tensor) => {
      const [, [hN, cN]] = lstm.forward(xs, [h0, c]);
      return tf.add(tf.sum(tf.mul(hN, w)), tf.sum(tf.mul(cN, tf.square(w))));
    })([x, c0]);
    const viaCell = tf.grads((xs: tf.Tensor, c: tf.Tensor) => {
      let state: [tf.Tensor, tf.Tensor] = [tf.squeeze(h0, [0]), tf.squeeze(c, [0])];
      for (const xt of tf.unstack(xs)) state = cell.forward(xt, state);
      return tf.add(tf.sum(tf.mul(state[0], w)), tf.sum(tf.mul(state[1], tf.square(w))));
    })([x, c0]);
    close(viaLayer[0]!, viaCell[0]!);
    close(viaLayer[1]!, viaCell[1]!);
    const [out, [hN, cN]] = lstm.forward(x, [h0, c0]);
    let state: [tf.Tensor, tf.Tensor] = [tf.squeeze(h0, [0]), tf.squeeze(c0, [0])];
    for (const xt of tf.unstack(x)) state = cell.forward(xt, state);
    close(hN, tf.expandDims(state[0], 0));
    close(cN, tf.expandDims(state[1], 0));
    close(tf.slice(out, [4, 0, 0], [1, 2, 4]), hN);
  });

  it("GRU and RNN(relu) equal loops of GRUCell and RNNCell", () => {
    manualSeed(4);
    const x = tf.randomNormal([4, 3, 2], 0, 1, "float32", 5);
    for (const [layer, cell] of [
      [new nn.GRU(2, 3), new nn.GRUCell(2, 3)],
      [new nn.RNN(2, 3, { nonlinearity: "relu" }), new nn.RNNCell(2, 3, { nonlinearity: "relu" })],
    ] as const) {
      cellFrom(layer, cell);
      const [out, hN] = layer.forward(x);
      let h: tf.Tensor | undefined;
      const steps = tf.unstack(x).map((xt) => {
        h = cell.forward(xt, h);
        return h;
      });
      close(out, tf.stack(steps));
      close(hN, tf.expandDims(h!, 0));
    }
  });

  it("runs the reverse direction backwards in time and lays out batchFirst and unbatched inputs as PyTorch", () => {
    manualSeed(6);
    const gru = new nn.GRU(2, 3, { bidirectional: true, numLayers: 2, batchFirst: true });
    const x = tf.randomNormal([2, 5, 2], 0, 1, "float32", 8);
    const [out, hN] = gru.forward(x);
    expect(out.shape).toEqual([2, 5, 6]);
    expect(hN.shape).toEqual([4, 2, 3]);
    // last layer: forward direction ends at the last step, the reverse one at the first
    close(
      tf.squeeze(tf.slice(out, [0, 4, 0], [2, 1, 3]), [1]),
      tf.squeeze(tf.slice(hN, [2, 0, 0], [1, 2, 3]), [0]),
    );
    close(
      tf.squeeze(tf.slice(out, [0, 0, 3], [2, 1, 3]), [1]),
      tf.squeeze(tf.slice(hN, [3, 0, 0], [1, 2, 3]), [0]),
    );
    // an unbatched [T, I] sequence is the batch's first row, whatever batchFirst says
    const [one, hOne] = gru.forward(tf.squeeze(tf.slice(x, [0, 0, 0], [1, 5, 2]), [0]));
    close(one, tf.squeeze(tf.slice(out, [0, 0, 0], [1, 5, 6]), [0]));
    close(hOne, tf.squeeze(tf.slice(hN, [0, 0, 0], [4, 1, 3]), [1]));
  });

  it("applies dropout between layers in training only, never after the last layer, from the seeded generator", () => {
    manualSeed(9);
    const x = tf.randomNormal([6, 4, 3], 0, 1, "float32", 10);
    const deep = new nn.LSTM(3, 8, { numLayers: 2, dropout: 0.5 });
    const evalOut = deep.eval().forward(x)[0];
    deep.train();
    manualSeed(1);
    const trainA = deep.forward(x)[0];
    manualSeed(1);
    const trainB = deep.forward(x)[0];
    close(trainA, trainB, 0);
    expect(tf.max(tf.abs(tf.sub(trainA, evalOut))).dataSync()[0]!).toBeGreaterThan(1e-3);
    // one layer: nothing follows it, so dropout changes nothing (PyTorch only warns)
    const single = new nn.GRU(3, 8, { dropout: 0.5 });
    close(single.train().forward(x)[0], single.eval().forward(x)[0], 0);
  });
});

describe("nn.RNN / LSTM / GRU: errors name the problem and the fix", () => {
  it("refuses bad options and shapes", () => {
    const err = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(FulmenError);
      expect(f).toThrow(re);
    };
    err(() => new nn.RNN(3, 4, { nonlinearity: "sigmoid" as "tanh" }), /use 'tanh' or 'relu'/);
    err(() => new nn.GRU(3, 4, { projSize: 2 } as object), /unknown option 'projSize'/);
    err(() => new nn.LSTM(3, 4, { projSize: 4 }), /projSize .* below hiddenSize \(4\)/);
    err(() => new nn.LSTM(3, 4, { num_layers: 2 } as object), /did you mean 'numLayers'/);
    err(() => new nn.LSTM(3, 4, { dropout: 1.5 }), /dropout/);
    err(() => new nn.LSTM(3, 0), /hiddenSize/);
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    err(() => lstm.forward(tf.zeros([5, 2, 7])), /last dimension is 7 .* inputSize is 3/);
    err(() => lstm.forward(tf.zeros([1, 5, 2, 3])), /3-D input .* unbatched 2-D/);
    err(
      () => lstm.forward(tf.zeros([5, 2, 3]), [tf.zeros([1, 2, 4]), tf.zeros([2, 2, 4])]),
      /h0 must have shape \[2,2,4\]/,
    );
    err(
      () => lstm.forward(tf.zeros([5, 3]), [tf.zeros([2, 1, 4]), tf.zeros([2, 1, 4])]),
      /h0 must have shape \[2,4\]/,
    );
    err(() => lstm.forward(tf.zeros([5, 2, 3]), tf.zeros([2, 2, 4]) as never), /pair \[h0, c0\]/);
    err(() => new nn.GRUCell(3, 4).forward(tf.zeros([2, 3]), tf.zeros([3, 4])), /hx must have shape \[2,4\]/);
    err(() => new nn.LSTMCell(3, 4).forward(tf.zeros([2, 2, 3])), /expected an input \[batch, 3\]/);
  });
});

describe("nn.LSTM / GRU: training", () => {
  it("trains through the time loop with every parameter's gradient and no leaked tensors", () => {
    manualSeed(12);
    const lstm = new nn.LSTM(3, 6, { numLayers: 2, bidirectional: true, batchFirst: true, dropout: 0.2 });
    const gru = new nn.GRUCell(12, 2);
    const parameters = [...lstm.parameters(), ...gru.parameters()];
    const optimizer = new SGD(parameters, { lr: 0.1 });
    const x = tf.randomNormal([4, 5, 3], 0, 1, "float32", 13);
    const y = tf.randomNormal([4, 2], 0, 1, "float32", 14);
    const losses: number[] = [];
    const step = () => {
      optimizer.zeroGrad();
      const loss = backward(() => {
        const [out] = lstm.forward(x);
        const last = tf.squeeze(tf.slice(out, [0, 4, 0], [4, 1, 12]), [1]);
        return tf.mean(tf.square(tf.sub(gru.forward(last), y))) as tf.Scalar;
      }, parameters);
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      optimizer.step();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    for (const p of parameters) expect(p.grad).not.toBeNull();
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    optimizer.disposeState();
    lstm.dispose();
    gru.dispose();
    tf.dispose([x, y]);
  });
});

import { type Module, nn } from "@fulmen/core";

const ACTIVATIONS: Record<string, () => Module> = {
  Tanh: () => new nn.Tanh(),
  ReLU: () => new nn.ReLU(),
  GELU: () => new nn.GELU(),
  Sigmoid: () => new nn.Sigmoid(),
  Identity: () => new nn.Identity(),
};

/**
 * Builds the `nn.Sequential` a golden file describes, e.g.
 * `"Sequential(Linear(8,16), Tanh, Linear(16,16), ReLU, Linear(16,4)); PyTorch layout: weight [out, in]"`.
 */
export function buildSequential(spec: string): nn.Sequential {
  const match = /Sequential\((.*)\)/.exec(spec.split(";")[0] ?? "");
  if (match === null) throw new Error(`cannot read the model '${spec}': expected "Sequential(...)"`);
  const layers: Module[] = [];
  for (const raw of match[1]!.split(/,(?![^(]*\))/)) {
    const part = raw.trim();
    const linear = /^Linear\((\d+),\s*(\d+)\)$/.exec(part);
    if (linear !== null) {
      layers.push(new nn.Linear(Number(linear[1]), Number(linear[2])));
      continue;
    }
    const activation = ACTIVATIONS[part.replace(/\(\)$/, "")];
    if (activation === undefined) {
      throw new Error(
        `cannot build layer '${part}'; known: Linear(in,out), ${Object.keys(ACTIVATIONS).join(", ")}`,
      );
    }
    layers.push(activation());
  }
  return new nn.Sequential(...layers);
}

import { describe, expect, it } from "vitest";
import { trainWithFabric } from "../src/conversion/fabric-loop";
import { trainPlain } from "../src/conversion/plain-loop";
import { loadMnist } from "../src/data/mnist";
import { MnistDataset } from "../src/data/mnist-dataset";

describe("the conversion example", () => {
  it("trains the same weights, bit for bit, with and without Fabric", async () => {
    const { train } = loadMnist();
    const subset = new MnistDataset({
      images: train.images.subarray(0, 256 * 784),
      labels: train.labels.subarray(0, 256),
      size: 256,
    });
    const plain = await trainPlain(subset, 2);
    const fabric = await trainWithFabric(subset, 2);
    const a = plain.parameters().map((p) => Array.from(p.data.dataSync()));
    const b = fabric.parameters().map((p) => Array.from(p.data.dataSync()));
    expect(b).toEqual(a);
    const untrained = await trainPlain(subset, 0);
    expect(untrained.parameters()[0]!.data.dataSync()).not.toEqual(plain.parameters()[0]!.data.dataSync());
  });
});

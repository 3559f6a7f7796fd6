import { type Accelerator, tf } from "@fulmen/core";
import { acceleratorRegistry } from "@fulmen/core/plugin";

/** The pure-JavaScript `cpu` backend of tfjs: always available, one device. */
export class CpuAccelerator implements Accelerator {
  readonly name: string = "cpu";
  readonly backendName: string = "cpu";
  /** tfjs's cpu kernels run one fixed sequence of operations per call: results are bit-identical run to run. */
  readonly deterministic: boolean = true;

  isAvailable(): boolean {
    return tf.findBackendFactory("cpu") !== null;
  }

  autoDeviceCount(): number {
    return 1;
  }

  async setup(): Promise<void> {
    await tf.setBackend(this.backendName);
    await tf.ready();
  }

  teardown(): void {}
}

acceleratorRegistry.register("cpu", () => new CpuAccelerator(), {
  description: "tfjs's pure-JavaScript cpu backend",
  packageName: "@fulmen/fabric",
});

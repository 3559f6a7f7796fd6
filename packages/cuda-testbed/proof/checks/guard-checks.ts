import { tf } from "@fulmen/core";
import { assert, type CheckRun } from "../harness";

/** The engine refuses a freed device address instead of touching it. */
export async function guardChecks(run: CheckRun): Promise<void> {
  await run.check("a freed block is refused, naming the call", () => {
    const x = tf.tensor([1, 2, 3]);
    const address = run.device.address(x);
    x.dispose();
    let message = "";
    try {
      run.device.device.unary(0, address, address, 3);
    } catch (error) {
      message = (error as Error).message;
    }
    assert(/unary: argument \d is not a live device block/.test(message), () => `got "${message}"`);
  });
}

// The examples register the native engine, as their entry scripts do; "auto" must then pick it wherever its addon
// built, and wasm where it did not (a machine without a compiler or OpenBLAS).
import "@fulmen/accelerator-host";
import { acceleratorRegistry } from "@fulmen/core/plugin";

/** The accelerator `accelerator: "auto"` should choose on this machine for the examples. */
export function fastestAccelerator(): "host" | "wasm" {
  return acceleratorRegistry.create("host").isAvailable() ? "host" : "wasm";
}

import { type Accelerator, FulmenError } from "@fulmen/core";
import { acceleratorRegistry } from "@fulmen/core/plugin";
import { ACCELERATOR_PACKAGES, ENGINE_PACKAGES } from "./known-plugins";
import { loadPluginPackage } from "./plugin-packages";

/**
 * Order in which `accelerator: "auto"` tries accelerators: the fastest registered and available one wins
 * (`host` exists once `@fulmen/accelerator-host` is loaded and `cuda` once `@fulmen/accelerator-cuda` is, which "auto" does when they are installed).
 */
const AUTO_ACCELERATOR_ORDER = ["cuda", "host", "wasm", "cpu"];

/**
 * Accelerators that should run wherever their package is installed (a CPU engine; a GPU engine is expected to
 * be unavailable on machines without a GPU): "auto" warns when it has to pass one over.
 */
const EXPECTED_WHERE_INSTALLED = new Set(["host"]);

/** Outcome of loading each plugin package by name, once per process: a load that failed is not retried. */
const packageLoads = new Map<string, { installed: boolean; error?: Error }>();

/** Loads `packageName` once if it is installed; remembers whether it was, and what went wrong. */
function loadOnce(packageName: string): { installed: boolean; error?: Error } {
  let outcome = packageLoads.get(packageName);
  if (outcome === undefined) {
    try {
      outcome = { installed: loadPluginPackage(packageName) };
    } catch (error) {
      outcome = { installed: true, error: error instanceof Error ? error : new Error(String(error)) };
    }
    packageLoads.set(packageName, outcome);
  }
  return outcome;
}

/** Messages already printed in this process: a warning is given once, not per Fabric. */
const warned = new Set<string>();

/** Prints `message` once per process, on each machine's first process only (not once per local rank). */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  const localRank = process.env.LOCAL_RANK;
  if (localRank === undefined || localRank === "" || localRank === "0") console.warn(`Warning: ${message}`);
}

/** Creates the accelerator registered as `name`, loading the package that provides it when it is installed. */
function createAccelerator(name: string): Accelerator {
  const packageName = ACCELERATOR_PACKAGES[name];
  if (!acceleratorRegistry.has(name) && packageName !== undefined) {
    const { error } = loadOnce(packageName);
    if (error !== undefined)
      throw new FulmenError(
        `The accelerator "${name}" is provided by ${packageName}, which is installed but failed to load ` +
          `(${error.message}). Reinstall it (npm rebuild ${packageName}), or choose another accelerator.`,
      );
  }
  return acceleratorRegistry.create(name);
}

/**
 * `accelerator: "auto"`: loads the installed engine packages, then takes the fastest available accelerator.
 * Passing over an engine that is installed but cannot run here (its native addon did not build) is said once,
 * with the reason and the fix; a machine without the engine package runs on wasm (or cpu) quietly.
 */
function resolveAutoAccelerator(): Accelerator {
  const passedOver: string[] = [];
  for (const packageName of ENGINE_PACKAGES) {
    const provided = Object.keys(ACCELERATOR_PACKAGES).filter((n) => ACCELERATOR_PACKAGES[n] === packageName);
    if (provided.some((n) => acceleratorRegistry.has(n))) continue;
    const { error } = loadOnce(packageName);
    if (error !== undefined)
      passedOver.push(`${packageName} is installed but failed to load (${error.message})`);
  }
  for (const name of AUTO_ACCELERATOR_ORDER) {
    if (!acceleratorRegistry.has(name)) continue;
    const accelerator = acceleratorRegistry.create(name);
    if (accelerator.isAvailable()) {
      if (passedOver.length > 0)
        warnOnce(
          `accelerator "auto" runs on "${name}": ${passedOver.join("; ")}. ` +
            `Set accelerator: "${name}" to choose it yourself and silence this message.`,
        );
      return accelerator;
    }
    if (EXPECTED_WHERE_INSTALLED.has(name)) {
      // The reason ends a sentence of its own; this message goes on after it.
      const reason = (accelerator.unavailableReason?.() ?? "it is not available on this machine").replace(
        /\.\s*$/,
        "",
      );
      const from = acceleratorRegistry.list().find((e) => e.name === name)?.packageName ?? "its package";
      passedOver.push(`the "${name}" accelerator of ${from} cannot run here: ${reason}`);
    }
  }
  throw new FulmenError(
    'accelerator "auto" found no usable accelerator; is @tensorflow/tfjs-backend-cpu installed?',
  );
}

/**
 * The accelerator Fabric's `accelerator` option names: an instance as given, `"auto"` as above, or a registered
 * name (loading the package that provides it when it is installed), which must be available here.
 */
export function resolveAccelerator(input: string | Accelerator): Accelerator {
  if (typeof input !== "string") return input;
  if (input === "auto") return resolveAutoAccelerator();
  const accelerator = createAccelerator(input);
  if (!accelerator.isAvailable()) {
    const reason = accelerator.unavailableReason?.();
    throw new FulmenError(
      `The accelerator "${input}" is not available on this machine${reason ? `: ${reason}` : "."}`,
    );
  }
  return accelerator;
}

import { type Accelerator, FulmenError, type Precision, type Strategy } from "@fulmen/core";
import { precisionRegistry } from "@fulmen/core/plugin";
import "@fulmen/precision";
import "../accelerators/cpu-accelerator";
import "../accelerators/wasm/wasm-accelerator";
import "../strategies/ddp/ddp-strategy";
import "../strategies/single-device-strategy";
import { createStrategy } from "../strategies/strategy-packages";
import { resolveAccelerator } from "./accelerator-choice";
import "./known-plugins";

/** Lightning's precision inputs, including its aliases (`16` → `"16-mixed"`, `"bf16"` → `"bf16-mixed"`). */
export type PrecisionInput = string | 16 | 32 | 64 | Precision;

const PRECISION_ALIASES: Record<string, string> = {
  "16": "16-mixed",
  "32": "32-true",
  "64": "64-true",
  bf16: "bf16-mixed",
};

/** What the connector chose. */
export interface Connection {
  /** The accelerator chosen, already checked to be available. */
  accelerator: Accelerator;
  /** The strategy chosen, already connected to the accelerator and the precision plugin. */
  strategy: Strategy;
  /** The precision plugin chosen. */
  precision: Precision;
  /** The number of devices (processes) per node, with `"auto"` and -1 resolved to a count. */
  devices: number;
  /** The number of nodes in the run. */
  numNodes: number;
}

/** The connector's inputs (Fabric's constructor options that choose plugins). */
export interface ConnectorOptions {
  /**
   * The accelerator: a registered name (`"cpu"`, `"wasm"`, `"cuda"`, …) or an instance. Default `"auto"`,
   * the fastest registered accelerator that is available here.
   */
  accelerator?: string | Accelerator;
  /**
   * The strategy: a registered name (`"ddp"`, …) or an instance. Default `"auto"`: `"ddp"` when
   * devices × numNodes is above 1, else `"single_device"`.
   */
  strategy?: string | Strategy;
  /**
   * Devices (processes) per node: a positive integer, -1 for all, or `"auto"` (the accelerator's own count).
   * Default `"auto"`.
   */
  devices?: number | "auto";
  /** The number of nodes (machines) in the run. Default 1. */
  numNodes?: number;
  /** The precision: a name (`"32-true"`, `"bf16-mixed"`, …), an alias, or a plugin. Default `"32-true"`. */
  precision?: PrecisionInput;
}

function resolvePrecision(input: PrecisionInput): Precision {
  if (typeof input === "object") return input;
  const name = PRECISION_ALIASES[String(input)] ?? String(input);
  return precisionRegistry.create(name);
}

function resolveDevices(input: number | "auto", accelerator: Accelerator): number {
  if (input === "auto") return accelerator.autoDeviceCount();
  if (input === -1) return accelerator.autoDeviceCount();
  if (!Number.isInteger(input) || input < 1) {
    throw new FulmenError(`devices must be a positive integer, -1 (all) or "auto", got ${String(input)}.`);
  }
  return input;
}

function resolveStrategy(input: string | Strategy, devices: number, numNodes: number): Strategy {
  if (typeof input !== "string") return input;
  const name = input === "auto" ? (devices * numNodes > 1 ? "ddp" : "single_device") : input;
  return createStrategy(name);
}

/** Variables through which `fulmen run --accelerator … --devices …` passes its choices to the script. */
const CLI_VARIABLES = {
  accelerator: "FULMEN_ACCELERATOR",
  strategy: "FULMEN_STRATEGY",
  devices: "FULMEN_DEVICES",
  numNodes: "FULMEN_NUM_NODES",
  precision: "FULMEN_PRECISION",
} as const;

/**
 * Applies the `fulmen run` flags: a flag fills an option the code leaves unset; a flag that contradicts the code
 * is an error (as Lightning's `fabric run` does), so a script never silently runs differently from what it says.
 */
export function applyCliOverrides(
  options: ConnectorOptions,
  env: NodeJS.ProcessEnv = process.env,
): ConnectorOptions {
  const out: ConnectorOptions = { ...options };
  for (const [key, variable] of Object.entries(CLI_VARIABLES) as Array<[keyof ConnectorOptions, string]>) {
    const raw = env[variable];
    if (raw === undefined || raw === "") continue;
    const fromCli: string | number =
      ["devices", "numNodes"].includes(key) && raw !== "auto" ? Number(raw) : raw;
    const inCode = options[key];
    if (
      inCode !== undefined &&
      inCode !== "auto" &&
      typeof inCode !== "object" &&
      String(inCode) !== String(fromCli)
    )
      throw new FulmenError(
        `Your code sets ${key}: ${JSON.stringify(inCode)} but \`fulmen run\` was given ${JSON.stringify(fromCli)} (${variable}); remove one of them.`,
      );
    (out as Record<string, unknown>)[key] = fromCli;
  }
  return out;
}

/** Turns Fabric's strings into plugins, as Lightning's accelerator connector does, and connects them. */
export function connect(given: ConnectorOptions): Connection {
  const options = applyCliOverrides(given);
  const numNodes = options.numNodes ?? 1;
  if (!Number.isInteger(numNodes) || numNodes < 1) {
    throw new FulmenError(`numNodes must be a positive integer, got ${String(numNodes)}.`);
  }
  const accelerator = resolveAccelerator(options.accelerator ?? "auto");
  const devices = resolveDevices(options.devices ?? "auto", accelerator);
  const precision = resolvePrecision(options.precision ?? "32-true");
  const strategy = resolveStrategy(options.strategy ?? "auto", devices, numNodes);
  strategy.configureWorld?.({ devices, numNodes });
  if (strategy.worldSize !== devices * numNodes) {
    throw new FulmenError(
      `The strategy "${strategy.name}" runs ${strategy.worldSize} process(es) but devices × numNodes is ${devices * numNodes}. Choose devices: 1, or a distributed strategy.`,
    );
  }
  strategy.connect(accelerator, precision);
  return { accelerator, strategy, precision, devices, numNodes };
}

/**
 * Fulmen in one import, as Lightning's `lightning` package: core (tensors, `nn`, optimizers, schedulers, data,
 * checkpoints), precision plugins, Fabric and the Trainer, with the native CPU engine (`accelerator: "host"`,
 * which `"auto"` prefers) and the Gloo collectives (multi-process strategies) registered on import. Each part stays
 * installable on its own (`@fulmen/core`, `@fulmen/fabric`, ...), for a project that wants less.
 */
import "@fulmen/accelerator-host";
import "@fulmen/collective-gloo";

export * from "@fulmen/core";
export * from "@fulmen/fabric";
export * from "@fulmen/precision";
export * from "@fulmen/trainer";

import type { HookName } from "./callbacks/callback";
import type { Trainer } from "./trainer";

/** Callbacks that decide on the epoch's metrics, so they run after the module's own epoch-end hooks. */
const MONITORING = new Set(["ModelCheckpoint", "EarlyStopping"]);

/**
 * Calls `hook` on every callback and then on the module, in Lightning's order: at the end of a training epoch
 * or of validation the monitoring callbacks (ModelCheckpoint, EarlyStopping) come last, after the metrics the
 * module logs in its own hook.
 */
export function callHook(trainer: Trainer, hook: HookName, ...args: unknown[]): void {
  const module = trainer.lightningModule;
  const monitoringLast = hook === "onTrainEpochEnd" || hook === "onValidationEnd";
  const isMonitoring = (c: object) => MONITORING.has(c.constructor.name);
  const first = monitoringLast ? trainer.callbacks.filter((c) => !isMonitoring(c)) : trainer.callbacks;
  for (const c of first) (c[hook] as (...a: unknown[]) => void).call(c, trainer, module, ...args);
  const moduleHook = (module as unknown as Record<string, unknown>)[hook];
  if (typeof moduleHook === "function") moduleHook.apply(module, args);
  if (monitoringLast) {
    for (const c of trainer.callbacks.filter(isMonitoring)) {
      (c[hook] as (...a: unknown[]) => void).call(c, trainer, module, ...args);
    }
  }
}

import { FulmenError } from "@fulmen/core";
import { checkNumber, describeValue } from "@fulmen/core/plugin";

/**
 * The range checks of the Trainer's flags, one rule per flag as Lightning's (`max_epochs` ≥ -1, `max_steps` ≥ -1,
 * `accumulate_grad_batches` ≥ 1, batch limits a fraction in [0, 1] or a whole number, …). Each failure is a
 * FulmenError naming the flag, the value given and what it must be.
 */
const OWNER = "Trainer";

const isInt = (v: number) => Number.isInteger(v);

/** An integer of at least `min` (Lightning's -1 meaning "no limit" where `min` is -1), or null where allowed. */
export function checkInt(name: string, value: unknown, min: number, rule: string, nullable = false): void {
  if (value === undefined || (nullable && value === null)) return;
  checkNumber(OWNER, name, value as number, (v) => isInt(v) && v >= min, rule);
}

/**
 * A batch count or fraction, as Lightning's `_determine_batch_limits`: a fraction in [0, 1] or a whole number of
 * batches. (JavaScript has one number type, so `1` is Lightning's `1.0`: every batch.)
 */
export function checkBatchLimit(name: string, value: unknown): void {
  if (value === undefined) return;
  checkNumber(
    OWNER,
    name,
    value as number,
    (v) => v >= 0 && (v <= 1 || isInt(v)) && Number.isFinite(v),
    "a fraction in [0, 1] or a whole number of batches",
  );
}

/**
 * `valCheckInterval`: a fraction of the epoch in [0, 1] or a whole number of training batches, as Lightning's
 * `_determine_batch_limits` (0 is its 0.0: a validation after every batch). Lightning's time intervals
 * ("DD:HH:MM:SS") are not implemented and are refused as such.
 */
export function checkValCheckInterval(value: unknown): void {
  if (value === undefined) return;
  if (typeof value === "string" || (typeof value === "object" && value !== null))
    throw new FulmenError(
      `${OWNER}: invalid valCheckInterval ${describeValue(value)}; validation by elapsed time is not implemented, give a fraction of the epoch in [0, 1] or a whole number of training batches.`,
    );
  checkNumber(
    OWNER,
    "valCheckInterval",
    value as number,
    (v) => v >= 0 && (v <= 1 || isInt(v)) && Number.isFinite(v),
    "a fraction of the epoch in [0, 1] or a whole number of training batches",
  );
}

/** A flag that takes one of a few values. */
export function checkChoice(name: string, value: unknown, choices: readonly unknown[]): void {
  if (value === undefined || choices.includes(value)) return;
  throw new FulmenError(
    `${OWNER}: invalid ${name} ${describeValue(value)}; it must be ${choices
      .map((c) => (typeof c === "string" ? `"${c}"` : String(c)))
      .join(", ")
      .replace(/, ([^,]*)$/, " or $1")}.`,
  );
}

/** A flag that is a string (a name or a path). */
export function checkString(name: string, value: unknown, what: string): void {
  if (value === undefined || typeof value === "string") return;
  throw new FulmenError(`${OWNER}: invalid ${name} ${describeValue(value)}; it must be ${what}.`);
}

/** A flag that is a registered name or a plugin instance (accelerator, strategy). */
export function checkNameOrInstance(name: string, value: unknown, what: string): void {
  if (value === undefined || typeof value === "string" || (typeof value === "object" && value !== null))
    return;
  throw new FulmenError(`${OWNER}: invalid ${name} ${describeValue(value)}; it must be ${what}.`);
}

/** `fastDevRun`: true (1 batch), false, or a number of batches ≥ 0. */
export function checkFastDevRun(value: unknown): void {
  if (value === undefined || typeof value === "boolean") return;
  checkNumber(
    OWNER,
    "fastDevRun",
    value as number,
    (v) => isInt(v) && v >= 0,
    "true, false or a whole number of batches >= 0",
  );
}

/** `gradientClipVal`: null (no clipping) or a finite number ≥ 0 (0 clips nothing, as in Lightning). */
export function checkClipValue(value: unknown): void {
  if (value === undefined || value === null) return;
  checkNumber(
    OWNER,
    "gradientClipVal",
    value as number,
    (v) => Number.isFinite(v) && v >= 0,
    "a number >= 0 or null",
  );
}

/** `devices`: a positive integer, -1 (all) or "auto"; `numNodes`: a positive integer. */
export function checkDevices(devices: unknown, numNodes: unknown): void {
  if (devices !== undefined && devices !== "auto")
    checkNumber(
      OWNER,
      "devices",
      devices as number,
      (v) => isInt(v) && (v >= 1 || v === -1),
      'a positive integer, -1 (all) or "auto"',
    );
  checkInt("numNodes", numNodes, 1, "a positive integer");
}

/** `callbacks`: a callback object or an array of them (as Lightning's); `logger`: true, false, a Logger or an array of them. */
export function checkCallbacksAndLogger(callbacks: unknown, logger: unknown): void {
  const list: unknown[] = Array.isArray(callbacks) ? callbacks : [callbacks];
  if (callbacks !== undefined && list.some((c) => typeof c !== "object" || c === null || Array.isArray(c)))
    throw new FulmenError(
      `${OWNER}: invalid callbacks ${describeValue(callbacks)}; it must be a Callback instance or an array of them.`,
    );
  if (logger === undefined || typeof logger === "boolean") return;
  const loggers: unknown[] = Array.isArray(logger) ? logger : [logger];
  if (loggers.some((l) => typeof (l as { logMetrics?: unknown } | null)?.logMetrics !== "function"))
    throw new FulmenError(
      `${OWNER}: invalid logger ${describeValue(logger)}; it must be true, false, a Logger (TensorBoardLogger, CSVLogger, …) or an array of them.`,
    );
}

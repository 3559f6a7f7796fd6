/** Marks FulmenErrors of every loaded copy of core: `Symbol.for` gives each copy the same symbol. */
const BRAND = Symbol.for("@fulmen/core/FulmenError");

/** An error raised by Fulmen for invalid input; its message names the problem and how to fix it. */
export class FulmenError extends Error {
  /** The error's name, `"FulmenError"` (shown before the message). */
  override name = "FulmenError";
}

Object.defineProperty(FulmenError.prototype, BRAND, { value: true });

// `error instanceof FulmenError` holds for a FulmenError thrown by either build of core (ES module or CommonJS,
// both of which one process may load), not only by the copy this class came from. A subclass keeps the ordinary
// prototype check, so that it does not claim every FulmenError.
Object.defineProperty(FulmenError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    if (this !== FulmenError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && BRAND in value;
  },
});

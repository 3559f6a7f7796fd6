/** The process-wide error events that Emscripten-generated module code takes over in Node. */
const EVENTS = ["uncaughtException", "unhandledRejection"] as const;

/**
 * Runs `start` (which instantiates tfjs's wasm module) and removes the `uncaughtException` and
 * `unhandledRejection` listeners it added. Emscripten's Node glue installs both: the first rethrows every error
 * from inside the backend's file, and the second turns every unhandled rejection into such an error — so a
 * Trainer's FulmenError surfaced under `tf-backend-wasm.node.js` with exit code 7 rather than with its own
 * message, stack and exit code 1. Without them Node reports errors itself, as it does on every other backend.
 */
export async function withoutAddedProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  // Seen as a plain EventEmitter: Node's typings overload listeners() per event name, not for a union of them.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return await start();
  } finally {
    for (const event of EVENTS) {
      const existing = before.get(event)!;
      for (const listener of emitter.listeners(event))
        if (!existing.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

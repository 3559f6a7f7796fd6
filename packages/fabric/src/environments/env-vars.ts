import { FulmenError } from "@fulmen/core";

/** Reads a non-negative integer variable, or `fallback` when unset; names the variable when it is malformed. */
export function intVar(env: NodeJS.ProcessEnv, name: string, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    if (fallback === undefined) throw new FulmenError(`The environment variable ${name} is not set.`);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new FulmenError(`${name}=${raw} is not a non-negative integer.`);
  return value;
}

/** Whether every one of `names` is set. */
export function allSet(env: NodeJS.ProcessEnv, names: string[]): boolean {
  return names.every((n) => env[n] !== undefined && env[n] !== "");
}

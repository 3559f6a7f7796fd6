import { FulmenError } from "./errors";

/** Converts a PyTorch-style snake_case name to Fulmen's camelCase (`weight_decay` → `weightDecay`, `T_max` → `tMax`). */
export function toCamelCase(name: string): string {
  const [first = "", ...rest] = name.split("_");
  return first.toLowerCase() + rest.map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join("");
}

/**
 * Throws when `given` holds a key that `owner` does not accept, naming every unknown key, the closest valid
 * spelling where one exists (snake_case names are mapped to camelCase), and the full list of valid names.
 */
export function checkOptionNames(owner: string, given: object | undefined, valid: readonly string[]): void {
  if (given === undefined) return;
  const unknown = Object.keys(given).filter((key) => !valid.includes(key));
  if (unknown.length === 0) return;
  const hints = unknown.map((key) => {
    const camel = toCamelCase(key);
    return valid.includes(camel) ? `'${key}' (did you mean '${camel}'?)` : `'${key}'`;
  });
  throw new FulmenError(
    `${owner}: unknown option${unknown.length > 1 ? "s" : ""} ${hints.join(", ")}. Valid options: ${valid.join(", ")}.`,
  );
}

/** Throws unless `value` is a finite number that satisfies `ok`, naming the option and what it must be. */
export function checkNumber(
  owner: string,
  name: string,
  value: number,
  ok: (v: number) => boolean,
  rule: string,
): void {
  if (typeof value !== "number" || Number.isNaN(value) || !ok(value)) {
    throw new FulmenError(`${owner}: invalid ${name} ${String(value)}; it must be ${rule}.`);
  }
}

import { FulmenError } from "./errors";

/** Converts a PyTorch-style snake_case name to Fulmen's camelCase (`weight_decay` → `weightDecay`, `T_max` → `tMax`). */
export function toCamelCase(name: string): string {
  const [first = "", ...rest] = name.split("_");
  return first.toLowerCase() + rest.map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join("");
}

/**
 * Throws when `given` holds a key that `owner` does not accept, naming every unknown key, the closest valid
 * spelling where one exists (snake_case names are mapped to camelCase, so Lightning's `max_epochs` is told
 * `maxEpochs`), and the full list of valid names. `noun` is what the owner calls them (the Trainer: "flag").
 */
export function checkOptionNames(
  owner: string,
  given: object | undefined,
  valid: readonly string[],
  noun = "option",
): void {
  if (given === undefined) return;
  const unknown = Object.keys(given).filter((key) => !valid.includes(key));
  if (unknown.length === 0) return;
  const hints = unknown.map((key) => {
    const camel = toCamelCase(key);
    return valid.includes(camel) ? `'${key}' (did you mean '${camel}'?)` : `'${key}'`;
  });
  throw new FulmenError(
    `${owner}: unknown ${noun}${unknown.length > 1 ? "s" : ""} ${hints.join(", ")}. Valid ${noun}s: ${valid.join(", ")}.`,
  );
}

/** A value as an error message shows it: strings quoted (`"5"` and `5` read differently), objects by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === "object") {
    const name = (value as object).constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  return String(value);
}

/** Throws unless `value` is a number (not NaN) that satisfies `ok`, naming the option, the value and the rule. */
export function checkNumber(
  owner: string,
  name: string,
  value: number,
  ok: (v: number) => boolean,
  rule: string,
): void {
  if (typeof value !== "number" || Number.isNaN(value) || !ok(value)) {
    throw new FulmenError(`${owner}: invalid ${name} ${describeValue(value)}; it must be ${rule}.`);
  }
}

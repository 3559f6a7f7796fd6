import { parseArgs } from "node:util";

/** One command-line option of an example. */
export interface ExampleOption {
  /** What it sets, for `--help`. */
  help: string;
  /** Its value when not given (none: absent). */
  default?: string;
  /** Whether it must be a positive whole number (a count of epochs, steps or devices). */
  count?: boolean;
}

/** The usage text: the description, then one line per option with its default. */
function usageOf(description: string, options: Record<string, ExampleOption>): string {
  const lines = Object.entries(options).map(
    ([name, o]) =>
      `  --${name.padEnd(12)} ${o.help}${o.default === undefined ? "" : ` (default ${o.default})`}`,
  );
  return `${description}\n\nOptions:\n${lines.join("\n")}\n  --help         print this and exit`;
}

/** The parsed values: a string where the option has a default, else possibly undefined. */
export type ExampleValues<O> = {
  [K in keyof O]: O[K] extends { default: string } ? string : string | undefined;
};

/**
 * The example's options from the command line: `--help` prints the usage and exits; an unknown option, a
 * missing value or a count that is not a positive whole number prints what is wrong and the usage, and exits
 * with status 2 — a message, not a stack trace. (node:util's parseArgs does the parsing; this adds the usage and
 * the checks it lacks.)
 */
export function exampleArgs<O extends Record<string, ExampleOption>>(
  description: string,
  options: O,
): ExampleValues<O> {
  const all: Record<string, ExampleOption> = options;
  const usage = usageOf(description, all);
  const fail = (problem: string): never => {
    console.error(`error: ${problem}\n\n${usage}`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | undefined> = {};
  try {
    values = parseArgs({
      options: {
        help: { type: "boolean" },
        ...Object.fromEntries(
          Object.entries(all).map(([name, o]) => [
            name,
            o.default === undefined
              ? { type: "string" as const }
              : { type: "string" as const, default: o.default },
          ]),
        ),
      },
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  for (const [name, o] of Object.entries(all)) {
    const value = values[name];
    if (o.count === true && typeof value === "string" && !/^[1-9]\d*$/.test(value))
      fail(`--${name} must be a positive whole number, got '${value}'.`);
  }
  return values as ExampleValues<O>;
}

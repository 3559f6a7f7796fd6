import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FulmenError, seedEverything } from "@fulmen/core";
import { parse, stringify } from "yaml";
import yargsParser from "yargs-parser";
import type { LightningDataModule } from "../datamodule";
import type { LightningModule } from "../lightning-module";
import { Trainer } from "../trainer";
import type { TrainerOptions } from "../trainer-options";

/** The subcommands, as Lightning's CLI has them. */
export type CliCommand = "fit" | "validate" | "test" | "predict";

/** A class to build: `path/to/file.js#ExportName` and the object its constructor receives. */
export interface ClassConfig {
  /**
   * `file#ExportName`: the module file to import and the export to build (the default export when `#…` is
   * left out). A relative path is taken relative to the config file that names it, or to the working folder.
   */
  classPath: string;
  /** The object passed to the class's constructor (default `{}`). */
  initArgs?: Record<string, unknown>;
}

/** The merged configuration the CLI runs. */
export interface CliConfig {
  /** The seed passed to `seedEverything` before anything is built; absent or null to not seed. */
  seedEverything?: number | null;
  /** The Trainer's options (default `{}`, the Trainer's defaults). */
  trainer?: TrainerOptions;
  /** The LightningModule to build; required to run a subcommand. */
  model?: ClassConfig;
  /** The LightningDataModule to build; absent or null for none. */
  data?: ClassConfig | null;
  /** The checkpoint passed to the subcommand as `ckptPath`; absent or null for none. */
  ckptPath?: string | null;
}

const USAGE = `usage: fulmen fit|validate|test|predict [--config cfg.yaml]... [--trainer.FLAG VALUE] [--model.ARG VALUE]
                    [--data.ARG VALUE] [--seedEverything N] [--ckptPath PATH] [--print-config]

The config names the classes to build (files exporting a LightningModule and a LightningDataModule):
  model:
    classPath: ./model.js#Classifier
    initArgs: { lr: 0.01 }
  data:
    classPath: ./data.js#Digits
  trainer:
    maxEpochs: 3
--model.lr 0.01 is short for --model.initArgs.lr 0.01. Later configs and flags override earlier ones.`;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Deep-merges `override` into `base` (objects merge, everything else replaces). */
export function mergeConfig(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override))
    out[k] = isObject(v) && isObject(out[k]) ? mergeConfig(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/**
 * A flag's value as Lightning's CLI reads it (YAML): `--trainer.enableProgressBar false` is the boolean `false`,
 * `null` is `null`, `[0, 1]` a list. yargs leaves these as strings, which the Trainer would refuse; a value that
 * YAML reads as a mapping, or cannot read, stays the string the user typed.
 */
function flagValues(value: unknown): unknown {
  if (typeof value === "string") {
    try {
      const read: unknown = parse(value);
      return isObject(read) || read === undefined ? value : read;
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(flagValues);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flagValues(v)]));
  return value;
}

/** Reads the command line into a command and a merged configuration (configs first, then flags). */
export function parseCli(
  argv: string[],
  cwd = process.cwd(),
): {
  /** The subcommand to run. */
  command: CliCommand;
  /** The configuration: the `--config` files merged in order, then the flags on top. */
  config: CliConfig;
  /** Whether `--print-config` was given: print the merged configuration instead of running. */
  printConfig: boolean;
} {
  const args = yargsParser(argv, {
    array: ["config"],
    boolean: ["print-config", "help"],
    configuration: { "camel-case-expansion": false, "dot-notation": true, "parse-numbers": true },
  });
  if (args.help) throw new CliUsageError(USAGE, 0);
  const [command, ...extra] = args._.map(String);
  if (
    command === undefined ||
    !["fit", "validate", "test", "predict"].includes(command) ||
    extra.length > 0
  ) {
    throw new CliUsageError(
      `${command === undefined ? "missing subcommand" : `unknown subcommand '${[command, ...extra].join(" ")}'`}\n\n${USAGE}`,
      2,
    );
  }
  let config: Record<string, unknown> = {};
  for (const file of (args.config as string[] | undefined) ?? []) {
    const path = isAbsolute(file) ? file : resolve(cwd, file);
    let loaded: unknown;
    try {
      loaded = parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new FulmenError(`cannot read config ${path}: ${(e as Error).message}`);
    }
    if (!isObject(loaded))
      throw new FulmenError(`config ${path} must be a YAML mapping (model:, data:, trainer:, ...).`);
    config = mergeConfig(config, resolvePaths(loaded, path.replace(/[^/\\]+$/, "")));
  }
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (["_", "$0", "config", "print-config", "help"].includes(key)) continue;
    flags[key] = flagValues(value);
  }
  for (const part of ["model", "data"] as const) {
    const section = flags[part];
    if (!isObject(section)) continue;
    const { classPath, initArgs, ...shorthand } = section;
    flags[part] = {
      ...(classPath === undefined ? {} : { classPath: resolve(cwd, String(classPath)) }),
      initArgs: { ...(isObject(initArgs) ? initArgs : {}), ...shorthand },
    };
  }
  config = mergeConfig(config, flags);
  return {
    command: command as CliCommand,
    config: config as CliConfig,
    printConfig: Boolean(args["print-config"]),
  };
}

/** Makes relative class paths in a config file relative to the file. */
function resolvePaths(config: Record<string, unknown>, dir: string): Record<string, unknown> {
  const out = { ...config };
  for (const part of ["model", "data"]) {
    const section = out[part];
    if (isObject(section) && typeof section.classPath === "string" && section.classPath.startsWith(".")) {
      out[part] = { ...section, classPath: resolve(dir, section.classPath) };
    }
  }
  return out;
}

/** A usage message to print, with the exit code to leave with. */
export class CliUsageError extends Error {
  constructor(
    message: string,
    /** The process exit code: 0 after `--help`, 2 for a missing or unknown subcommand. */
    readonly exitCode: number,
  ) {
    super(message);
  }
}

async function instantiate<T>(config: ClassConfig, what: string): Promise<T> {
  const [file, exportName = "default"] = config.classPath.split("#");
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(file!)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new FulmenError(`cannot load the ${what} from '${file}': ${(e as Error).message}`);
  }
  const Class = loaded[exportName];
  if (typeof Class !== "function") {
    throw new FulmenError(
      `'${file}' has no export '${exportName}'; exports: ${Object.keys(loaded).join(", ") || "none"}.`,
    );
  }
  return new (Class as new (args: Record<string, unknown>) => T)(config.initArgs ?? {});
}

/**
 * Lightning's LightningCLI: builds the module, datamodule and Trainer from YAML configs and dotted flags, saves
 * the merged config next to the logs (`config.yaml`), and runs the subcommand. Returns the stage's results.
 */
export async function runCli(argv: string[], print: (text: string) => void = console.log): Promise<unknown> {
  const { command, config, printConfig } = parseCli(argv);
  if (printConfig) {
    print(stringify(config));
    return null;
  }
  if (config.model === undefined)
    throw new FulmenError("the config names no model: give model.classPath (file.js#ExportName).");
  if (config.seedEverything !== undefined && config.seedEverything !== null)
    seedEverything(config.seedEverything);
  const model = await instantiate<LightningModule>(config.model, "model");
  const datamodule = config.data
    ? await instantiate<LightningDataModule>(config.data, "datamodule")
    : undefined;
  const trainer = new Trainer(config.trainer ?? {});
  const dir = trainer.logDir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.yaml"), stringify({ ...config, subcommand: command }));
  const ckptPath = config.ckptPath ?? null;
  switch (command) {
    case "fit":
      return trainer.fit(model, { datamodule, ckptPath });
    case "validate":
      return trainer.validate(model, { datamodule, ckptPath });
    case "test":
      return trainer.test(model, { datamodule, ckptPath });
    case "predict":
      return trainer.predict(model, { datamodule, ckptPath });
  }
}

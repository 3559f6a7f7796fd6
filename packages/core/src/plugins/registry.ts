import { processWide } from "../runtime/process-wide";
import { FulmenError } from "../utils/errors";
import type { Accelerator } from "./accelerator";
import type { Precision } from "./precision";
import type { Strategy } from "./strategy";

/** How a registered plugin is described in error messages and listings. */
export interface PluginInfo {
  /** One line on what it is. */
  description: string;
  /** The npm package that provides it. */
  packageName: string;
}

/** A registered plugin: how to make it, and how to describe it. */
export interface PluginEntry<T> extends PluginInfo {
  /** Makes a new instance of the plugin; `PluginRegistry.create` calls it each time the name is asked for. */
  factory: () => T;
}

/** A plugin that exists but lives in a package that is not installed (or not written yet). */
export interface KnownElsewhere {
  /** The npm package that provides the plugin (`@fulmen/strategy-fsdp`, say), named in the error message. */
  packageName: string;
  /** Why it cannot be used yet, when the package does not exist yet. */
  note?: string;
}

/** What a registry holds: kept apart from its methods so that every loaded copy of core can share one. */
export interface PluginRegistryStore<T> {
  /** The registered plugins, by name, in registration order. */
  readonly entries: Map<string, PluginEntry<T>>;
  /** Names known to be provided by packages that have not registered them here, by name. */
  readonly elsewhere: Map<string, KnownElsewhere>;
}

/**
 * The store of one of Fulmen's own registries, one per process: the ESM and CommonJS builds of core (and of the
 * plugin packages that register into it) must all see the same plugins.
 */
export function sharedStore<T>(key: string): PluginRegistryStore<T> {
  return processWide<PluginRegistryStore<T>>(`plugins/${key}@1`, () => ({
    entries: new Map(),
    elsewhere: new Map(),
  }));
}

/**
 * Plugins by name, so that strings like `strategy: "ddp"` find their implementation without core importing
 * any plugin package: each plugin package registers its entries when it is imported.
 */
export class PluginRegistry<T> {
  private readonly entries: Map<string, PluginEntry<T>>;
  private readonly elsewhere: Map<string, KnownElsewhere>;

  /**
   * A registry of plugins of `kind` (a word for error messages). Without `store` it starts empty and is this
   * object's own; Fulmen's registries pass a store shared by the whole process.
   */
  constructor(
    /** What the registry holds, in words for error messages (`"strategy"`, `"collective backend"`). */
    readonly kind: string,
    store: PluginRegistryStore<T> = { entries: new Map(), elsewhere: new Map() },
  ) {
    this.entries = store.entries;
    this.elsewhere = store.elsewhere;
  }

  /** Registers a plugin under `name` (replacing an earlier registration of that name). */
  register(name: string, factory: () => T, info: PluginInfo): void {
    this.entries.set(name, { factory, ...info });
  }

  /** Records that `name` is provided by a package that is not registered here, for a helpful error. */
  knownIn(name: string, where: KnownElsewhere): void {
    this.elsewhere.set(name, where);
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The registered names with their descriptions, in registration order. */
  list(): Array<
    {
      /** The name the plugin is registered under. */
      name: string;
    } & PluginInfo
  > {
    return [...this.entries].map(([name, e]) => ({
      name,
      description: e.description,
      packageName: e.packageName,
    }));
  }

  /** Creates the plugin registered under `name`, or throws an error listing the valid names and where others live. */
  create(name: string): T {
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.factory();
    const where = this.elsewhere.get(name);
    const valid = this.list()
      .map((e) => `"${e.name}" (${e.packageName})`)
      .join(", ");
    if (where !== undefined) {
      const fix =
        where.note ?? `install ${where.packageName} and import it once (import "${where.packageName}")`;
      throw new FulmenError(
        `The ${this.kind} "${name}" is provided by ${where.packageName}, which is not loaded: ${fix}. Available now: ${valid}.`,
      );
    }
    const others = [...this.elsewhere].map(([n, w]) => `"${n}" (${w.packageName})`).join(", ");
    throw new FulmenError(
      `Unknown ${this.kind} "${name}". Valid names: ${valid}${others ? `; from other packages: ${others}` : ""}.`,
    );
  }
}

/** Accelerators by name (`cpu`, …), one registry per process. */
export const acceleratorRegistry = new PluginRegistry<Accelerator>("accelerator", sharedStore("accelerator"));
/** Strategies by name (`single_device`, …), one registry per process. */
export const strategyRegistry = new PluginRegistry<Strategy>("strategy", sharedStore("strategy"));
/** Precision plugins by name (`32-true`, …), one registry per process. */
export const precisionRegistry = new PluginRegistry<Precision>("precision", sharedStore("precision"));

import { FulmenError, type Module, type Parameter } from "@fulmen/core";

/** Which unit owns which parameters, from {@link assignParameters}. */
export interface UnitAssignment {
  /** Per unit (in module order), its name and the parameters it owns. */
  units: Array<{
    /** The unit's dotted name in the root module ("layers.0"). */
    name: string;
    /** The unit. */
    module: Module;
    /** The parameters the unit owns (none of a unit inside it, none shared with another unit). */
    owned: Parameter[];
  }>;
  /** Parameters outside every unit (the root's). */
  rootParams: Parameter[];
}

/**
 * Splits a model's parameters among sharding units (FSDP's wrapped modules): a parameter belongs to the
 * innermost unit whose subtree holds every module that holds it (a weight tied between two units goes to
 * their closest common unit, or to the root), so that each parameter is gathered with exactly one unit.
 */
export function assignParameters(root: Module, unitModules: Module[]): UnitAssignment {
  const isUnit = new Set(unitModules);
  if (isUnit.has(root))
    throw new FulmenError("Sharded strategies: the root module cannot be one of its own units.");
  // The innermost units around each module (null: the root; a module shared by two parents has two), and each
  // unit's enclosing unit.
  const enclosing = new Map<Module, Set<Module | null>>();
  const parentUnit = new Map<Module, Module | null>();
  const names = new Map<Module, string>();
  const visit = (module: Module, name: string, unit: Module | null, path: Set<Module>): void => {
    if (path.has(module)) return;
    let current = unit;
    if (isUnit.has(module)) {
      if (!parentUnit.has(module)) {
        parentUnit.set(module, unit);
        names.set(module, name);
      }
      current = module;
    }
    if (!enclosing.has(module)) enclosing.set(module, new Set());
    enclosing.get(module)!.add(current);
    path.add(module);
    for (const [childName, child] of module.namedChildren())
      visit(child, name === "" ? childName : `${name}.${childName}`, current, path);
    path.delete(module);
  };
  visit(root, "", null, new Set());
  const missing = unitModules.filter((m) => !enclosing.has(m));
  if (missing.length > 0)
    throw new FulmenError(
      `Sharded strategies: ${missing.length} unit module(s) (${missing.map((m) => m.constructor.name).join(", ")}) are not part of the model.`,
    );
  const chain = (unit: Module | null): Array<Module | null> => {
    const out: Array<Module | null> = [];
    for (let u = unit; u !== null; u = parentUnit.get(u) ?? null) out.push(u);
    out.push(null);
    return out;
  };
  const commonUnit = (a: Module | null, b: Module | null): Module | null => {
    const ancestors = new Set(chain(a));
    return chain(b).find((u) => ancestors.has(u)) ?? null;
  };
  // Every unit that holds each parameter (directly, through one of its modules).
  const holders = new Map<Parameter, Module | null>();
  const order: Parameter[] = [];
  for (const [module, units] of enclosing) {
    for (const p of module.parameters(false)) {
      for (const unit of units) {
        if (!holders.has(p)) {
          holders.set(p, unit);
          order.push(p);
        } else holders.set(p, commonUnit(holders.get(p) ?? null, unit));
      }
    }
  }
  const units = unitModules
    .filter((m) => names.has(m))
    .sort((a, b) => [...enclosing.keys()].indexOf(a) - [...enclosing.keys()].indexOf(b))
    .map((module) => {
      const owned = order.filter((p) => holders.get(p) === module);
      return { name: names.get(module)!, module, owned };
    });
  return { units, rootParams: order.filter((p) => holders.get(p) === null) };
}

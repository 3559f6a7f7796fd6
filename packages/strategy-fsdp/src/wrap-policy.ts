import { FulmenError, type Module, nn } from "@fulmen/core";

/** A module class (any constructor arguments), for policies that name classes. */
export type ModuleClass = abstract new (...args: never[]) => Module;

/**
 * Which modules become FSDP units (Lightning's `auto_wrap_policy`): a set or list of module classes (every
 * instance of one is a unit, as `ModuleWrapPolicy`), `{ minNumParams }` (PyTorch's size-based policy: a module
 * whose parameters not yet in a unit below it number at least this many becomes one), or a function of the module
 * and its dotted name.
 */
export type AutoWrapPolicy =
  | Set<ModuleClass>
  | ModuleClass[]
  | {
      /**
       * The size-based policy's threshold (PyTorch's `min_num_params`), in parameter elements: a module whose
       * elements not already in a unit below it number at least this many becomes a unit; must be >= 0.
       */
      minNumParams: number;
    }
  | ((module: Module, name: string) => boolean);

/**
 * The units a policy makes of `root` (never the root itself). Without a policy: the root's children that have
 * parameters, looking into a `ModuleList` (it has no forward of its own to gather around) for its members.
 */
export function unitsByPolicy(root: Module, policy: AutoWrapPolicy | undefined): Module[] {
  const named = root.namedModules().filter(([, m]) => m !== root);
  if (policy === undefined) {
    const units: Module[] = [];
    const add = (child: Module): void => {
      if (child instanceof nn.ModuleList) for (const member of child) add(member);
      else if (child.parameters().length > 0) units.push(child);
    };
    for (const child of root.children()) add(child);
    return units;
  }
  if (typeof policy === "function") return named.filter(([name, m]) => policy(m, name)).map(([, m]) => m);
  if (policy instanceof Set || Array.isArray(policy)) {
    const classes = [...policy];
    return named.filter(([, m]) => classes.some((cls) => m instanceof cls)).map(([, m]) => m);
  }
  const min = policy.minNumParams;
  if (!Number.isFinite(min) || min < 0)
    throw new FulmenError(
      `FSDPStrategy: autoWrapPolicy.minNumParams must be a number >= 0, got ${String(min)}.`,
    );
  const units: Module[] = [];
  const seen = new Set<Module>();
  // Post-order: children decide first; what they wrapped no longer counts for their parent.
  const visit = (module: Module): number => {
    if (seen.has(module)) return 0;
    seen.add(module);
    let unwrapped = module.parameters(false).reduce((n, p) => n + p.size, 0);
    for (const child of module.children()) unwrapped += visit(child);
    // A ModuleList has no forward to gather around: as PyTorch's size-based policy, it is never a unit itself
    // and what its members leave unwrapped counts for its parent.
    if (module !== root && !(module instanceof nn.ModuleList) && unwrapped > 0 && unwrapped >= min) {
      units.push(module);
      return 0;
    }
    return unwrapped;
  };
  visit(root);
  return units;
}

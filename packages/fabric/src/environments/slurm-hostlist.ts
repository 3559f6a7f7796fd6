import { FulmenError } from "@fulmen/core";

/**
 * Expands a SLURM host list (`node[001-003,007],gpu-a,rack[1-2]-n[1-2]`) into host names, in order, as
 * `scontrol show hostnames` does.
 */
export function expandSlurmHostList(list: string): string[] {
  const hosts: string[] = [];
  for (const item of splitTopLevel(list)) hosts.push(...expandItem(item));
  return hosts;
}

function splitTopLevel(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of list.trim()) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) {
      if (current) items.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new FulmenError(`SLURM_NODELIST "${list}" has unbalanced brackets.`);
  if (current) items.push(current);
  return items;
}

function expandItem(item: string): string[] {
  const open = item.indexOf("[");
  if (open < 0) return [item];
  const close = item.indexOf("]", open);
  const prefix = item.slice(0, open);
  const rest = expandItem(item.slice(close + 1));
  const out: string[] = [];
  for (const range of item.slice(open + 1, close).split(",")) {
    const [from, to = from] = range.split("-") as [string, string?];
    const width = from.length;
    const start = Number(from);
    const end = Number(to);
    if (!Number.isInteger(start) || !Number.isInteger(end) || end < start)
      throw new FulmenError(`SLURM_NODELIST range "${range}" in "${item}" is not valid.`);
    for (let n = start; n <= end; n++) {
      for (const suffix of rest) out.push(`${prefix}${String(n).padStart(width, "0")}${suffix}`);
    }
  }
  return out;
}

import { createHash } from "node:crypto";
import { type Collective, FulmenError } from "@fulmen/core";

/** One entry of a model's state as DDP compares it across ranks. */
export interface StateEntryDescription {
  name: string;
  shape: number[];
  dtype: string;
}

const HASH_WORDS = 8; // sha256

/**
 * Checks that every rank holds the same state entries (names, shapes, dtypes, in the same order), as PyTorch's
 * DistributedDataParallel does before its first broadcast, and throws the same {@link FulmenError} on every rank
 * naming the first entry that differs. Without it, models of the same size train silently wrong (rank 0's values
 * land in differently shaped tensors) and models of different sizes fail deep inside the collective.
 *
 * Every rank must call it with its own entries. The first exchange has a fixed size whatever the models are (a
 * description length and a hash), so ranks that disagree still meet in it; only when the hashes differ do the
 * ranks exchange their descriptions, padded to the longest, to name the difference.
 */
export function verifySameModelOnEveryRank(collective: Collective, entries: StateEntryDescription[]): void {
  if (collective.worldSize === 1) return;
  const bytes = new TextEncoder().encode(JSON.stringify(entries.map((e) => [e.name, e.shape, e.dtype])));
  const fingerprint = new Int32Array(1 + HASH_WORDS);
  fingerprint[0] = bytes.length;
  const hash = createHash("sha256").update(bytes).digest();
  // Copied: a Buffer may sit at an offset that an Int32Array view cannot start at.
  fingerprint.set(new Int32Array(Uint8Array.from(hash).buffer, 0, HASH_WORDS), 1);
  const fingerprints = collective.allGather(fingerprint);
  const stride = fingerprint.length;
  const sameAsRankZero = (rank: number) => {
    for (let i = 0; i < stride; i++) if (fingerprints[rank * stride + i] !== fingerprints[i]) return false;
    return true;
  };
  const ranks = Array.from({ length: collective.worldSize }, (_, r) => r);
  if (ranks.every(sameAsRankZero)) return;

  // Every rank saw the same fingerprints, so every rank takes this path: gather the descriptions themselves.
  const longest = Math.max(...ranks.map((r) => fingerprints[r * stride]!));
  const padded = new Uint8Array(longest);
  padded.set(bytes);
  const all = collective.allGather(padded);
  const decoder = new TextDecoder();
  const describedBy = (rank: number): StateEntryDescription[] => {
    const length = fingerprints[rank * stride]!;
    const text = decoder.decode(all.subarray(rank * longest, rank * longest + length));
    return (JSON.parse(text) as Array<[string, number[], string]>).map(([name, shape, dtype]) => ({
      name,
      shape,
      dtype,
    }));
  };
  const reference = describedBy(0);
  const other = ranks.find((r) => !sameAsRankZero(r))!;
  throw new FulmenError(
    `DDP: the ranks hold different models: ${firstDifference(reference, describedBy(other), other)}. Every rank ` +
      "must build the same model (the same layers, sizes, dtypes and order, from the same code and configuration) " +
      "before fabric.setup().",
  );
}

function show(entry: StateEntryDescription): string {
  return `shape [${entry.shape.join(", ")}] ${entry.dtype}`;
}

/** Names the first entry where rank `rank`'s list differs from rank 0's. */
function firstDifference(
  reference: StateEntryDescription[],
  other: StateEntryDescription[],
  rank: number,
): string {
  for (let i = 0; i < Math.max(reference.length, other.length); i++) {
    const a = reference[i];
    const b = other[i];
    if (a === undefined)
      return `"${b!.name}" (${show(b!)}) exists on rank ${rank} but not on rank 0, which has ${reference.length} entries`;
    if (b === undefined)
      return `"${a.name}" (${show(a)} on rank 0) is missing on rank ${rank}, which has ${other.length} entries`;
    if (a.name !== b.name) {
      const where = other.some((e) => e.name === a.name)
        ? `rank ${rank} holds "${a.name}" at another position (the order differs)`
        : `"${a.name}" is missing on rank ${rank}`;
      return `entry ${i} is "${a.name}" (${show(a)}) on rank 0 but "${b.name}" (${show(b)}) on rank ${rank}; ${where}`;
    }
    if (show(a) !== show(b)) return `"${a.name}" has ${show(a)} on rank 0 but ${show(b)} on rank ${rank}`;
  }
  // Same entries but different hashes cannot happen unless the descriptions were corrupted in transit.
  return `rank ${rank}'s description of its model differs from rank 0's in transit`;
}

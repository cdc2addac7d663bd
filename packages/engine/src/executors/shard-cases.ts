/**
 * The cases of part `part` (0-based) of `parts`, as nnU-Net's `-num_parts P -part_id i`:
 * the case ids sorted, then every `parts`-th one starting at `part` (`sorted[part::parts]`).
 * Every case belongs to exactly one part, whatever the machine, so parts can run anywhere
 * and their outputs merge into one folder.
 */
export function shardCases<T extends string | { id: string }>(cases: readonly T[], parts: number, part: number): T[] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`--parts: expected a positive integer, got ${parts}`);
  if (!Number.isInteger(part) || part < 0 || part >= parts) throw new RangeError(`--part: expected an integer from 0 to ${parts - 1} (--parts ${parts}), got ${part}`);
  const id = (c: T) => (typeof c === 'string' ? c : c.id);
  // Code-unit order, as Python's sorted() on str: the same split on every locale.
  const sorted = [...cases].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  return sorted.filter((_, i) => i % parts === part);
}

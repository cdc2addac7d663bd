import { describe, expect, it } from 'vitest';
import { shardCases } from './shard-cases.js';

describe('shardCases (nnU-Net -num_parts/-part_id)', () => {
  // Golden values: Python `sorted(ids)[part::parts]` on the same ids.
  const ids = ['c', 'a', 'e', 'b', 'd', 'B'];
  it('takes sorted[part::parts]', () => {
    expect(shardCases(ids, 3, 0)).toEqual(['B', 'c']);
    expect(shardCases(ids, 3, 1)).toEqual(['a', 'd']);
    expect(shardCases(ids, 3, 2)).toEqual(['b', 'e']);
    expect(shardCases(ids, 1, 0)).toEqual(['B', 'a', 'b', 'c', 'd', 'e']);
  });
  it('covers every case exactly once, also with more parts than cases', () => {
    const all = [0, 1, 2, 3, 4, 5, 6].flatMap((p) => shardCases(ids, 7, p));
    expect(all.sort()).toEqual([...ids].sort());
    expect(shardCases(ids, 7, 6)).toEqual([]);
  });
  it('accepts objects with an id and leaves the input alone', () => {
    const cases = [{ id: 'z' }, { id: 'y' }];
    expect(shardCases(cases, 2, 0)).toEqual([{ id: 'y' }]);
    expect(cases.map((c) => c.id)).toEqual(['z', 'y']);
  });
  it('names the flag on a bad part', () => {
    expect(() => shardCases(ids, 0, 0)).toThrow(/--parts: expected a positive integer, got 0/);
    expect(() => shardCases(ids, 3, 3)).toThrow(/--part: expected an integer from 0 to 2 \(--parts 3\), got 3/);
  });
});

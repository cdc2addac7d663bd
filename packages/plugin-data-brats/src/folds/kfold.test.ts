import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/kfold-golden.json' with { type: 'json' };
import { kFoldSplits, readSplits, writeSplits } from './kfold.js';
import { NumpyRandomState } from './numpy-random-state.js';

// Golden values from numpy 1.24 (scripts/golden_folds.py): RandomState(seed).shuffle and a
// line-by-line replica of scikit-learn's KFold(5, shuffle=True, random_state=12345).
describe('NumpyRandomState', () => {
  it('produces numpy\'s MT19937 stream for seed 12345', () => {
    const r = new NumpyRandomState(12345);
    expect(Array.from({ length: 8 }, () => r.nextUint32())).toEqual(golden.mt19937_raw_seed12345);
  });
  it.each(golden.shuffles)('shuffles arange($n) like RandomState($seed).shuffle', ({ seed, n, permutation }) => {
    const idx = Array.from({ length: n }, (_, i) => i);
    expect(new NumpyRandomState(seed).shuffle(idx)).toEqual(permutation);
  });
  it('rejects seeds numpy rejects', () => {
    expect(() => new NumpyRandomState(-1)).toThrow(/2\*\*32/);
    expect(() => new NumpyRandomState(2 ** 32)).toThrow(/2\*\*32/);
  });
});

describe('kFoldSplits (nnU-Net folds)', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `BraTS2021_${String(i).padStart(5, '0')}`);
  it.each(golden.kfold.filter((c) => 'splits' in c))('matches KFold(5, shuffle, 12345) for n=$n', (c) => {
    const c2 = c as { n: number; splits: { train: number[]; val: number[] }[] };
    const names = ids(c2.n);
    // shuffled input order must not matter: ids are sorted first
    const splits = kFoldSplits([...names].reverse());
    expect(splits).toEqual(c2.splits.map((s) => ({ train: s.train.map((i) => names[i]), val: s.val.map((i) => names[i]) })));
  });
  it('matches for the 1251 BraTS 2021 training cases', () => {
    const c = golden.kfold.find((x) => x.n === 1251) as { n: number; val: number[][] };
    const names = ids(1251);
    const splits = kFoldSplits(names);
    expect(splits.map((s) => s.val)).toEqual(c.val.map((v) => v.map((i) => names[i])));
    for (const s of splits) expect(s.train.length + s.val.length).toBe(1251);
    expect(splits.map((s) => s.val.length)).toEqual([251, 250, 250, 250, 250]);
  });
  it('refuses too few cases and duplicates', () => {
    expect(() => kFoldSplits(['a', 'b', 'c'])).toThrow(/3 cases cannot be split into 5 folds/);
    expect(() => kFoldSplits(['a', 'b', 'c', 'd', 'a'])).toThrow(/duplicate case id "a"/);
  });
});

describe('splits.json', () => {
  it('round trips and rejects malformed files with the file name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voxseg-splits-'));
    try {
      const splits = kFoldSplits(['a', 'b', 'c', 'd', 'e', 'f']);
      const file = join(dir, 'splits.json');
      await writeSplits(file, splits);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(splits);
      expect(await readSplits(file)).toEqual(splits);
      await writeFile(join(dir, 'bad.json'), '{"train": 1}');
      await expect(readSplits(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json: expected a non-empty list/);
      await writeFile(join(dir, 'broken.json'), '[{');
      await expect(readSplits(join(dir, 'broken.json'))).rejects.toThrow(/broken\.json: invalid JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

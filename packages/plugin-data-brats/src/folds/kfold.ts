import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@voxseg/core';
import { describeSystemError, fileError } from '../io/errors.js';
import { NumpyRandomState } from './numpy-random-state.js';

/** One cross-validation fold in nnU-Net's `splits_final.json` format. */
export interface Split {
  train: string[];
  val: string[];
}

/** Options of {@link kFoldSplits}. */
export interface KFoldOptions {
  /** Number of folds (default 5, nnU-Net's). */
  folds?: number;
  /** Seed of numpy's legacy RandomState (default 12345, nnU-Net's). */
  seed?: number;
}

/**
 * nnU-Net's cross-validation split: `KFold(n_splits=5, shuffle=True, random_state=12345)` over
 * the sorted case ids, reproduced exactly (numpy's MT19937 shuffle of `arange(n)`, then
 * scikit-learn's fold sizes: the first `n % folds` folds get one extra case). Within a fold,
 * `train` and `val` keep the sorted order, as scikit-learn returns them.
 *
 * @param ids case ids in any order; they are sorted first (duplicates are an error)
 */
export function kFoldSplits(ids: readonly string[], options: KFoldOptions = {}): Split[] {
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 12345;
  const sorted = [...ids].sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new RangeError(`kFoldSplits: duplicate case id "${sorted[i]}"`);
  }
  const n = sorted.length;
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`kFoldSplits: folds must be an integer >= 2, got ${folds}`);
  if (n < folds) throw new RangeError(`kFoldSplits: ${n} cases cannot be split into ${folds} folds (need at least ${folds})`);
  const order = new NumpyRandomState(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const splits: Split[] = [];
  let start = 0;
  for (let f = 0; f < folds; f++) {
    const size = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    const inVal = new Uint8Array(n);
    for (const i of order.slice(start, start + size)) inVal[i] = 1;
    start += size;
    splits.push({ train: sorted.filter((_, i) => !inVal[i]), val: sorted.filter((_, i) => inVal[i]) });
  }
  return splits;
}

/** Write splits as JSON (nnU-Net's list of `{train, val}`), atomically. */
export async function writeSplits(file: string, splits: Split[]): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(splits, null, 1)}\n`);
}

/** Read and check a `splits.json`. @throws DataError naming the file when it is not a list of `{train, val}` string lists. */
export async function readSplits(file: string): Promise<Split[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fileError(file, `cannot read (${describeSystemError(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fileError(file, `invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const isList = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (!Array.isArray(value) || value.length === 0 || !value.every((s) => s && isList(s.train) && isList(s.val))) {
    throw fileError(file, 'expected a non-empty list of {"train": [ids], "val": [ids]}');
  }
  return value as Split[];
}

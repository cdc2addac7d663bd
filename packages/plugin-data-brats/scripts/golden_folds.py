#!/usr/bin/env python3
"""Golden values for src/folds: nnU-Net's 5-fold split of the sorted case ids.

nnU-Net (v1 `do_split`, v2 `generate_crossval_split`) calls
`KFold(n_splits=5, shuffle=True, random_state=12345).split(sorted_keys)`. scikit-learn is not
installed here, so this script replicates KFold with numpy, line by line from sklearn's
`KFold._iter_test_indices` and `BaseCrossValidator.split`:
  indices = np.arange(n); check_random_state(12345).shuffle(indices)   # legacy RandomState
  fold_sizes = full(5, n // 5); fold_sizes[: n % 5] += 1
  test = indices[start:stop]; as a boolean mask, then train/test = arange(n)[~mask] / [mask]
(so both lists come out in ascending index order).

Run: /usr/bin/python3 scripts/golden_folds.py   (numpy 1.24 tested). Writes
src/folds/__fixtures__/kfold-golden.json.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'folds', '__fixtures__', 'kfold-golden.json')


def kfold(n, n_splits=5, seed=12345):
    indices = np.arange(n)
    np.random.RandomState(seed).shuffle(indices)
    fold_sizes = np.full(n_splits, n // n_splits, dtype=int)
    fold_sizes[: n % n_splits] += 1
    current = 0
    splits = []
    for size in fold_sizes:
        mask = np.zeros(n, dtype=bool)
        mask[indices[current:current + size]] = True
        current += size
        splits.append({'train': np.arange(n)[~mask].tolist(), 'val': np.arange(n)[mask].tolist()})
    return indices.tolist(), splits


def main():
    bg = np.random.MT19937()
    bg._legacy_seeding(12345)
    raw = bg.random_raw(8).tolist()
    cases = []
    for n in (5, 6, 7, 8, 10, 13, 24, 101, 1251):
        perm, splits = kfold(n)
        if n > 200:  # keep the fixture small: the BraTS 2021 size stores validation folds only
            cases.append({'n': n, 'val': [s['val'] for s in splits]})
        else:
            cases.append({'n': n, 'permutation': perm, 'splits': splits})
    # Other seeds exercise the seeding; N=300 exercises rejection in random_interval.
    extra = []
    for seed in (0, 42, 4294967295):
        idx = np.arange(300)
        np.random.RandomState(seed).shuffle(idx)
        extra.append({'seed': seed, 'n': 300, 'permutation': idx.tolist()})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'generator': f'numpy {np.__version__}', 'mt19937_raw_seed12345': raw, 'kfold': cases, 'shuffles': extra}, f, separators=(',', ':'))
        f.write('\n')
    print('raw', raw[:3], 'n=10 splits', cases[4]['splits'][0])


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Golden values for src/regions, computed with numpy following the reference code:
- labels -> regions (nnU-Net BraTS region training): WT = label in {1,2,4}, TC = label in {1,4},
  ET = label == 4, channels in that order.
- regions -> labels (the winners' inference): out = 0; out[wt > t] = 2; out[tc > t] = 1;
  out[et > t] = 4 (each overwriting the previous).
- ET post-processing: if (out == 4).sum() < min_voxels: out[out == 4] = 1.

Run: /usr/bin/python3 scripts/golden_regions.py. Writes src/regions/__fixtures__/regions-golden.json.
Arrays are flattened x fastest, shape given as [D, H, W].
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'regions', '__fixtures__', 'regions-golden.json')


def to_regions(label):
    return np.stack([np.isin(label, [1, 2, 4]), np.isin(label, [1, 4]), label == 4], axis=-1).astype(np.uint8)


def to_labels(prob, t):
    out = np.zeros(prob.shape[:-1], dtype=np.uint8)
    out[prob[..., 0] > t] = 2
    out[prob[..., 1] > t] = 1
    out[prob[..., 2] > t] = 4
    return out


def postprocess(out, min_voxels):
    out = out.copy()
    if (out == 4).sum() < min_voxels:
        out[out == 4] = 1
    return out


def main():
    rng = np.random.RandomState(7)
    shape = (3, 4, 5)
    label = rng.choice([0, 1, 2, 4], size=shape, p=[0.4, 0.2, 0.2, 0.2]).astype(np.uint8)
    prob = rng.rand(*shape, 3).astype(np.float32)
    # a few probabilities exactly at the threshold: > 0.5 is required
    prob.flat[::17] = 0.5
    cases = []
    for t, mv in ((0.5, 200), (0.5, 5), (0.3, 10), (0.7, 0)):
        lab = to_labels(prob, t)
        cases.append({'threshold': t, 'min_voxels': mv, 'labels': lab.flatten().tolist(),
                      'postprocessed': postprocess(lab, mv).flatten().tolist()})
    with open(OUT, 'w') as f:
        json.dump({'generator': f'numpy {np.__version__}', 'shape': list(shape), 'label': label.flatten().tolist(),
                   'regions': to_regions(label).flatten().tolist(), 'probabilities': prob.flatten().astype(float).tolist(),
                   'decode': cases}, f, separators=(',', ':'))
        f.write('\n')


if __name__ == '__main__':
    main()

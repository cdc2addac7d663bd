#!/usr/bin/env python3
"""Golden values for src/preprocessing, following nnU-Net v1's code with numpy + scipy:
- cropping.py `create_nonzero_mask`: union of (channel != 0), then
  scipy.ndimage.binary_fill_holes; `get_bbox_from_mask`; crop data and seg to the bbox;
  seg[(seg == 0) & (nonzero_mask == 0)] = -1.
- preprocessing.py GenericPreprocessor (non-CT, use_nonzero_mask): mask = seg >= 0;
  data[c][mask] = (data[c][mask] - mean) / (std + 1e-8); data[c][mask == 0] = 0.
Arrays are [D, H, W] flattened x fastest; the expected image is channels-last.

Run: /usr/bin/python3 scripts/golden_preprocessing.py (numpy 1.24, scipy 1.10 tested).
"""
import json
import os

import numpy as np
from scipy.ndimage import binary_fill_holes

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'preprocessing', '__fixtures__', 'preprocessing-golden.json')


def main():
    rng = np.random.RandomState(3)
    shape = (6, 7, 8)
    chans = np.zeros((4,) + shape, dtype=np.float32)
    # brain: a box [1:5, 2:6, 1:7] with per-channel values; one channel reaches further in x
    chans[:, 1:5, 2:6, 1:7] = rng.randint(1, 300, size=(4, 4, 4, 6))
    chans[3, 2, 3, 7] = 55  # only channel 3 is non-zero here: the union grows the box
    # an enclosed hole (zero in every channel) that binary_fill_holes fills
    chans[:, 2, 3, 3] = 0
    # a zero voxel on the brain surface: not a hole
    chans[:, 1, 2, 1] = 0
    seg = np.zeros(shape, dtype=np.int8)
    seg[2:4, 3:5, 2:5] = rng.choice([1, 2, 4], size=(2, 2, 3))

    nonzero = np.zeros(shape, dtype=bool)
    for c in range(4):
        nonzero |= chans[c] != 0
    nonzero = binary_fill_holes(nonzero)
    idx = np.where(nonzero)
    bbox = [[int(idx[i].min()), int(idx[i].max()) + 1] for i in range(3)]
    sl = tuple(slice(b[0], b[1]) for b in bbox)
    data = chans[(slice(None),) + sl].copy()
    cseg = seg[sl].copy()
    cmask = nonzero[sl]
    cseg[(cseg == 0) & (cmask == 0)] = -1
    mask = cseg >= 0
    stats = []
    for c in range(4):
        mean = data[c][mask].mean()
        std = data[c][mask].std()
        data[c][mask] = (data[c][mask] - mean) / (std + 1e-8)
        data[c][mask == 0] = 0
        stats.append({'mean': float(mean), 'std': float(std)})
    with open(OUT, 'w') as f:
        json.dump({
            'generator': 'numpy %s, scipy binary_fill_holes' % np.__version__,
            'shape': list(shape),
            'channels': [chans[c].flatten().astype(int).tolist() for c in range(4)],
            'label': seg.flatten().astype(int).tolist(),
            'crop_start': [b[0] for b in bbox], 'crop_end': [b[1] for b in bbox],
            'image': np.moveaxis(data, 0, -1).flatten().round(6).tolist(),
            'cropped_label': np.maximum(cseg, 0).flatten().astype(int).tolist(),
            'filled_hole_in_mask': bool(nonzero[2, 3, 3]),
            'stats': stats,
        }, f, separators=(',', ':'))
        f.write('\n')
    print('bbox', bbox, 'hole filled', nonzero[2, 3, 3], 'surface zero', nonzero[1, 2, 1])


if __name__ == '__main__':
    main()

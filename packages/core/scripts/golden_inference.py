"""Golden values for packages/core/src/inference/*.test.ts.

Independent reference for the sliding-window geometry, written from nnU-Net v1's
definitions (nnunet/network_architecture/neural_network.py, SegmentationNetwork):
  - steps: target step = patch * step_fraction; num_steps = ceil((size - patch) / target) + 1;
    actual step = (size - patch) / (num_steps - 1); step i at int(np.round(actual * i))
    (numpy rounds ties to even);
  - Gaussian importance map: scipy.ndimage.gaussian_filter (mode='constant', cval=0) of a
    delta at patch // 2 with sigma = patch / 8 per axis, divided by its max, cast to float32,
    zeros replaced by the smallest non-zero value.

Run: /usr/bin/python3 packages/core/scripts/golden_inference.py > packages/core/src/inference/inference.golden.json
(Debian python3-scipy 1.10, numpy 1.24). The tests read the JSON; no Python at test time.
"""
import json

import numpy as np
import scipy
from scipy.ndimage import gaussian_filter


def steps(patch, size, step_fraction):
    target = [p * step_fraction for p in patch]
    num = [int(np.ceil((s - p) / t)) + 1 for s, t, p in zip(size, target, patch)]
    out = []
    for d in range(len(patch)):
        top = size[d] - patch[d]
        actual = top / (num[d] - 1) if num[d] > 1 else 99999999999
        out.append([int(np.round(actual * i)) for i in range(num[d])])
    return out


def gaussian(patch, sigma_scale=1. / 8):
    tmp = np.zeros(patch)
    tmp[tuple(p // 2 for p in patch)] = 1
    g = gaussian_filter(tmp, [p * sigma_scale for p in patch], 0, mode='constant', cval=0)
    g = (g / np.max(g)).astype(np.float32)
    g[g == 0] = np.min(g[g != 0])
    return g


step_cases = []
for patch, size, frac in [
    ((128, 128, 128), (155, 240, 240), 0.5),
    ((64, 64, 64), (110, 64, 200), 0.5),
    ((8, 8, 8), (13, 9, 8), 0.5),      # actual step 2.5: a tie numpy rounds to 2
    ((4, 6, 8), (11, 21, 30), 0.5),
    ((16, 16, 16), (50, 37, 16), 0.25),
    ((10, 12, 14), (31, 40, 29), 1.0),
    ((5, 7, 3), (12, 7, 100), 0.7),
    ((96, 128, 128), (139, 171, 138), 0.5),
]:
    step_cases.append({'patch': list(patch), 'size': list(size), 'stepFraction': frac, 'steps': steps(patch, size, frac)})

gaussian_cases = []
for patch, scale in [((8, 8, 8), 1. / 8), ((5, 6, 7), 1. / 8), ((12, 10, 16), 1. / 8), ((9, 9, 9), 1. / 16), ((1, 4, 3), 1. / 8)]:
    g = gaussian(patch, scale)
    gaussian_cases.append({'patch': list(patch), 'sigmaScale': scale, 'values': [float(v) for v in g.ravel(order='C')]})

# The 128^3 map is large: keep its per-axis profile through the centre plus a few points.
g128 = gaussian((128, 128, 128))
profile = [float(v) for v in g128[64, 64, :]]
points = [[0, 0, 0], [64, 64, 64], [10, 100, 37], [127, 127, 127], [64, 0, 127]]
gaussian128 = {'profileX': profile, 'points': [{'at': p, 'value': float(g128[tuple(p)])} for p in points],
               'min': float(g128.min())}

print(json.dumps({'source': 'nnU-Net v1 definitions on scipy %s / numpy %s' % (scipy.__version__, np.__version__),
                  'steps': step_cases, 'gaussian': gaussian_cases, 'gaussian128': gaussian128}))

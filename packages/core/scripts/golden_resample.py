"""Golden values for packages/core/src/volume/resample.test.ts.

Independent reference: PyTorch's F.interpolate(mode='nearest-exact') (what nnU-Net v2 uses
to downsample deep-supervision targets) applied to arange volumes, so each output value is
the flat index of the source voxel; and Python's round() for the output shapes.

Run: /usr/bin/python3 packages/core/scripts/golden_resample.py > packages/core/src/volume/resample.golden.json
Needs python3-torch (1.13 here). The tests read the committed JSON and need no Python.
"""
import json

import torch
import torch.nn.functional as F

cases = []
for in_shape, out_shape in [((5, 7, 9), (2, 3, 4)), ((8, 8, 8), (4, 4, 4)), ((3, 4, 5), (5, 6, 7)), ((7, 8, 9), (3, 5, 2))]:
    n = in_shape[0] * in_shape[1] * in_shape[2]
    x = torch.arange(n, dtype=torch.float64).reshape(1, 1, *in_shape)
    y = F.interpolate(x, size=out_shape, mode='nearest-exact')
    cases.append({'inShape': list(in_shape), 'outShape': list(out_shape), 'values': [int(v) for v in y.flatten().tolist()]})

shapes = []
for shape, scale in [((7, 8, 9), 0.5), ((5, 10, 13), 0.25), ((3, 3, 3), 0.5)]:
    shapes.append({'shape': list(shape), 'scale': scale, 'outShape': [max(1, round(s * scale)) for s in shape]})

rounding = [{'x': x, 'round': round(x)} for x in [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, 7.0, 11.5]]

print(json.dumps({'source': 'torch %s F.interpolate nearest-exact; python round()' % torch.__version__,
                  'resample': cases, 'downsampleShapes': shapes, 'rounding': rounding}))

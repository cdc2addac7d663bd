"""Golden values for packages/core/src/metrics/metrics.test.ts.

An independent implementation of medpy's definitions (medpy.metric.binary: __surface_distances,
hd95, dc) on scipy/numpy, plus nnU-Net's BraTS conventions for empty masks, applied to
hand-made and random masks. medpy itself is not installed here; its definition is:
  border(m) = m XOR binary_erosion(m, generate_binary_structure(3, 1), iterations=1)
              (scipy's default border_value=0: outside the array is background)
  sd(a, b)  = distance_transform_edt(~border(b), sampling=spacing)[border(a)]
  hd95      = np.percentile(np.hstack((sd(p, r), sd(r, p))), 95)

Masks are stored as '0'/'1' strings, label volumes as digit strings, in C order over
[D, H, W] (x fastest), matching voxseg's memory layout.

Run: /usr/bin/python3 packages/core/scripts/golden_metrics.py > packages/core/src/metrics/metrics.golden.json
(Debian python3-scipy 1.10, python3-numpy 1.24). The tests read the JSON; no Python at test time.
"""
import json

import numpy as np
import scipy
from scipy.ndimage import binary_erosion, distance_transform_edt, gaussian_filter, generate_binary_structure

ONE_EMPTY = 373.12866


def border(m):
    return m ^ binary_erosion(m, structure=generate_binary_structure(3, 1), iterations=1)


def surface_distances(a, b, spacing):
    dt = distance_transform_edt(~border(b), sampling=spacing)
    return dt[border(a)]


def hd95(p, r, spacing):
    p = p.astype(bool)
    r = r.astype(bool)
    if not p.any() and not r.any():
        return 0.0
    if not p.any() or not r.any():
        return ONE_EMPTY
    return float(np.percentile(np.hstack((surface_distances(p, r, spacing), surface_distances(r, p, spacing))), 95))


def counts(p, r):
    p = p.astype(bool)
    r = r.astype(bool)
    return int((p & r).sum()), int((p & ~r).sum()), int((~p & r).sum()), int((~p & ~r).sum())


def dice(p, r):
    tp, fp, fn, _ = counts(p, r)
    return 1.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def sensitivity(p, r):
    tp, _, fn, _ = counts(p, r)
    return 1.0 if tp + fn == 0 else tp / (tp + fn)


def specificity(p, r):
    _, fp, _, tn = counts(p, r)
    return 1.0 if tn + fp == 0 else tn / (tn + fp)


def enc(m):
    return ''.join(str(int(v)) for v in np.asarray(m).astype(np.int64).ravel(order='C'))


def ball(shape, centre, radius, spacing=(1, 1, 1)):
    zz, yy, xx = np.meshgrid(*[np.arange(s) for s in shape], indexing='ij')
    d2 = ((zz - centre[0]) * spacing[0]) ** 2 + ((yy - centre[1]) * spacing[1]) ** 2 + ((xx - centre[2]) * spacing[2]) ** 2
    return d2 <= radius ** 2


def box(shape, lo, hi):
    m = np.zeros(shape, bool)
    m[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = True
    return m


cases = []


def add(name, p, r, spacing):
    p = np.asarray(p, bool)
    r = np.asarray(r, bool)
    entry = {'name': name, 'shape': list(p.shape), 'spacing': list(spacing), 'pred': enc(p), 'ref': enc(r),
             'dice': dice(p, r), 'hd95': hd95(p, r, spacing),
             'sensitivity': sensitivity(p, r), 'specificity': specificity(p, r)}
    if p.any() and r.any():
        # Sorted directed distances, to check the surface-distance lists themselves.
        entry['predToRef'] = sorted(float(v) for v in surface_distances(p, r, spacing))
        entry['refToPred'] = sorted(float(v) for v in surface_distances(r, p, spacing))
    cases.append(entry)


s = (4, 5, 6)
add('both empty', np.zeros(s), np.zeros(s), (1, 1, 1))
add('prediction empty', np.zeros(s), box(s, (1, 1, 1), (3, 3, 3)), (1, 1, 1))
add('reference empty', box(s, (0, 0, 0), (2, 2, 2)), np.zeros(s), (1, 1, 1))

s = (8, 6, 10)
p = np.zeros(s, bool); p[1, 2, 3] = True
r = np.zeros(s, bool); r[5, 1, 7] = True
add('single voxels, anisotropic', p, r, (2.5, 1.0, 0.7))
add('same single voxel', p, p.copy(), (2.5, 1.0, 0.7))

s = (10, 10, 10)
add('shifted boxes', box(s, (2, 2, 2), (7, 7, 7)), box(s, (3, 2, 1), (9, 6, 7)), (1, 1, 1))

s = (16, 16, 16)
sp = (1.5, 1.0, 0.8)
hollow = ball(s, (8, 8, 8), 6.5) & ~ball(s, (8, 8, 8), 3.2)
add('hollow ball (inner surface) vs offset ball, anisotropic', ball(s, (7, 9, 8), 5.2), hollow, sp)

s = (6, 7, 8)
add('touching the array faces', box(s, (0, 0, 0), (6, 4, 8)), box(s, (0, 2, 3), (3, 7, 8)), (1, 2, 1))

s = (1, 12, 9)
add('one-slice volume', box(s, (0, 2, 1), (1, 9, 6)), box(s, (0, 4, 3), (1, 11, 9)), (3.0, 0.5, 0.5))

rng = np.random.RandomState(20211)
s = (12, 12, 12)
holey = box(s, (2, 2, 2), (10, 10, 10)) & (rng.rand(*s) > 0.2)
add('box with random holes vs box', holey, box(s, (3, 2, 2), (10, 11, 9)), (1.0, 1.0, 1.0))

s = (20, 24, 18)
base = gaussian_filter(rng.rand(*s), 2.0)
noise = gaussian_filter(rng.rand(*s), 1.0)
p = base + 0.3 * (noise - noise.mean()) > np.percentile(base, 70)
r = base > np.percentile(base, 72)
add('random blobs, anisotropic', p, r, (1.2, 0.9, 2.5))

# Label volumes for evaluateRegions: blobs of 2 (edema) around 1 (core) around 4 (enhancing).
s = (12, 14, 10)
def labels_from(field):
    lab = np.zeros(s, np.int64)
    lab[field > np.percentile(field, 60)] = 2
    lab[field > np.percentile(field, 80)] = 1
    lab[field > np.percentile(field, 90)] = 4
    return lab
field = gaussian_filter(rng.rand(*s), 1.5)
ref_lab = labels_from(field)
# The prediction: the same anatomy shifted by one voxel along x, perturbed by noise.
pred_lab = labels_from(np.roll(field, 1, axis=2) + 0.1 * (gaussian_filter(rng.rand(*s), 1.0) - 0.5))
spacing = (1.0, 1.0, 1.5)
regions = {}
for name, labels in [('WT', (1, 2, 4)), ('TC', (1, 4)), ('ET', (4,))]:
    pm = np.isin(pred_lab, labels)
    rm = np.isin(ref_lab, labels)
    regions[name] = {'dice': dice(pm, rm), 'hd95': hd95(pm, rm, spacing),
                     'sensitivity': sensitivity(pm, rm), 'specificity': specificity(pm, rm)}

percentiles = []
for values, q in [([1.0, 2.0, 3.0, 4.0], 95), ([5.0], 95), ([0.1, 0.7, 0.2], 95), (list(rng.rand(37) * 10), 95),
                  (list(rng.rand(100)), 50), ([3.0, 1.0, 2.0], 0), ([3.0, 1.0, 2.0], 100)]:
    percentiles.append({'values': [float(v) for v in values], 'q': q, 'expected': float(np.percentile(values, q))})

print(json.dumps({'percentiles': percentiles, 'source': 'scipy %s / numpy %s, medpy definitions re-implemented in scripts/golden_metrics.py'
                            % (scipy.__version__, np.__version__),
                  'oneEmpty': ONE_EMPTY, 'cases': cases,
                  'labels': {'shape': list(s), 'spacing': list(spacing), 'pred': enc(pred_lab), 'ref': enc(ref_lab),
                             'regions': regions}}))

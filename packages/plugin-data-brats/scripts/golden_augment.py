#!/usr/bin/env python3
"""Golden values for the sampling and augmentation tests of @voxseg/plugin-data-brats.

Computed independently with numpy / scipy, re-implementing batchgenerators' formulas
(batchgenerators/augmentations/color_augmentations.py: augment_gamma, augment_contrast;
noise_augmentations.py: augment_gaussian_blur -> scipy gaussian_filter; resample_augmentations.py:
augment_linear_downsampling_scipy with order_downsample=0, order_upsample=3, which skimage's
resize(mode='edge', anti_aliasing=False) performs as scipy.ndimage.zoom(grid_mode=True,
mode='nearest')) and scipy.ndimage.map_coordinates for trilinear sampling with zero padding.

Run:  python3 packages/plugin-data-brats/scripts/golden_augment.py > packages/plugin-data-brats/src/augmentation/augment.golden.json
(numpy 2.4.6, scipy 1.17.1 produced the committed file.)
"""
import json

import numpy as np
from scipy import ndimage


def channel(shape, c):
    """Deterministic, irregular test values (the TS tests build the same array)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    return (np.sin(i * 0.37 + c) * 2.0 + np.cos(i * 0.11 * (c + 1)) + 0.1 * c).astype(np.float32).reshape(shape)


def gamma(x, g, invert, retain, eps=1e-7):
    # batchgenerators augment_gamma, per_channel branch, in float64.
    x = x.astype(np.float64)
    if invert:
        x = -x
    mn, sd = x.mean(), x.std()
    minm = x.min()
    rnge = x.max() - minm
    x = np.power((x - minm) / float(rnge + eps), g) * float(rnge + eps) + minm
    if retain:
        x = x - x.mean()
        x = x / (x.std() + 1e-8) * sd
        x = x + mn
    if invert:
        x = -x
    return x


def contrast(x, f, preserve):
    x = x.astype(np.float64)
    mn = x.mean()
    lo, hi = x.min(), x.max()
    x = (x - mn) * f + mn
    if preserve:
        x = np.clip(x, lo, hi)
    return x


def lowres(x, target):
    shp = np.array(x.shape)
    down = ndimage.zoom(x.astype(np.float64), np.array(target) / shp, order=0, mode='nearest', grid_mode=True)
    assert tuple(down.shape) == tuple(target), (down.shape, target)
    up = ndimage.zoom(down, shp / np.array(target), order=3, mode='nearest', grid_mode=True)
    assert tuple(up.shape) == tuple(shp)
    return down, up


def main():
    shape = (5, 6, 7)
    x0 = channel(shape, 0)
    out = {'shape': list(shape), 'gamma': [], 'contrast': [], 'blur': [], 'lowres': [], 'trilinear': {}}
    for g, inv, ret in [(0.5, False, True), (1.6, False, True), (0.7, True, True), (1.3, True, False), (0.8, False, False)]:
        out['gamma'].append({'gamma': g, 'invert': inv, 'retainStats': ret, 'values': gamma(x0, g, inv, ret).ravel().tolist()})
    for f, pr in [(0.65, True), (1.5, True), (1.5, False)]:
        out['contrast'].append({'factor': f, 'preserveRange': pr, 'values': contrast(x0, f, pr).ravel().tolist()})
    for s in [0.5, 1.0, 1.5]:
        y = ndimage.gaussian_filter(x0.astype(np.float64), s, mode='reflect', truncate=4.0)
        out['blur'].append({'sigma': s, 'values': y.ravel().tolist()})
    big = channel((9, 10, 12), 1)
    out['lowresShape'] = [9, 10, 12]
    for target in [(5, 5, 6), (7, 8, 12), (9, 6, 7)]:
        down, up = lowres(big, target)
        out['lowres'].append({'target': list(target), 'down': down.ravel().tolist(), 'up': up.ravel().tolist()})
    # Trilinear sampling with zero padding (scipy 'grid-constant') at irregular points, some outside.
    rng = np.random.default_rng(3)
    pts = rng.uniform(-1.5, 7.5, size=(3, 40))
    vals = ndimage.map_coordinates(x0.astype(np.float64), pts, order=1, mode='grid-constant', cval=0.0)
    out['trilinear'] = {'points': pts.T.tolist(), 'values': vals.tolist()}
    print(json.dumps(out))


if __name__ == '__main__':
    main()

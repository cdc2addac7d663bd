#!/usr/bin/env python3
"""Golden values for @voxseg/plugin-losses, computed with PyTorch 1.13 (Debian python3-torch)
in float64 from the formulas in docs/method.md "Loss" (nnU-Net v1's SoftDiceLoss with sigmoid,
DC_and_BCE_loss, MultipleOutputLoss2), written out here rather than imported from nnU-Net.
BCE is torch.nn.BCEWithLogitsLoss (mean). Deep-supervision targets are downsampled with
scipy.ndimage.zoom(order=0, grid_mode=True), what skimage's resize(order=0) (used by
nnU-Net v1's downsample_seg_for_ds_transform2) reduces to.

Tensors are channels-last [N, D, H, W, C] in the JSON (voxseg's layout); torch computes in
[N, C, D, H, W]. Writes ../src/losses/golden/losses.json.
Run: /usr/bin/python3 packages/plugin-losses/scripts/golden_losses.py
"""
import json
import os

import numpy as np
import scipy
import scipy.ndimage as ndi
import torch

torch.set_default_dtype(torch.float64)


def logits_pattern(shape, scale=3.0):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (scale * np.sin(0.7 * i + 0.2) + 0.5 * np.cos(0.11 * i)).astype(np.float32).reshape(shape)


def target_pattern(shape, threshold=0.2):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (np.sin(1.3 * i + 0.5) > threshold).astype(np.float32).reshape(shape)


def cf(a):  # channels-last numpy -> channels-first torch
    return torch.from_numpy(a.astype(np.float64)).permute(0, 4, 1, 2, 3).contiguous()


def soft_dice(x, y, batch_dice, smooth, do_bg):
    """nnU-Net SoftDiceLoss(apply_nonlin=sigmoid), channels-first."""
    axes = [0, 2, 3, 4] if batch_dice else [2, 3, 4]
    p = torch.sigmoid(x)
    tp = (p * y).sum(axes)
    fp = (p * (1 - y)).sum(axes)
    fn = ((1 - p) * y).sum(axes)
    dc = (2 * tp + smooth) / (2 * tp + fp + fn + smooth + 1e-8)
    if not do_bg:
        dc = dc[1:] if batch_dice else dc[:, 1:]
    return -dc.mean()


def bce(x, y):
    return torch.nn.BCEWithLogitsLoss()(x, y)


def dice_bce(x, y, batch_dice, smooth):
    return bce(x, y) + soft_dice(x, y, batch_dice, smooth, True)


def ds_weights(n):
    w = np.array([1 / 2 ** i for i in range(n)])
    if n > 1:
        w[-1] = 0
    return w / w.sum()


def nearest_down(t_cl, factor):
    """scipy zoom order 0 per sample and channel (grid_mode as skimage resize)."""
    n, d, h, w, c = t_cl.shape
    out = np.zeros((n, d // factor, h // factor, w // factor, c), dtype=np.float32)
    for b in range(n):
        for k in range(c):
            out[b, ..., k] = ndi.zoom(t_cl[b, ..., k], 1 / factor, order=0, mode='nearest', grid_mode=True)
    return out


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def main():
    out = {'source': f'packages/plugin-losses/scripts/golden_losses.py, torch {torch.__version__}, scipy {scipy.__version__}'}
    shape = [2, 4, 4, 4, 3]
    lg = logits_pattern(shape)
    tg = target_pattern(shape)
    tg[1, ..., 2] = 0  # sample 1 has no ET: per-sample Dice sees an empty channel
    cases = []
    for batch_dice in (True, False):
        for smooth in (0.0, 1.0):
            for do_bg in (True, False):
                x = cf(lg).requires_grad_(True)
                y = cf(tg)
                sd = soft_dice(x, y, batch_dice, smooth, do_bg)
                entry = {'batchDice': batch_dice, 'smooth': smooth, 'doBg': do_bg, 'softDice': sd.item()}
                if do_bg:
                    x2 = cf(lg).requires_grad_(True)
                    loss = dice_bce(x2, y, batch_dice, smooth)
                    loss.backward()
                    entry['diceBce'] = loss.item()
                    entry['diceBceGrad'] = flat(x2.grad.permute(0, 2, 3, 4, 1))
                cases.append(entry)
    out['basic'] = {'shape': shape, 'logits': flat(lg), 'targets': flat(tg), 'bce': bce(cf(lg), cf(tg)).item(), 'cases': cases}

    # Large logits: the stable form stays finite and exact.
    big = np.array([-200, -100, -30, -1, 0, 1, 30, 100, 200, 50, -50, 0], dtype=np.float32).reshape([1, 1, 2, 2, 3])
    bt = np.array([0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1], dtype=np.float32).reshape([1, 1, 2, 2, 3])
    xb = cf(big).requires_grad_(True)
    lb = bce(xb, cf(bt))
    lb.backward()
    out['large'] = {'shape': [1, 1, 2, 2, 3], 'logits': flat(big), 'targets': flat(bt), 'bce': lb.item(),
                    'bceGrad': flat(xb.grad.permute(0, 2, 3, 4, 1))}

    # Deep supervision: 3 heads at 8, 4, 2 and one full-resolution target.
    full = [2, 8, 8, 8, 3]
    tfull = target_pattern(full, 0.1)
    heads = [logits_pattern([2, e, e, e, 3], 2.0 + e / 8) for e in (8, 4, 2)]
    weights = ds_weights(3)
    targets = [tfull, nearest_down(tfull, 2), nearest_down(tfull, 4)]
    total = 0.0
    for w, h, t in zip(weights, heads, targets):
        if w != 0:
            total += w * dice_bce(cf(h), cf(t), True, 0.0).item()
    idx2 = ndi.zoom(np.arange(8, dtype=np.float64), 0.5, order=0, mode='nearest', grid_mode=True)
    idx4 = ndi.zoom(np.arange(8, dtype=np.float64), 0.25, order=0, mode='nearest', grid_mode=True)
    out['deepSupervision'] = {
        'target': flat(tfull), 'targetShape': full,
        'heads': [flat(h) for h in heads], 'headShapes': [[2, e, e, e, 3] for e in (8, 4, 2)],
        'weights': flat(weights), 'weights5': flat(ds_weights(5)),
        'downsampled': [flat(targets[1]), flat(targets[2])],
        'nearestIndex': {'factor2': flat(idx2), 'factor4': flat(idx4)},
        'loss': total,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    dest = os.path.join(here, '..', 'src', 'losses', 'golden', 'losses.json')
    with open(dest, 'w') as f:
        json.dump(out, f)
    print('wrote', dest, 'weights5', ds_weights(5), 'idx2', idx2, 'idx4', idx4)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Golden values for the 5-D norm layers of @voxseg/plugin-unet, computed with PyTorch 1.13
(Debian python3-torch) modules: BatchNorm3d (train step + eval), GroupNorm, InstanceNorm3d.

Inputs are a deterministic formula of the flat channels-last index (regenerated identically by
the TypeScript test), so only outputs are stored. Writes ../src/layers/golden/norms.json.
Run: /usr/bin/python3 packages/plugin-unet/scripts/golden_norms.py
"""
import json
import math
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)  # reference in double; tests compare at float32 tolerance


def pattern(shape, a=0.37, b=0.11):
    """x[i] = 2 sin(a i + b) + 0.3 cos(0.05 i) over the flat channels-last index i."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    return (2 * np.sin(a * i + b) + 0.3 * np.cos(0.05 * i)).astype(np.float32).reshape(shape)


def affine(c):
    """gamma_c = 1 + 0.1 c, beta_c = 0.05 c - 0.1 (non-trivial affine)."""
    c_idx = np.arange(c, dtype=np.float64)
    return (1 + 0.1 * c_idx).astype(np.float32), (0.05 * c_idx - 0.1).astype(np.float32)


def to_torch(x_cl):  # [N, D, H, W, C] -> [N, C, D, H, W]
    return torch.from_numpy(x_cl.astype(np.float64)).permute(0, 4, 1, 2, 3).contiguous()


def to_cl(t):  # [N, C, D, H, W] -> flat channels-last list
    return t.detach().permute(0, 2, 3, 4, 1).contiguous().reshape(-1).tolist()


def set_affine(m, c):
    g, b = affine(c)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(g.astype(np.float64)))
        m.bias.copy_(torch.from_numpy(b.astype(np.float64)))


def main():
    out = {}
    shape = [2, 3, 4, 5, 8]
    x = to_torch(pattern(shape))
    c = shape[-1]

    bn = torch.nn.BatchNorm3d(c, eps=1e-5, momentum=0.1, affine=True)
    set_affine(bn, c)
    bn.train()
    y_train = bn(x)
    running_mean = bn.running_mean.tolist()
    running_var = bn.running_var.tolist()
    bn.eval()
    y_eval = bn(x)  # with the running statistics after one training step
    out['batch'] = {
        'shape': shape,
        'train': to_cl(y_train),
        'runningMean': running_mean,
        'runningVariance': running_var,
        'evalAfterOneStep': to_cl(y_eval),
    }

    for groups in (4, 8):
        gn = torch.nn.GroupNorm(groups, c, eps=1e-5, affine=True)
        set_affine(gn, c)
        out[f'group{groups}'] = {'shape': shape, 'groups': groups, 'output': to_cl(gn(x))}

    # 32 groups as in the winners' GN variants: 64 channels, 2 per group.
    shape64 = [1, 2, 3, 2, 64]
    x64 = to_torch(pattern(shape64, 0.23, 0.5))
    gn32 = torch.nn.GroupNorm(32, 64, eps=1e-5, affine=True)
    set_affine(gn32, 64)
    out['group32'] = {'shape': shape64, 'groups': 32, 'output': to_cl(gn32(x64))}

    inorm = torch.nn.InstanceNorm3d(c, eps=1e-5, affine=True)
    set_affine(inorm, c)
    out['instance'] = {'shape': shape, 'output': to_cl(inorm(x))}

    # Gradients of loss = sum(y * w), w = pattern(shape, 0.19, 0.7), w.r.t. x, gamma, beta
    # (autograd through the torch modules; BatchNorm in training mode).
    grads = {}
    wv = to_torch(pattern(shape, 0.19, 0.7))
    for key, make in (('batch', lambda: torch.nn.BatchNorm3d(c, eps=1e-5)),
                      ('group4', lambda: torch.nn.GroupNorm(4, c, eps=1e-5)),
                      ('instance', lambda: torch.nn.InstanceNorm3d(c, eps=1e-5, affine=True))):
        m = make()
        set_affine(m, c)
        m.train()
        xg = x.clone().requires_grad_(True)
        (m(xg) * wv).sum().backward()
        grads[key] = {'dx': to_cl(xg.grad), 'dgamma': m.weight.grad.tolist(), 'dbeta': m.bias.grad.tolist()}
    out['gradients'] = {'shape': shape, 'weightPattern': [0.19, 0.7], **grads}

    here = os.path.dirname(os.path.abspath(__file__))
    dest = os.path.join(here, '..', 'src', 'layers', 'golden', 'norms.json')
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, 'w') as f:
        json.dump({'source': 'packages/plugin-unet/scripts/golden_norms.py, torch ' + torch.__version__, **out}, f)
    print('wrote', dest)


if __name__ == '__main__':
    main()

"""Trainable parameter count of BL and BL+AA, counted on an independent PyTorch model.

The model follows docs/method.md ("Network" and "Axial-attention decoder (BL+AA)"), i.e. the
BraTS 2021 winners' nnU-Net fork (Generic_UNet, convolutional pooling and upsampling, deep
supervision heads) with lucidrains' axial-attention 0.5.0 semantics:
  - 6 stages at 128^3 (fewer for smaller patches: halve while the edge stays >= 4),
    filters 32, 64, 128, 256, 320, 320; 2 convs 3^3 (bias) + BatchNorm (affine) per
    stage; transposed conv 2^3 stride 2 without bias to the skip's width; 2 decoder convs to
    the skip's width; 1^3 heads without bias, one per decoder stage;
  - after the transposed conv of decoder stages at 8, 16, 32, 64 (stage d = 4, 3, 2, 1
    halvings below full resolution): x = AxialAttention(PosEmb(x)) + x with 2*2^d heads of
    8*2^d dims; PosEmb = C*(D+H+W) parameters; per axis q C->hd, kv C->2hd (no bias),
    out hd->C (bias).
The attention module here is written for counting (and shapes); it is not run.

Run:  /usr/bin/python3 packages/plugin-axial-attention/scripts/param_count.py [--patch 128] [--in-channels 4]
Prints one JSON object: {"BL": N, "BL+AA": N, "attention": N, "per_stage": [...]}.
"""
import argparse
import json

import torch
from torch import nn


class ConvNormAct(nn.Sequential):
    def __init__(self, cin, cout, stride=1):
        super().__init__(nn.Conv3d(cin, cout, 3, stride, 1, bias=True), nn.BatchNorm3d(cout, eps=1e-5, affine=True),
                         nn.LeakyReLU(0.01))


class AxisSelfAttention(nn.Module):
    def __init__(self, dim, heads, dim_heads):
        super().__init__()
        hidden = heads * dim_heads
        self.to_q = nn.Linear(dim, hidden, bias=False)
        self.to_kv = nn.Linear(dim, 2 * hidden, bias=False)
        self.to_out = nn.Linear(hidden, dim)


class AxialBlock(nn.Module):
    """PosEmb (one C-vector per position per axis) + 3 sequential axis attentions."""

    def __init__(self, dim, shape, heads, dim_heads):
        super().__init__()
        d, h, w = shape
        self.emb = nn.ParameterList([nn.Parameter(torch.randn(1, dim, d, 1, 1)),
                                     nn.Parameter(torch.randn(1, dim, 1, h, 1)),
                                     nn.Parameter(torch.randn(1, dim, 1, 1, w))])
        self.attn = nn.ModuleList([AxisSelfAttention(dim, heads, dim_heads) for _ in range(3)])


def stages_for(patch, max_stages=6, min_edge=4):
    """nnU-Net-style depth: halve while the half is even-divisible and >= min_edge (128 -> 6, 64 -> 5)."""
    stages, edge = 1, patch
    while stages < max_stages and edge % 2 == 0 and edge // 2 >= min_edge:
        edge //= 2
        stages += 1
    return stages


def build(patch, in_channels, out_channels, axial):
    n = stages_for(patch)
    filters = [min(32 * 2 ** s, 320) for s in range(n)]
    encoder = nn.ModuleList()
    cin = in_channels
    for s, f in enumerate(filters):
        encoder.append(nn.Sequential(ConvNormAct(cin, f, 1 if s == 0 else 2), ConvNormAct(f, f)))
        cin = f
    up, dec, heads, attn = nn.ModuleList(), nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
    per_stage = []
    below = filters[-1]
    for s in range(n - 2, -1, -1):  # decoder stages from just above the bottleneck up to full resolution (s = 0)
        skip = filters[s]
        up.append(nn.ConvTranspose3d(below, skip, 2, 2, bias=False))
        if axial and 1 <= s <= 4:
            r = patch // 2 ** s
            block = AxialBlock(skip, (r, r, r), 2 * 2 ** s, 8 * 2 ** s)
            attn.append(block)
            per_stage.append({'stage': s, 'resolution': r, 'channels': skip, 'heads': 2 * 2 ** s,
                              'dimHead': 8 * 2 ** s, 'parameters': sum(p.numel() for p in block.parameters())})
        dec.append(nn.Sequential(ConvNormAct(2 * skip, skip), ConvNormAct(skip, skip)))
        heads.append(nn.Conv3d(skip, out_channels, 1, bias=False))
        below = skip
    model = nn.ModuleDict({'encoder': encoder, 'up': up, 'decoder': dec, 'heads': heads, 'attention': attn})
    return model, per_stage


def count(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--patch', type=int, default=128)
    ap.add_argument('--in-channels', type=int, default=4)
    ap.add_argument('--out-channels', type=int, default=3)
    a = ap.parse_args()
    bl, _ = build(a.patch, a.in_channels, a.out_channels, False)
    aa, per_stage = build(a.patch, a.in_channels, a.out_channels, True)
    print(json.dumps({'BL': count(bl), 'BL+AA': count(aa), 'attention': count(aa['attention']),
                      'per_stage': per_stage}))


if __name__ == '__main__':
    main()

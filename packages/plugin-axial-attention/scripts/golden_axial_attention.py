"""Golden values for AxialPositionalEmbedding + AxialAttention3D, computed with PyTorch.

An independent implementation of the reference semantics (lucidrains' axial-attention 0.5.0:
AxialPositionalEmbedding(dim=C, shape=(D, H, W)) and AxialAttention(dim=C, num_dimensions=3,
dim_index=1, heads, dim_heads, sum_axial_out=False), as the BraTS 2021 winners' nnU-Net fork
uses them), written from its documented behaviour in PyTorch's channels-first layout
[N, C, D, H, W]. The tfjs test loads the weights, converts the layout and compares.

Run: /usr/bin/python3 packages/plugin-axial-attention/scripts/golden_axial_attention.py
Writes packages/plugin-axial-attention/src/layers/__tests__/golden-axial-attention.json
"""
import json
import os

import torch
from torch import nn

torch.manual_seed(20211)
N, C, D, H, W = 2, 6, 3, 4, 5
HEADS, DIM_HEAD = 2, 3
HD = HEADS * DIM_HEAD


class AxisAttention(nn.Module):
    """1-D multi-head self-attention over the sequence axis of [B, L, C]."""

    def __init__(self):
        super().__init__()
        self.to_q = nn.Linear(C, HD, bias=False)
        self.to_kv = nn.Linear(C, 2 * HD, bias=False)  # k = first HD outputs, v = last HD
        self.to_out = nn.Linear(HD, C)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.to_q(x)
        k, v = self.to_kv(x).chunk(2, dim=-1)

        def heads(z):
            return z.reshape(b, t, HEADS, DIM_HEAD).transpose(1, 2).reshape(b * HEADS, t, DIM_HEAD)

        q, k, v = heads(q), heads(k), heads(v)
        scores = torch.bmm(q, k.transpose(1, 2)) * DIM_HEAD ** -0.5
        out = torch.bmm(scores.softmax(dim=-1), v)
        out = out.reshape(b, HEADS, t, DIM_HEAD).transpose(1, 2).reshape(b, t, HD)
        return self.to_out(out)


def along(x, axis, fn):
    """Apply fn to every line of x [N, C, D, H, W] along spatial dim `axis` (2, 3 or 4)."""
    rest = [d for d in (0, 2, 3, 4) if d != axis]
    perm = rest + [axis, 1]
    xp = x.permute(*perm)
    shape = xp.shape
    y = fn(xp.reshape(-1, shape[-2], shape[-1])).reshape(shape)
    inv = [perm.index(i) for i in range(5)]
    return y.permute(*inv)


attn = {a: AxisAttention() for a in 'dhw'}
emb = {
    'd': torch.randn(1, C, D, 1, 1),
    'h': torch.randn(1, C, 1, H, 1),
    'w': torch.randn(1, C, 1, 1, W),
}
x = torch.randn(N, C, D, H, W)

with torch.no_grad():
    pe = x + emb['d'] + emb['h'] + emb['w']
    y = pe
    for axis_name, axis in (('d', 2), ('h', 3), ('w', 4)):
        y = along(y, axis, attn[axis_name])
    block = y + x


def cl(t):
    """Channels-first [N, C, D, H, W] -> channels-last [N, D, H, W, C], flattened."""
    return t.permute(0, 2, 3, 4, 1).reshape(-1).tolist()


def kernel(linear_weight):
    """torch Linear weight [out, in] -> tfjs kernel [in, out], flattened row-major."""
    return linear_weight.detach().t().reshape(-1).tolist()


weights = {}
for a in 'dhw':
    m = attn[a]
    kv = m.to_kv.weight.detach()
    weights[a] = {
        'query': kernel(m.to_q.weight),
        'key': kernel(kv[:HD]),
        'value': kernel(kv[HD:]),
        'outKernel': kernel(m.to_out.weight),
        'outBias': m.to_out.bias.detach().tolist(),
    }

out = {
    'source': 'scripts/golden_axial_attention.py (PyTorch %s)' % torch.__version__,
    'shape': [N, D, H, W, C],
    'heads': HEADS,
    'dimHead': DIM_HEAD,
    'input': cl(x),
    'embeddings': {a: cl(emb[a]) for a in 'dhw'},  # [1, D, 1, 1, C] etc.
    'weights': weights,
    'posemb': cl(pe),
    'attention': cl(y),
    'block': cl(block),
}
path = os.path.join(os.path.dirname(__file__), '..', 'src', 'layers', '__tests__', 'golden-axial-attention.json')
with open(path, 'w') as f:
    json.dump(out, f)
print('wrote', os.path.normpath(path))

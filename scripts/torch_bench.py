#!/usr/bin/env python3
"""PyTorch CPU reference for `npm run bench` (scripts/bench.mjs): the same conv3d and the
same U-Net training step as `voxseg bench conv3d|train-step`, so the two can be compared
side by side in one run. Prints one JSON object on the last line of stdout.

Skips cleanly (JSON {"skipped": reason}, exit code 0) when torch is not importable.

conv3d: x [N, C, S, S, S] (PyTorch's own NCDHW layout), 3x3x3 'same', forward + gradients of
input and weight via autograd; FLOPs counted as in voxseg (3 x 2 N S^3 27 C^2); best of
`--repeats` after one warm-up.

train-step: nnU-Net's Generic_UNet as built by @voxseg/plugin-unet for the preset (BL:
widths 32,64,128,256,320,...; conv3x3x3+bias -> BatchNorm(eps 1e-5) or GroupNorm(32) ->
LeakyReLU(0.01); stride-2 first conv per lower stage; transposed conv 2x2x2 s2 without bias
to the skip width; concat [up, skip]; a 1x1x1 head without bias per decoder stage), loss =
deep-supervision-weighted BCE-with-logits on random binary targets, SGD momentum 0.99
nesterov; median ms per step after one warm-up step.

inference: whole-case sliding-window inference as nnU-Net (and `voxseg bench inference`)
runs it: a random case [C, D, H, W], the network without deep supervision in eval mode under
torch.no_grad, windows at nnU-Net's steps (step fraction of the patch), Gaussian importance
weighting (sigma = patch / 8), sigmoid probabilities accumulated and normalised, optional
8-way mirroring (TTA), then thresholding at 0.5; seconds for the whole case.
"""
import argparse
import json
import os
import sys
import time


def emit(obj):
    print(json.dumps(obj))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", choices=["conv3d", "train-step", "inference", "all"], default="all")
    p.add_argument("--shape", default="155,240,240,4", help="inference case D,H,W,C")
    p.add_argument("--step", type=float, default=0.5)
    p.add_argument("--tta", action="store_true")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--variant", default="BL")
    p.add_argument("--patch", type=int, default=64)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    try:
        import torch
    except Exception as e:  # torch is optional: only this machine's reference runs need it
        emit({"skipped": f"torch not importable ({e}); install python3-torch for the reference figures"})
        return 0
    torch.set_num_threads(a.threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available()}
    if a.only in ("conv3d", "all"):
        out["conv3d"] = bench_conv3d(torch, a.size, a.channels, a.repeats)
    if a.only in ("train-step", "all"):
        out["trainStep"] = bench_train_step(torch, a.variant, a.patch, a.batch, a.steps)
    if a.only == "inference":
        out["inference"] = bench_inference(torch, a.variant, [int(v) for v in a.shape.split(",")], a.patch, a.step, a.tta)
    emit(out)
    return 0


def bench_conv3d(torch, s, c, repeats):
    import torch.nn.functional as F

    x = torch.full((1, c, s, s, s), 0.5, requires_grad=True)
    w = torch.full((c, c, 3, 3, 3), 0.01, requires_grad=True)
    dy = torch.full((1, c, s, s, s), 0.1)
    best = None
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        y = F.conv3d(x, w, padding=1)
        t1 = time.perf_counter()
        gx, gw = torch.autograd.grad(y, [x, w], dy)
        t2 = time.perf_counter()
        if i == 0:
            continue
        if best is None or t2 - t0 < best[0] + best[1]:
            best = (t1 - t0, t2 - t1)
    flops = 3 * 2 * s ** 3 * 27 * c * c
    return {"gflops": flops / (best[0] + best[1]) / 1e9, "msForward": best[0] * 1e3, "msBackward": best[1] * 1e3}


PRESETS = {
    "BL": dict(base=32, cap=320, mult=1, ratio=1.0, norm="batch"),
    "BL+GN": dict(base=32, cap=320, mult=1, ratio=1.0, norm="group"),
    "BL+L": dict(base=32, cap=512, mult=2, ratio=0.5, norm="batch"),
    "BL+L+GN": dict(base=32, cap=512, mult=2, ratio=0.5, norm="group"),
}


def build_unet(torch, variant, patch, in_ch=4, out_ch=3, deep_supervision=True):
    nn = torch.nn
    if variant not in PRESETS:
        raise SystemExit(f"torch_bench.py: unknown --variant {variant}; known: {', '.join(PRESETS)}")
    cfg = PRESETS[variant]
    stages, e = 1, patch
    while stages < 6 and e % 2 == 0 and e // 2 >= 4:
        e //= 2
        stages += 1
    widths = [min(cfg["base"] * cfg["mult"] * 2 ** s, cfg["cap"]) for s in range(stages)]

    def norm(c):
        return nn.BatchNorm3d(c, eps=1e-5) if cfg["norm"] == "batch" else nn.GroupNorm(min(32, c), c, eps=1e-5)

    def block(cin, cout, stride):
        return nn.Sequential(nn.Conv3d(cin, cout, 3, stride, 1, bias=True), norm(cout), nn.LeakyReLU(0.01, inplace=True))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.ModuleList()
            cin = in_ch
            for s, w in enumerate(widths):
                self.enc.append(nn.Sequential(block(cin, w, 1 if s == 0 else 2), block(w, w, 1)))
                cin = w
            self.up, self.dec, self.heads = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
            below = widths[-1]
            for s in range(stages - 2, -1, -1):
                skip = widths[s]
                last = max(1, int(round(skip * cfg["ratio"])))
                self.up.append(nn.ConvTranspose3d(below, skip, 2, 2, bias=False))
                self.dec.append(nn.Sequential(block(2 * skip, skip, 1), block(skip, last, 1)))
                self.heads.append(nn.Conv3d(last, out_ch, 1, bias=False))
                below = last

        def forward(self, x):
            skips = []
            for e in self.enc:
                x = e(x)
                skips.append(x)
            outs = []
            for i, (u, d, h) in enumerate(zip(self.up, self.dec, self.heads)):
                x = d(torch.cat([u(x), skips[-2 - i]], 1))
                outs.append(h(x))
            return outs[::-1] if deep_supervision else outs[-1:]  # highest resolution first

    return UNet()


def bench_train_step(torch, variant, patch, batch, steps):
    import torch.nn.functional as F

    torch.manual_seed(0)
    net = build_unet(torch, variant, patch)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True)  # no weight decay: tfjs momentum has none, keep the work equal
    x = torch.randn(batch, 4, patch, patch, patch)
    with torch.no_grad():
        shapes = [o.shape for o in net(x)]
    targets = [(torch.rand(s) > 0.5).float() for s in shapes]
    weights = [1 / 2 ** i for i in range(len(shapes))]
    weights[-1] = 0 if len(weights) > 1 else weights[-1]
    total = sum(weights)
    weights = [w / total for w in weights]
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        outs = net(x)
        loss = sum(w * F.binary_cross_entropy_with_logits(o, t) for w, o, t in zip(weights, outs, targets))
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if i > 0:
            times.append(dt * 1e3)
    times.sort()
    params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return {"msPerStep": times[len(times) // 2], "parameters": params, "variant": variant, "patch": patch, "batch": batch}


def sliding_steps(patch, size, step):
    """nnU-Net's window origins along one axis (compute_steps_for_sliding_window)."""
    if size <= patch:
        return [0]
    import math

    n = math.ceil((size - patch) / (patch * step)) + 1
    actual = (size - patch) / (n - 1)
    return [int(round(actual * i)) for i in range(n)]


def bench_inference(torch, variant, shape, patch, step, tta):
    import torch.nn.functional as F

    d, h, w, c = shape
    torch.manual_seed(0)
    net = build_unet(torch, variant, patch, in_ch=c, deep_supervision=False)
    net.eval()
    t0 = time.perf_counter()
    x = torch.randn(1, c, d, h, w)
    # Pad to at least the patch (as voxseg and nnU-Net do).
    pads = [max(0, patch - s) for s in (d, h, w)]
    if any(pads):
        x = F.pad(x, (pads[2] // 2, pads[2] - pads[2] // 2, pads[1] // 2, pads[1] - pads[1] // 2, pads[0] // 2, pads[0] - pads[0] // 2))
    _, _, pd, ph, pw = x.shape
    origins = [(z, y, xx) for z in sliding_steps(patch, pd, step) for y in sliding_steps(patch, ph, step) for xx in sliding_steps(patch, pw, step)]
    # Gaussian importance map, sigma = patch / 8, normalised to max 1 (nnU-Net's _get_gaussian).
    r = torch.arange(patch, dtype=torch.float32) - (patch - 1) / 2
    g1 = torch.exp(-(r ** 2) / (2 * (patch / 8) ** 2))
    g = g1[:, None, None] * g1[None, :, None] * g1[None, None, :]
    g = g / g.max()
    g[g == 0] = g[g > 0].min()
    acc = torch.zeros(3, pd, ph, pw)
    wsum = torch.zeros(pd, ph, pw)
    flips = [()] + ([(4,), (3,), (2,), (4, 3), (4, 2), (3, 2), (4, 3, 2)] if tta else [])
    with torch.no_grad():
        for z, y, xx in origins:
            win = x[:, :, z:z + patch, y:y + patch, xx:xx + patch]
            prob = torch.zeros(3, patch, patch, patch)
            for f in flips:
                inp = torch.flip(win, f) if f else win
                out = torch.sigmoid(net(inp)[0])
                prob += (torch.flip(out, f) if f else out)[0]
            prob /= len(flips)
            acc[:, z:z + patch, y:y + patch, xx:xx + patch] += prob * g
            wsum[z:z + patch, y:y + patch, xx:xx + patch] += g
    probs = acc / wsum
    labels = (probs > 0.5).to(torch.uint8)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "windows": len(origins), "tta": tta, "variant": variant, "shape": shape, "patch": patch, "step": step, "positives": int(labels.sum())}


if __name__ == "__main__":
    sys.exit(main())

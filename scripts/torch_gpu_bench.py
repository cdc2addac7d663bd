#!/usr/bin/env python3
"""PyTorch CUDA reference for `npm run bench:gpu` (scripts/gpu-bench.mjs): the same conv3d,
U-Net training step and whole-case sliding-window inference as the WebGPU figures, on the
same GPU, in fp32 with TF32 off (WebGPU computes in fp32). Prints one JSON object on the last
line of stdout; {"skipped": reason} (exit 0) without torch or CUDA.

The network is torch_bench.py's (nnU-Net's Generic_UNet as @voxseg/plugin-unet builds it).
Inference: windows at nnU-Net's step 0.5, Gaussian weighting (sigma = patch/8), sigmoid before
averaging, mirrored passes over the 8 flips with --tta; batch of one window.

`--device cpu --tiny` runs the same code on the CPU at gpu-bench.mjs's `--tiny` sizes (conv3d
8^3 and 16^3 4->4, a BL step at 16^3 batch 1, a 20x24x18 case at patch 16): a check that the
script works on a machine without CUDA, not a figure. The CUDA path (the default) is unchanged.
"""
import argparse
import importlib.util
import json
import os
import sys
import time


def emit(obj):
    print(json.dumps(obj))


def sync(torch, dev):
    """Wait for the device's queued work (CUDA runs asynchronously; the CPU does not)."""
    if dev.type == "cuda":
        torch.cuda.synchronize()


def load_torch_bench():
    spec = importlib.util.spec_from_file_location("torch_bench", os.path.join(os.path.dirname(__file__), "torch_bench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="64,128")
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--patch", type=int, default=128)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--case", default="155,240,240")
    p.add_argument("--infer-patch", type=int, default=128)
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="cpu: a rehearsal of the script without CUDA")
    p.add_argument("--tiny", action="store_true", help="gpu-bench.mjs's --tiny sizes (overrides the size flags)")
    a = p.parse_args()
    if a.tiny:
        a.sizes, a.channels, a.repeats, a.patch, a.batch, a.steps, a.case, a.infer_patch = "8,16", 4, 1, 16, 1, 2, "20,24,18", 16
    try:
        import torch
    except Exception as e:
        emit({"skipped": f"torch not importable ({e})"})
        return 0
    if a.device == "cuda":
        if not torch.cuda.is_available():
            emit({"skipped": "torch has no CUDA device"})
            return 0
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
        name = torch.cuda.get_device_name(0)
    else:
        name = "cpu"
    dev = torch.device(a.device)
    out = {"torch": torch.__version__, "device": name, "tf32": False, "tiny": a.tiny, "conv3d": []}
    for s in [int(v) for v in a.sizes.split(",")]:
        out["conv3d"].append(bench_conv3d(torch, dev, s, a.channels, a.repeats))
    tb = load_torch_bench()
    out["trainStep"] = bench_train_step(torch, dev, tb, a.patch, a.batch, a.steps)
    case = [int(v) for v in a.case.split(",")]
    out["inference"] = {tta: bench_inference(torch, dev, tb, case, a.infer_patch, tta) for tta in ("none", "mirror8")}
    emit(out)
    return 0


def bench_conv3d(torch, dev, s, c, repeats):
    import torch.nn.functional as F

    x = torch.full((1, c, s, s, s), 0.5, device=dev, requires_grad=True)
    w = torch.full((c, c, 3, 3, 3), 0.01, device=dev, requires_grad=True)
    dy = torch.full((1, c, s, s, s), 0.1, device=dev)
    best = None
    for i in range(repeats + 1):
        sync(torch, dev)
        t0 = time.perf_counter()
        y = F.conv3d(x, w, padding=1)
        sync(torch, dev)
        t1 = time.perf_counter()
        torch.autograd.grad(y, [x, w], dy)
        sync(torch, dev)
        t2 = time.perf_counter()
        if i > 0 and (best is None or t2 - t0 < best[0] + best[1]):
            best = (t1 - t0, t2 - t1)
    flops = 3 * 2 * s ** 3 * 27 * c * c
    return {"size": s, "channels": c, "tflops": flops / (best[0] + best[1]) / 1e12, "msForward": best[0] * 1e3, "msBackward": best[1] * 1e3}


def bench_train_step(torch, dev, tb, patch, batch, steps):
    import torch.nn.functional as F

    torch.manual_seed(0)
    net = tb.build_unet(torch, "BL", patch).to(dev)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True)
    x = torch.randn(batch, 4, patch, patch, patch, device=dev)
    with torch.no_grad():
        shapes = [o.shape for o in net(x)]
    targets = [(torch.rand(s, device=dev) > 0.5).float() for s in shapes]
    weights = [1 / 2 ** i for i in range(len(shapes))]
    weights[-1] = 0 if len(weights) > 1 else weights[-1]
    weights = [w / sum(weights) for w in weights]
    times = []
    for i in range(steps + 1):
        sync(torch, dev)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        outs = net(x)
        loss = sum(w * F.binary_cross_entropy_with_logits(o, t) for w, o, t in zip(weights, outs, targets))
        loss.backward()
        opt.step()
        loss.item()
        dt = time.perf_counter() - t0
        if i > 0:
            times.append(dt * 1e3)
    times.sort()
    return {"msPerStep": times[len(times) // 2], "patch": patch, "batch": batch, "variant": "BL"}


def steps_for(size, patch):
    if size <= patch:
        return [0]
    n = -(-(size - patch) // (patch // 2)) + 1
    return [round(i * (size - patch) / (n - 1)) for i in range(n)]


def bench_inference(torch, dev, tb, case, patch, tta):
    net = tb.build_unet(torch, "BL", patch).to(dev).eval()
    D, H, W = case
    pad = [max(0, patch - e) for e in case]
    vol = torch.randn(1, 4, D + pad[0], H + pad[1], W + pad[2], device=dev)
    sigma = patch / 8
    g = torch.exp(-((torch.arange(patch, device=dev) - (patch - 1) / 2) ** 2) / (2 * sigma ** 2))
    gauss = g[:, None, None] * g[None, :, None] * g[None, None, :]
    flips = [()] if tta == "none" else [f for f in ([], [2], [3], [4], [2, 3], [2, 4], [3, 4], [2, 3, 4])]
    sync(torch, dev)
    t0 = time.perf_counter()
    with torch.no_grad():
        acc = torch.zeros(1, 3, *vol.shape[2:], device=dev)
        wsum = torch.zeros(*vol.shape[2:], device=dev)
        for z in steps_for(vol.shape[2], patch):
            for y in steps_for(vol.shape[3], patch):
                for x in steps_for(vol.shape[4], patch):
                    win = vol[:, :, z:z + patch, y:y + patch, x:x + patch]
                    prob = 0
                    for f in flips:
                        o = net(torch.flip(win, list(f)) if f else win)[0]
                        prob = prob + torch.sigmoid(torch.flip(o, list(f)) if f else o)
                    acc[:, :, z:z + patch, y:y + patch, x:x + patch] += prob / len(flips) * gauss
                    wsum[z:z + patch, y:y + patch, x:x + patch] += gauss
        res = (acc / wsum)[:, :, :D, :H, :W]
        res.sum().item()
    return {"seconds": time.perf_counter() - t0, "case": case, "patch": patch}


if __name__ == "__main__":
    sys.exit(main())

"""Golden values for voxseg's AdamW and warmup-cosine scheduler
(packages/core/src/training/adamw.test.ts).

AdamW: runs PyTorch's own torch.optim.AdamW on the problem of golden_sgd.py (two parameters,
loss = sum(s * w^3 / 3 + c * w), so the gradient depends on the weights) with a learning rate
that changes between steps, and records the weights and both moments after every step.

warmup-cosine: PyTorch has no single scheduler for it, so the values come from
torch.optim.lr_scheduler.LambdaLR with the closed form as its lambda, stepped once per
iteration (what voxseg's trainer does), and read back from the optimizer's param group.

Usage: /usr/bin/python3 packages/core/scripts/golden_adamw_schedulers.py > packages/core/src/training/adamw.golden.json
(tested with Debian's python3-torch 1.13).
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float32)


# The same problem (initial weights, s, c) as the SGD golden values, read from their file.
HERE = os.path.dirname(os.path.abspath(__file__))
INITIAL = json.load(open(os.path.join(HERE, "..", "src", "training", "sgd.golden.json")))["initial"]

CASES = [
    {"name": "torch-defaults", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "lrs": [0.01, 0.01, 0.009, 0.02, 0.005, 0.001]},
    {"name": "strong-decay", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.5, "lrs": [0.05, 0.04, 0.03, 0.02, 0.01, 0.01]},
]


def run(case):
    params = {k: torch.tensor(v["w"]).reshape(v["shape"]).clone().requires_grad_(True) for k, v in INITIAL.items()}
    s = {k: torch.tensor(v["s"]).reshape(v["shape"]) for k, v in INITIAL.items()}
    c = {k: torch.tensor(v["c"]).reshape(v["shape"]) for k, v in INITIAL.items()}
    order = ["w1", "w2"]
    opt = torch.optim.AdamW([params[k] for k in order], lr=case["lrs"][0], betas=(case["beta1"], case["beta2"]),
                            eps=case["eps"], weight_decay=case["weight_decay"], foreach=False)
    steps = []
    for lr in case["lrs"]:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = sum((s[k] * params[k] ** 3 / 3 + c[k] * params[k]).sum() for k in order)
        loss.backward()
        opt.step()
        st = [opt.state[params[k]] for k in order]
        steps.append({
            "w1": params["w1"].detach().reshape(-1).tolist(),
            "w2": params["w2"].detach().reshape(-1).tolist(),
            "m1": st[0]["exp_avg"].reshape(-1).tolist(),
            "v2": st[1]["exp_avg_sq"].reshape(-1).tolist(),
        })
    return {**case, "steps": steps}


SCHEDULES = [
    {"initialLr": 0.01, "epochs": 3, "iterationsPerEpoch": 4, "warmupIterations": 5, "minLr": 0.0},
    {"initialLr": 0.002, "epochs": 2, "iterationsPerEpoch": 5, "warmupIterations": 0, "minLr": 1e-4},
]


def schedule(cfg):
    total = cfg["epochs"] * cfg["iterationsPerEpoch"]
    warm = min(cfg["warmupIterations"], total)
    lr0, lo = cfg["initialLr"], cfg["minLr"]

    def factor(t):
        if t < warm:
            return (t + 1) / warm
        span = total - warm
        p = min(1.0, (t - warm) / span) if span > 0 else 1.0
        return (lo + (lr0 - lo) * (1 + math.cos(math.pi * p)) / 2) / lr0

    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {**cfg, "lrs": lrs}


print(json.dumps({"generatedBy": f"packages/core/scripts/golden_adamw_schedulers.py, torch {torch.__version__}",
                  "initial": INITIAL, "adamw": [run(c) for c in CASES], "warmupCosine": [schedule(s) for s in SCHEDULES]}, indent=1))

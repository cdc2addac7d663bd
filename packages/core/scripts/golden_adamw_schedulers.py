"""Golden values for voxseg's AdamW and warmup-cosine scheduler
(packages/core/src/training/adamw.test.ts).

AdamW: runs PyTorch's own torch.optim.AdamW on the problem of the SGD golden values
(cubic_problem.py: two parameters, loss = sum(s * w^3 / 3 + c * w), so the gradient depends on
the weights) with a learning rate that changes between steps, and records the weights and both
moments after every step.

warmup-cosine: PyTorch has no single scheduler for it, so the values come from
torch.optim.lr_scheduler.LambdaLR with the closed form as its lambda, stepped once per
iteration (what voxseg's trainer does), and read back from the optimizer's param group.

Usage: /usr/bin/python3 packages/core/scripts/golden_adamw_schedulers.py > packages/core/src/training/adamw.golden.json
(tested with Debian's python3-torch 1.13).
"""
import json
import math

import torch

from cubic_problem import INITIAL, flat, steps

CASES = [
    {"name": "torch-defaults", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "lrs": [0.01, 0.01, 0.009, 0.02, 0.005, 0.001]},
    {"name": "strong-decay", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.5, "lrs": [0.05, 0.04, 0.03, 0.02, 0.01, 0.01]},
]


def run(case):
    make = lambda ps: torch.optim.AdamW(ps, lr=case["lrs"][0], betas=(case["beta1"], case["beta2"]), eps=case["eps"], weight_decay=case["weight_decay"], foreach=False)
    out = []
    for opt, params, _ in steps(make, case["lrs"]):
        out.append({
            "w1": flat(params["w1"]),
            "w2": flat(params["w2"]),
            "m1": flat(opt.state[params["w1"]]["exp_avg"]),
            "v2": flat(opt.state[params["w2"]]["exp_avg_sq"]),
        })
    return {**case, "steps": out}


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

"""Golden values for voxseg's SGD + gradient-norm clipping (packages/core/src/training/sgd.test.ts).

Runs PyTorch's own torch.optim.SGD and torch.nn.utils.clip_grad_norm_ (nnU-Net's training
step: loss.backward(); clip_grad_norm_(params, max_norm); optimizer.step()) on a small
problem whose gradient depends on the weights, and records the weights after every step.

Problem: two parameters w1 [3, 4] and w2 [5]; loss = sum(s * w^3 / 3 + c * w) per parameter,
so grad = s * w^2 + c. Initial values, s and c come from closed-form formulas that the
TypeScript test recomputes (see `initial` in the JSON for the exact numbers used).

Usage: /usr/bin/python3 packages/core/scripts/golden_sgd.py > packages/core/src/training/sgd.golden.json
(tested with Debian's python3-torch 1.13).
"""
import json
import math

import torch

torch.set_default_dtype(torch.float32)


def values(n, f):
    return [f(i) for i in range(n)]


INITIAL = {
    "w1": {"shape": [3, 4], "w": values(12, lambda i: math.sin(i + 1) * 0.8), "s": values(12, lambda i: 0.5 + 0.1 * (i % 3)), "c": values(12, lambda i: 3.0 * math.cos(0.7 * i))},
    "w2": {"shape": [5], "w": values(5, lambda i: 0.3 * (i - 2)), "s": values(5, lambda i: 0.2 * (i + 1)), "c": values(5, lambda i: -1.5 + 0.5 * i)},
}

CASES = [
    # nnU-Net's settings; learning rates large enough that weights move visibly, and a
    # schedule that changes mid-run; max_norm between the first and the later gradient norms
    # so the first steps are not clipped and the later ones are.
    {"name": "nnunet", "momentum": 0.99, "nesterov": True, "weight_decay": 3e-5, "max_norm": 7.95,
     "lrs": [0.01, 0.01, 0.009, 0.009, 0.02, 0.005]},
    # Large weight decay and plain momentum so both code paths are visible in the numbers.
    {"name": "plain-momentum-strong-wd", "momentum": 0.9, "nesterov": False, "weight_decay": 0.1, "max_norm": 5.0,
     "lrs": [0.05, 0.05, 0.04, 0.03, 0.02, 0.01]},
    # Threshold so large that clipping never triggers.
    {"name": "nesterov-no-clip", "momentum": 0.95, "nesterov": True, "weight_decay": 1e-3, "max_norm": 1e6,
     "lrs": [0.01, 0.02, 0.03, 0.02, 0.01, 0.01]},
]


def run(case):
    params = {k: torch.tensor(v["w"]).reshape(v["shape"]).clone().requires_grad_(True) for k, v in INITIAL.items()}
    s = {k: torch.tensor(v["s"]).reshape(v["shape"]) for k, v in INITIAL.items()}
    c = {k: torch.tensor(v["c"]).reshape(v["shape"]) for k, v in INITIAL.items()}
    order = ["w1", "w2"]
    opt = torch.optim.SGD([params[k] for k in order], lr=case["lrs"][0], momentum=case["momentum"],
                          nesterov=case["nesterov"], weight_decay=case["weight_decay"])
    steps = []
    for lr in case["lrs"]:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = sum((s[k] * params[k] ** 3 / 3 + c[k] * params[k]).sum() for k in order)
        loss.backward()
        total = torch.nn.utils.clip_grad_norm_([params[k] for k in order], case["max_norm"])
        opt.step()
        steps.append({
            "totalNorm": float(total),
            "clipped": bool(float(total) > case["max_norm"]),
            "w1": params["w1"].detach().reshape(-1).tolist(),
            "w2": params["w2"].detach().reshape(-1).tolist(),
            "buf1": opt.state[params["w1"]]["momentum_buffer"].reshape(-1).tolist(),
            "buf2": opt.state[params["w2"]]["momentum_buffer"].reshape(-1).tolist(),
        })
    return {**case, "steps": steps}


print(json.dumps({"generatedBy": f"packages/core/scripts/golden_sgd.py, torch {torch.__version__}",
                  "initial": INITIAL, "cases": [run(c) for c in CASES]}, indent=1))

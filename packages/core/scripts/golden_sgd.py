"""Golden values for voxseg's SGD + gradient-norm clipping (packages/core/src/training/sgd.test.ts).

Runs PyTorch's own torch.optim.SGD and torch.nn.utils.clip_grad_norm_ (nnU-Net's training
step: loss.backward(); clip_grad_norm_(params, max_norm); optimizer.step()) on a small
problem whose gradient depends on the weights, and records the weights after every step.

Problem: cubic_problem.py (two parameters, loss = sum(s * w^3 / 3 + c * w), so
grad = s * w^2 + c; see `initial` in the JSON for the exact numbers used).

Usage: /usr/bin/python3 packages/core/scripts/golden_sgd.py > packages/core/src/training/sgd.golden.json
(tested with Debian's python3-torch 1.13).
"""
import json

import torch

from cubic_problem import INITIAL, flat, steps

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
    make = lambda ps: torch.optim.SGD(ps, lr=case["lrs"][0], momentum=case["momentum"], nesterov=case["nesterov"], weight_decay=case["weight_decay"])
    out = []
    for opt, params, total in steps(make, case["lrs"], case["max_norm"]):
        out.append({
            "totalNorm": float(total),
            "clipped": bool(float(total) > case["max_norm"]),
            "w1": flat(params["w1"]),
            "w2": flat(params["w2"]),
            "buf1": flat(opt.state[params["w1"]]["momentum_buffer"]),
            "buf2": flat(opt.state[params["w2"]]["momentum_buffer"]),
        })
    return {**case, "steps": out}


print(json.dumps({"generatedBy": f"packages/core/scripts/golden_sgd.py, torch {torch.__version__}",
                  "initial": INITIAL, "cases": [run(c) for c in CASES]}, indent=1))

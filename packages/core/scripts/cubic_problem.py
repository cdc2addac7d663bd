"""The small optimisation problem behind the optimizer golden values (golden_sgd.py,
golden_adamw_schedulers.py), in one place so both run PyTorch on exactly the same numbers.

Two parameters w1 [3, 4] and w2 [5]; loss = sum(s * w^3 / 3 + c * w) per parameter, so
grad = s * w^2 + c depends on the weights. Initial values, s and c come from closed-form
formulas that the TypeScript tests recompute (the golden files carry them as `initial`).
"""
import math

import torch

torch.set_default_dtype(torch.float32)

ORDER = ["w1", "w2"]


def values(n, f):
    return [f(i) for i in range(n)]


INITIAL = {
    "w1": {"shape": [3, 4], "w": values(12, lambda i: math.sin(i + 1) * 0.8), "s": values(12, lambda i: 0.5 + 0.1 * (i % 3)), "c": values(12, lambda i: 3.0 * math.cos(0.7 * i))},
    "w2": {"shape": [5], "w": values(5, lambda i: 0.3 * (i - 2)), "s": values(5, lambda i: 0.2 * (i + 1)), "c": values(5, lambda i: -1.5 + 0.5 * i)},
}


def steps(make_optimizer, lrs, max_norm=None):
    """Train the problem with the optimizer `make_optimizer(param_list)`, one step per learning
    rate in `lrs` (set on every param group before the step, as a scheduler does), as nnU-Net's
    training step: loss.backward(); clip_grad_norm_(params, max_norm) when given; optimizer.step().
    Yields (optimizer, params by name, total gradient norm or None) after each step."""
    params = {k: torch.tensor(v["w"]).reshape(v["shape"]).clone().requires_grad_(True) for k, v in INITIAL.items()}
    s = {k: torch.tensor(v["s"]).reshape(v["shape"]) for k, v in INITIAL.items()}
    c = {k: torch.tensor(v["c"]).reshape(v["shape"]) for k, v in INITIAL.items()}
    opt = make_optimizer([params[k] for k in ORDER])
    for lr in lrs:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = sum((s[k] * params[k] ** 3 / 3 + c[k] * params[k]).sum() for k in ORDER)
        loss.backward()
        total = torch.nn.utils.clip_grad_norm_([params[k] for k in ORDER], max_norm) if max_norm is not None else None
        opt.step()
        yield opt, params, total


def flat(t):
    """A tensor as a flat list of floats (the golden files' layout)."""
    return t.detach().reshape(-1).tolist()

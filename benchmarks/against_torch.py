"""relu-lab's update rules against torch.optim, step for step (needs PyTorch: pip install torch).

For every registered rule, with and without the penalties (train.clip, weight_decay on the weights,
l1), one network trains for STEPS full-batch steps twice: by relu-lab (`fit`, on each engine) and by
a plain PyTorch loop from the same initial weights (float64). It prints the largest difference of any
parameter, relative to the largest parameter. The loop is what the README says each rule is: the
gradient clipped to a global norm, l1 sign(W) added to the weights' gradient, then the torch.optim
rule with weight_decay on the weights only. The clip is written out as relu-lab's, g * clip / (|g| + 1e-12):
torch.nn.utils.clip_grad_norm_ divides by |g| + 1e-6 instead, which alone differs by about 1e-6 / |g|.

    python benchmarks/against_torch.py [--steps 50]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from relu_lab.experiment import resolve
from relu_lab.loading import config_from_dict
from relu_lab.optimizers import OPTIMIZERS
from relu_lab.trainer import fit, member_rngs

LR = 0.01


def torch_rule(name: str, groups: list[dict], a: dict) -> torch.optim.Optimizer:
    """torch.optim's algorithm for a relu-lab rule name, with the rule's arguments."""
    rules = {
        "sgd": lambda: torch.optim.SGD(groups, lr=LR),
        "momentum": lambda: torch.optim.SGD(groups, lr=LR, momentum=a.get("momentum")),
        "nesterov": lambda: torch.optim.SGD(groups, lr=LR, momentum=a.get("momentum"), nesterov=True),
        "adam": lambda: torch.optim.Adam(groups, lr=LR, betas=(a.get("beta1"), a.get("beta2")), eps=a.get("eps")),
        "rmsprop": lambda: torch.optim.RMSprop(groups, lr=LR, alpha=a.get("alpha"), eps=a.get("eps")),
        "adagrad": lambda: torch.optim.Adagrad(groups, lr=LR, eps=a.get("eps")),
        "adadelta": lambda: torch.optim.Adadelta(groups, lr=LR, rho=a.get("rho"), eps=a.get("eps")),
    }
    if name not in rules:
        raise SystemExit(f"no torch.optim counterpart written here for rule '{name}': add it to torch_rule")
    return rules[name]()


def by_torch(exp, steps: int, name: str, args: dict, clip: float | None, wd: float, l1: float) -> dict:
    state = exp.network([member_rngs(exp.config.seed)[0]]).state()
    L = sum(1 for k in state if k.startswith("W"))
    W = [torch.tensor(state[f"W{l}"][0], requires_grad=True) for l in range(L)]
    b = [torch.tensor(state[f"b{l}"][0], requires_grad=True) for l in range(L)]
    X, Y = torch.tensor(exp.data.X), torch.tensor(exp.data.Y)
    opt = torch_rule(name, [{"params": W, "weight_decay": wd}, {"params": b, "weight_decay": 0.0}], args)
    for _ in range(steps):
        opt.zero_grad()
        a = X
        for l in range(L):
            z = a @ W[l] + b[l]
            a = torch.tanh(z) if l < L - 1 else z
        torch.mean(torch.sum((a - Y) ** 2, dim=1)).backward()  # relu-lab's mse: summed over outputs, mean over samples
        with torch.no_grad():
            if clip is not None:
                norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in W + b))
                for p in W + b:
                    p.grad *= min(1.0, clip / (float(norm) + 1e-12))
            for w in W:
                w.grad += l1 * torch.sign(w)
        opt.step()
    return {f"W{l}": W[l].detach().numpy() for l in range(L)} | {f"b{l}": b[l].detach().numpy() for l in range(L)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    torch.set_default_dtype(torch.float64)
    penalties = {"none": (None, 0.0, 0.0), "clip 0.5": (0.5, 0.0, 0.0), "L2 1e-3": (None, 1e-3, 0.0),
                 "L1 1e-3": (None, 0.0, 1e-3), "clip 0.5, L2 1e-3, L1 1e-3": (0.5, 1e-3, 1e-3)}
    print(f"Largest |relu-lab - torch| / largest |parameter| after {args.steps} full-batch steps (1-8-8-1 tanh, "
          "mse, 60 points):")
    print(f"  {'rule':<10} {'penalties':<28} {'numpy':>9} {'compiled':>9}")
    for name, rule in OPTIMIZERS.items():
        for label, (clip, wd, l1) in penalties.items():
            figures = []
            for engine in ("numpy", "compiled"):
                raw = {"data": {"name": "interpolation", "n": 60}, "model": {"layers": [1, 8, 8, 1], "hidden": "tanh",
                       "output": "linear"}, "loss": "mse", "engine": engine, "diagnostics": False,
                       "log_every": args.steps, "train": {"lr": LR, "epochs": args.steps, "optimizer": name,
                                                          "clip": clip, "weight_decay": wd, "l1": l1}}
                exp = resolve(config_from_dict(raw))
                ours = {k: v[0] for k, v in fit(exp).net.state().items()}
                theirs = by_torch(exp, args.steps, name, rule.params, clip, wd, l1)
                scale = max(float(np.abs(v).max()) for v in theirs.values())
                figures.append(max(float(np.abs(ours[k] - theirs[k]).max()) for k in theirs) / scale)
            print(f"  {name:<10} {label:<28} {figures[0]:9.1e} {figures[1]:9.1e}", flush=True)


if __name__ == "__main__":
    main()

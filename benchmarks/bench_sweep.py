"""Sweep speed (best of repeated runs): member-steps per second of the stacked ensemble against one member at a time.

W1 = seed 003's deep XOR (2-5x10-1, full batch, 2000 steps), 8 learning rates x 32 seeds = 256 members.
W2 = seed 004's circle (2-20-1, leaky ReLU, online SGD, 200 points, 20 epochs = 4000 steps), 64 members.

Prints, for each workload: the sweep's member-steps/s (run_sweep, files included), the same
members trained one after another through the single-run path (`fit` with K = 1, timed on a
sample of members and scaled), their ratio, the cost per member-step as the ensemble grows
from 16 to 1024 members, and the peak memory of a 1024-member W1 sweep (in a subprocess).

    python benchmarks/bench_sweep.py [--quick]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from relu_lab.experiment import resolve
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict
from relu_lab.plan import Axis, plan_sweep
from relu_lab.trainer import fit

W1 = {
    "name": "w1",
    "data": {"name": "xor"},
    "model": {"layers": [2] + [5] * 10 + [1], "hidden": "relu", "init": "uniform", "init_scale": 1.0},
    "loss": "bce",
    "train": {"lr": 0.1, "epochs": 2000, "order": "sequential"},
    "success": {"metric": "accuracy", "at_least": 1.0},
}
W2 = {
    "name": "w2",
    "data": {"name": "circle", "n": 200},
    "model": {"layers": [2, 20, 1], "hidden": "leaky_relu", "activation_params": {"leaky_relu": {"slope": 0.1}},
              "init": "uniform", "init_scale": 1.5, "bias_init": "like_weights"},
    "loss": "half_mse",
    "train": {"lr": 0.01, "lr_decay": 0.9999, "epochs": 20, "batch_size": 1, "order": "shuffle"},
    "success": {"metric": "accuracy", "at_least": 0.9},
}
W1_LRS = [float(v) for v in np.logspace(-3, 0.5, 8)]


def sweep_rate(raw: dict, lrs: list[float], seeds: int, repeats: int = 3) -> tuple[float, int]:
    """Best of `repeats` runs of run_sweep (files included; the first run also warms up)."""
    plan = plan_sweep(config_from_dict(dict(raw)), [Axis("train.lr", lrs)], list(range(seeds)))
    best = float("inf")
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            t0 = time.perf_counter()
            report = run_sweep(plan, out)
            best = min(best, time.perf_counter() - t0)
    return report.member_steps / best, len(plan.members)


def alone_rate(raw: dict, lrs: list[float], sample: int) -> float:
    """Member-steps/s of members trained one at a time (K = 1), on `sample` members."""
    steps, seconds = 0, 0.0
    for i in range(sample):
        member = dict(raw) | {"seed": i, "train": raw["train"] | {"lr": lrs[i % len(lrs)]}}
        exp = resolve(config_from_dict(member))
        t0 = time.perf_counter()
        result = fit(exp)
        seconds += time.perf_counter() - t0
        steps += result.steps_done
    return steps / seconds


def peak_memory_mb(members: int) -> float:
    code = (
        "import resource, tempfile, sys; sys.argv=['x'];"
        "from benchmarks.bench_sweep import W1, W1_LRS; from relu_lab.loading import config_from_dict;"
        "from relu_lab.grid import run_sweep; from relu_lab.plan import Axis, plan_sweep;"
        f"plan = plan_sweep(config_from_dict(dict(W1)), [Axis('train.lr', W1_LRS)], list(range({members} // 8)));"
        "d = tempfile.mkdtemp(); run_sweep(plan, d);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller samples, no memory measurement")
    args = parser.parse_args()
    sample = 4 if args.quick else 12

    print("W1: deep XOR 2-5x10-1, full batch, 2000 steps, 8 lrs x 32 seeds = 256 members")
    rate, k = sweep_rate(W1, W1_LRS, 32, repeats=2)
    alone = alone_rate(W1, W1_LRS, sample)
    print(f"  sweep   {rate:12,.0f} member-steps/s ({k} members)")
    print(f"  alone   {alone:12,.0f} member-steps/s (K = 1, {sample} members one after another)")
    print(f"  ratio   {rate / alone:12.1f} x")

    print("W2: circle 2-20-1 leaky ReLU, online SGD, 200 points x 20 epochs = 4000 steps, 64 members")
    rate2, k2 = sweep_rate(W2, [0.01], 64)
    alone2 = alone_rate(W2, [0.01], sample)
    print(f"  sweep   {rate2:12,.0f} member-steps/s ({k2} members)")
    print(f"  alone   {alone2:12,.0f} member-steps/s")
    print(f"  ratio   {rate2 / alone2:12.1f} x")

    print("W1 cost per member-step as the ensemble grows (W1 with fewer epochs: 500 steps)")
    short = W1 | {"train": W1["train"] | {"epochs": 500}}
    for members in (16, 64, 256, 1024):
        r, _ = sweep_rate(short, W1_LRS, members // 8, repeats=2)
        print(f"  {members:5d} members  {1e6 / r:8.3f} us per member-step  ({r:,.0f}/s)")

    if not args.quick:
        print(f"W1 with 1024 members: peak memory {peak_memory_mb(1024):.0f} MB (max RSS of the process)")
    print(f"(this process: max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()

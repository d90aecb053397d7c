"""Time `relu-lab train` on seed 003's deep XOR (ReLU) against a bare NumPy loop.

    python benchmarks/bench_train.py [--repeats 3] [--steps N]

Three measurements, each repeated and the best (least) wall time kept:

  library   load_config + train_run(out=<temporary directory>), no callbacks:
            what `relu-lab train --quiet` does minus interpreter start-up
            (it includes resolving, the ~200 logged evaluations, metrics.csv,
            summary.json and params.npz)
  cli       `relu-lab train CONFIG --quiet --out <tmp>` as a subprocess:
            the above plus Python start-up and imports
  bare-cli  the bare loop run as its own Python process (this script with --bare-only):
            what the CLI figure is compared with, start-up included on both sides
  bare      the same 2-5x10-1 net written here with plain 2-D arrays (no
            ensemble axis): U[-1, 1] weights, zero biases, ReLU hidden layers,
            sigmoid output, mean binary cross-entropy, full-batch gradient
            descent with lr 0.1, the same number of steps, no logging

The bare loop draws its initial weights exactly as relu-lab does for member
seed 0 (relu_lab.trainer.member_rngs: the first child of SeedSequence(seed),
one uniform draw per layer in order), so both end at the same cost; the script
prints both as a check that the comparison is like for like.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from relu_lab.experiment import resolve
from relu_lab.loading import load_config
from relu_lab.run import train_run
from relu_lab.trainer import fit

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "seed003_deep_xor_relu.yaml"


def bare_loop(layers: list[int], steps: int, lr: float, seed: int = 0) -> tuple[float, float]:
    """Full-batch GD on XOR; returns the final mean bce cost and accuracy."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    W = [rng.uniform(-1.0, 1.0, size=(m, n)) for m, n in zip(layers[:-1], layers[1:])]
    b = [np.zeros((1, n)) for n in layers[1:]]
    L, n = len(W), len(X)

    def forward():
        acts, zs, a = [X], [], X
        for l in range(L):
            z = a @ W[l] + b[l]
            a = np.maximum(z, 0.0) if l < L - 1 else 1.0 / (1.0 + np.exp(-z))
            zs.append(z)
            acts.append(a)
        return acts, zs

    with np.errstate(over="ignore"):
        for _ in range(steps):
            acts, zs = forward()
            delta = (acts[-1] - Y) / n  # d(mean bce)/dz for a sigmoid output
            for l in range(L - 1, -1, -1):
                gW = acts[l].T @ delta
                gb = delta.sum(axis=0, keepdims=True)
                if l > 0:
                    delta = (delta @ W[l].T) * (zs[l - 1] > 0)
                W[l] -= lr * gW
                b[l] -= lr * gb
        acts, zs = forward()
    z = zs[-1]
    cost = float(np.mean(np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))) - Y * z))
    acc = float(np.mean((acts[-1] > 0.5) == (Y > 0.5)))
    return cost, acc


CIRCLE = ROOT / "configs" / "seed004_circle.yaml"
CIRCLE_SHORT = ["data.n=200", "data.test_n=500", "train.phases.0.epochs=60", "train.phases.1.epochs=140",
                "log_every=null"]


def diagnostics_overhead(config: Path, overrides: list[str], repeats: int = 6) -> tuple[float, float, int]:
    """Training seconds with and without diagnostics at the config's log interval, best of `repeats`
    runs taken in turns (this machine's speed drifts), and that interval."""
    resolved = {d: resolve(load_config(config, [*overrides, f"diagnostics={str(d).lower()}"]))
                for d in (True, False)}
    times: dict[bool, float] = {True: float("inf"), False: float("inf")}
    for _ in range(repeats):
        for diag, exp in resolved.items():
            times[diag] = min(times[diag], fit(exp).seconds)
    return times[True], times[False], resolved[True].config.log_every


def best_of(repeats: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="override train.epochs (default: the config's)")
    parser.add_argument("--bare-only", action="store_true", help="run only the bare loop once (for timing a process)")
    args = parser.parse_args()
    overrides = [f"train.epochs={args.steps}"] if args.steps else []
    cfg = load_config(CONFIG, overrides)
    steps, lr, layers = cfg.train.epochs, cfg.train.lr, cfg.model.layers
    if args.bare_only:
        bare_loop(layers, steps, lr, cfg.seed)
        return
    tmp = Path(tempfile.mkdtemp(prefix="relu-lab-bench-"))
    try:

        fit_seconds = []

        def library():
            report = train_run(load_config(CONFIG, overrides), out=tmp / "lib", source=str(CONFIG))
            fit_seconds.append(report.result.seconds)
            return report

        def cli():
            sets = [a for o in overrides for a in ("--set", o)]
            cmd = ["relu-lab", "train", str(CONFIG), *sets, "--quiet", "--no-plots", "--out", str(tmp / "cli")]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

        def bare_process():
            steps_opt = ["--steps", str(args.steps)] if args.steps else []
            subprocess.run([sys.executable, __file__, "--bare-only", *steps_opt], check=True)

        t_bare, (bare_cost, bare_acc) = best_of(args.repeats, lambda: bare_loop(layers, steps, lr, cfg.seed))
        t_bare_proc, _ = best_of(args.repeats, bare_process)
        t_lib, rep = best_of(args.repeats, library)
        t_cli, _ = best_of(args.repeats, cli)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lib_steps = rep.summary["steps"]
    assert lib_steps == steps, (lib_steps, steps)
    print(f"config      {CONFIG.relative_to(ROOT)}  layers {layers}  {steps} full-batch steps, K = 1")
    print(f"python      {sys.version.split()[0]}  numpy {np.__version__}  best of {args.repeats}")
    print(f"final cost  relu-lab {rep.summary['final']['cost']:.6g} (accuracy {rep.summary['final']['accuracy']})"
          f"  bare {bare_cost:.6g} (accuracy {bare_acc})")
    print()
    print(f"{'':30}{'wall s':>9}{'member-steps/s':>16}{'x bare':>9}")
    rows = [
        ("bare NumPy loop", t_bare),
        ("relu-lab fit() alone", min(fit_seconds)),
        ("relu-lab train_run", t_lib),
        ("bare loop (subprocess)", t_bare_proc),
        ("relu-lab CLI (subprocess)", t_cli),
    ]
    for label, t in rows:
        print(f"{label:30}{t:9.3f}{steps / t:16,.0f}{t / t_bare:9.2f}")
    print()
    for label, path, sets in (("seed 003's deep XOR (full batch)", CONFIG, overrides),
                              ("seed 004's circle (online SGD, 200 points, 200 epochs)", CIRCLE, CIRCLE_SHORT)):
        with_d, without_d, every = diagnostics_overhead(path, sets)
        print(f"diagnostics on {label}, logged every {every} epoch(s): "
              f"+{100 * (with_d / without_d - 1):.1f} % training time")
    print(f"ratio relu-lab / bare loop: library {t_lib / t_bare:.2f} (in-process), "
          f"CLI {t_cli / t_bare_proc:.2f} (both as processes, start-up included)")


if __name__ == "__main__":
    main()

"""Engine speed as whole processes: relu-lab's default engine against its NumPy engine and the peers.

Workloads (the seeds' experiments, as in ../shared/bench/peers.py):
  W1      seed 003's deep XOR (2-5x10-1, full batch): 8 lrs x 32 seeds = 256 members x 2000 steps,
          `relu-lab sweep --no-plots`, against `peers.py deep_xor numpy_stacked|torch_vmap 256 2000`
  W2      seed 004's circle net (2-20-1 leaky ReLU, online SGD): ../shared/bench/w2.yaml over
          4 lrs x 64 seeds = 256 members x 20000 steps, against `peers.py circle jax_scan|numpy_stacked 256 20000`
  circle  configs/seed004_circle.yaml at 1/10 of its length (100000 online steps), `relu-lab train
          --no-plots`, against the seed's own style `peers.py circle numpy_loop 1 100000`
  W3      ../shared/bench/w3.yaml (2-16-16-1 tanh, full batch of 400 spiral points): 4 lrs x 16 seeds = 64
          members x 500 steps, against `peers.py spiral numpy_stacked|jax_scan|torch_vmap 64 500`
  W4      ../shared/bench/w4.yaml (2-32-32-1 ReLU, minibatches of 32 over 1024 points): 64 members x 640
          steps, against `peers.py minibatch numpy_stacked|jax_scan 64 640`
  W1-W4 train   a one-member `relu-lab train` of each workload's config, against --engine numpy

relu-lab runs with its default engine (auto: the compiled one, or NumPy for a run too short to repay
numba's start-up; each line says which it took, and a line forcing the compiled one follows when it
was NumPy). Every pair runs in turns (A B A B ...) and the ratio is taken pair by pair, so a drift of
the machine's speed cancels; the median ratio is printed with its range. The whole-process figures
include start-up (Python, imports, numba loading its cached kernels; JAX and PyTorch their own).
Then W1 and W2 with Adam against plain SGD (the cost of an update rule's state),
W2, W3 and W4 with 256 members on one thread against all (whole processes), the peak memory of
1024-member W1 and W4 sweeps, and, in this process, the member-steps/s of the compiled engine's steps
at 16 to 4096 members.

    python benchmarks/bench_engine.py [--runs 5] [--peer-python /path/to/venv/bin/python] [--quick]

PyTorch and JAX are not relu-lab dependencies: install them in a separate venv and name its
python with --peer-python; peers whose import fails there are skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
W1_LRS = ",".join(f"{v:.6g}" for v in np.logspace(-3, 0.5, 8))


def run_once(cmd: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """Wall seconds and peak RSS (MB) of one whole process, and the training seconds it reports
    itself (a relu-lab run's summary.json, a peer's wall= line); a failure is fatal. A relu-lab run's
    engine is kept in ENGINE_USED."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, own_seconds(out.decode())


ENGINE_USED: list[str] = []  # the engine of the last relu-lab run


def own_seconds(stdout: str) -> float:
    """The training time a process printed: relu-lab --quiet prints its run directory, a peer `wall=S s`."""
    found = re.search(r"wall=([0-9.]+)s", stdout)
    if found:
        return float(found.group(1))
    summary = json.loads((Path(stdout.strip().splitlines()[-1]) / "summary.json").read_text())
    ENGINE_USED[:] = [summary["engine"]]
    return summary.get("train_seconds", summary.get("seconds"))


def pair(a: list[str], b: list[str], runs: int, env_a=None, env_b=None):
    """Median wall of a and b over `runs` turns (after one warm-up each), the ratios b/a per turn,
    and the median ratio of the training times the two report themselves."""
    run_once(a, env_a)
    run_once(b, env_b)
    ta, tb, inner = [], [], []
    for _ in range(runs):
        wa, _, sa = run_once(a, env_a)
        wb, _, sb = run_once(b, env_b)
        ta.append(wa)
        tb.append(wb)
        inner.append(sb / sa)
    return statistics.median(ta), statistics.median(tb), [y / x for x, y in zip(ta, tb)], statistics.median(inner)


def peer_works(python: str, peer: str) -> bool:
    module = {"torch_vmap": "torch", "jax_scan": "jax"}.get(peer)
    if module is None:
        return True
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def line(label: str, ta: float, tb: float, ratios: list[float], inner: float, target: str = "") -> None:
    med = statistics.median(ratios)
    print(f"  {label:<50} {med:5.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}; {ta:.2f} s against {tb:.2f} s)"
          f"  training alone {inner:5.2f}x{'  target ' + target if target else ''}", flush=True)


def whole_processes(args, out: str) -> None:
    relu = [sys.executable, "-c", "from relu_lab.cli import run; run()"]
    peers = str(args.peers)
    w1 = [*relu, "sweep", "configs/seed003_deep_xor_relu.yaml", "--set", f"train.epochs={args.w1_steps}",
          "--lr", W1_LRS, "--seeds", "32", "--no-plots", "--quiet", "--out", out]
    w2 = [*relu, "sweep", str(args.peers.parent / "w2.yaml"), "--set", f"train.epochs={args.w2_steps // 200}",
          "--lr", "0.01,0.03,0.1,0.3", "--seeds", "64", "--no-plots", "--quiet", "--out", out]
    circle = [*relu, "train", "configs/seed004_circle.yaml", "--set", "train.phases.0.epochs=30",
              "--set", "train.phases.1.epochs=70", "--no-plots", "--quiet", "--out", out]
    grid = ["--lr", "0.01,0.03,0.1,0.3", "--seeds", "16", "--no-plots", "--quiet", "--out", out]  # 64 members
    w3 = [*relu, "sweep", str(args.peers.parent / "w3.yaml"), "--set", f"train.epochs={args.w3_steps}", *grid]
    w4 = [*relu, "sweep", str(args.peers.parent / "w4.yaml"), "--set", f"train.epochs={args.w4_steps // 32}", *grid]
    one = ["--no-plots", "--quiet", "--out", out]  # a one-member train of each workload's config
    bench = args.peers.parent
    trains = {name: [*relu, "train", str(config), "--set", f"train.epochs={epochs}"] for name, config, epochs in [
        ("W1 train", "configs/seed003_deep_xor_relu.yaml", args.w1_steps),
        ("W2 train", bench / "w2.yaml", args.w2_steps // 200),
        ("W3 train", bench / "w3.yaml", 4 * args.w3_steps),
        ("W4 train", bench / "w4.yaml", args.w4_steps // 32)]}
    work = {
        "W1": (w1, [("numpy_stacked", "deep_xor", 256, args.w1_steps, "2x"),
                    ("torch_vmap", "deep_xor", 256, args.w1_steps, "6x")]),
        "W2": (w2, [("jax_scan", "circle", 256, args.w2_steps, "2.5x"),
                    ("numpy_stacked", "circle", 256, args.w2_steps, "2.5x")]),
        "circle": (circle, [("numpy_loop", "circle", 1, 100000, "10x")]),
        "W3": (w3, [("numpy_stacked", "spiral", 64, args.w3_steps, "2x"),
                    ("jax_scan", "spiral", 64, args.w3_steps, "2x"), ("torch_vmap", "spiral", 64, args.w3_steps, "")]),
        "W4": (w4, [("numpy_stacked", "minibatch", 64, args.w4_steps, "2x"),
                    ("jax_scan", "minibatch", 64, args.w4_steps, "2x")]),
    } | {name: ([*cmd, *one], []) for name, cmd in trains.items()}
    print("Whole processes, speed-up of relu-lab's default engine (auto; median of pair-wise ratios):")
    for name, (cmd, peer_list) in work.items():
        default, numpy_cmd = cmd, [*cmd, "--engine", "numpy"]
        result = pair(default, numpy_cmd, args.runs)
        run_once(default)  # ENGINE_USED holds the NumPy run's: read the default's
        chosen = ENGINE_USED[0]
        line(f"{name}: default ({chosen}) vs relu-lab's NumPy engine", *result, target=">= 1x")
        if chosen != "compiled":
            line(f"{name}: --engine compiled vs NumPy engine", *pair([*cmd, "--engine", "compiled"], numpy_cmd,
                                                                  args.runs))
        for peer, workload, members, steps, target in peer_list:
            python = sys.executable if peer.startswith("numpy") else args.peer_python
            if not python or not peer_works(python, peer):
                print(f"  {name}: default vs {peer}: skipped (no python with its framework; see --peer-python)")
                continue
            cmd_b = [python, peers, workload, peer, str(members), str(steps)]
            line(f"{name}: default ({chosen}) vs {peer}", *pair(default, cmd_b, args.runs), target=target)
    print("\nUpdate rules: the same sweep with Adam against plain SGD (default engine):")
    for name, cmd in (("W1", w1), ("W2", w2)):
        adam = [*cmd, "--set", "train.optimizer=adam"]
        line(f"{name}: time with adam / time with sgd", *pair(cmd, adam, args.runs), target="<= 1.5x")
    one = dict(os.environ, NUMBA_NUM_THREADS="1")
    seeds64 = ["--seeds", "64"]  # 256 members
    for name, cmd in (("W2", w2), ("W3", [*w3, *seeds64]), ("W4", [*w4, *seeds64])):
        c = [*cmd, "--engine", "compiled"]
        line(f"{name} (256 members) on all threads vs one thread (NUMBA_NUM_THREADS=1)",
             *pair(c, c, args.runs, None, one), target="1.6x on two")
    start = [*relu, "train", "configs/xor_relu.yaml", "--set", "train.epochs=1", "--no-plots", "--quiet", "--out", out]
    ta, tb, _, _ = pair([*start, "--engine", "compiled"], [*start, "--engine", "numpy"], args.runs)
    print(f"  start-up, warm (a 1-epoch train run): compiled {ta:.2f} s, NumPy engine {tb:.2f} s "
          f"(numba's import and its loading of the cached kernel: {ta - tb:.2f} s)")
    if args.cold:
        with tempfile.TemporaryDirectory() as cache:
            cold = run_once([*start, "--engine", "compiled"], dict(os.environ, NUMBA_CACHE_DIR=cache))[0]
        print(f"  start-up, cold (an empty kernel cache, as after an install): {cold:.1f} s")


def peak_memory(args) -> None:
    """Peak RSS of a 1024-member W1 sweep and of a 1024-member W4 sweep, in children started while this
    process is still small (Linux counts the parent's pages a child had before exec in the child's peak)."""
    raw = {"name": "w1", "data": {"name": "xor"}, "loss": "bce", "engine": "compiled",
           "model": {"layers": [2] + [5] * 10 + [1], "hidden": "relu", "init": "uniform"},
           "train": {"lr": 0.1, "epochs": 200, "order": "sequential"}}
    script = ("import tempfile; from relu_lab.loading import config_from_dict; "
              "from relu_lab.grid import run_sweep; from relu_lab.plan import Axis, plan_sweep; "
              f"plan = plan_sweep(config_from_dict({raw!r}), [Axis('train.lr', [0.01, 0.1, 0.3, 1.0])], "
              "list(range(256))); run_sweep(plan, tempfile.mkdtemp())")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    _, _, usage = os.wait4(proc.pid, 0)
    rss = usage.ru_maxrss / 1024
    print(f"  peak memory of a 1024-member W1 sweep (whole process): {rss:.0f} MB (target: under 300 MB)")
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.Popen([sys.executable, "-c", "from relu_lab.cli import run; run()", "sweep",
                                 str(args.peers.parent / "w4.yaml"), "--lr", "0.01,0.03,0.1,0.3", "--seeds", "256",
                                 "--set", "train.epochs=2", "--no-plots", "--quiet", "--out", out],
                                cwd=ROOT, stdout=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
    print(f"  peak memory of a 1024-member W4 sweep (whole process): {usage.ru_maxrss / 1024:.0f} MB "
          "(target: under 500 MB)")


def in_process(args) -> None:
    from relu_lab.engines import Plan, compiled
    from relu_lab.experiment import resolve
    from relu_lab.loading import load_config
    from relu_lab.losses import LOSSES
    from relu_lab.trainer import member_rngs

    for name in ("w2", "w3"):
        exp = resolve(load_config(args.peers.parent / f"{name}.yaml", ["engine=compiled"]))
        cfg, data = exp
        print(f"\nThe compiled engine's steps alone ({name.upper()}'s network and data, the same work at every size):")
        for K in (16, 256, 1024, 4096):
            net = exp.network([member_rngs(k)[0] for k in range(K)])
            batch = min(cfg.train.batch_size or len(data.X), len(data.X))
            plan = Plan(LOSSES[cfg.loss.name], cfg.loss.reduction, batch, np.ones(K), None, 0.0)
            lr, alive = np.full(K, 0.01), np.ones(K, dtype=bool)
            compiled.steps(net, data.X, data.Y, plan, None, 1, lr, alive)  # loads the kernel
            per_epoch = -(-len(data.X) // batch)  # steps
            work = args.member_steps / (1 if name == "w2" else 50)  # a W3 step is a batch of 400
            epochs = max(2, round(work / (K * per_epoch)))
            t0 = time.perf_counter()
            compiled.steps(net, data.X, data.Y, plan, None, epochs, lr, alive)
            rate = epochs * per_epoch * K / (time.perf_counter() - t0)
            print(f"  {K:>5} members: {rate / 1e6:8.3f} M member-steps/s  ({1e9 / rate:9.1f} ns per member-step)")
    all_threads = compiled.threads()
    for label in ("all", "one"):
        times = []
        for _ in range(3):
            compiled.threads = (lambda: 1) if label == "one" else (lambda: all_threads)
            t0 = time.perf_counter()
            compiled.steps(net, data.X, data.Y, plan, None, epochs, lr, alive)
            times.append(time.perf_counter() - t0)
        if label == "all":
            fast = min(times)
    print(f"  W3, 4096 members on {all_threads} threads vs one: {min(times) / fast:.2f}x (best of 3 each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="turns per pair (after one warm-up each)")
    parser.add_argument("--peers", type=Path, default=ROOT.parent / "shared" / "bench" / "peers.py")
    parser.add_argument("--peer-python", default=None, help="a python with torch and/or jax for those peers")
    parser.add_argument("--quick", action="store_true", help="shorter workloads and 2 turns (a smoke run)")
    parser.add_argument("--cold", action="store_true", help="also time one run that compiles the kernel afresh")
    args = parser.parse_args()
    args.w1_steps, args.w2_steps = (200, 2000) if args.quick else (2000, 20000)
    args.w3_steps, args.w4_steps = (50, 64) if args.quick else (500, 640)  # W4: steps of 32 of 1024 points
    args.member_steps = 2e6 if args.quick else 2e7
    args.runs = 2 if args.quick else args.runs
    if not args.peers.is_file():
        raise SystemExit(f"--peers: {args.peers} not found")
    with tempfile.TemporaryDirectory() as out:
        whole_processes(args, out)
    peak_memory(args)
    in_process(args)


if __name__ == "__main__":
    main()

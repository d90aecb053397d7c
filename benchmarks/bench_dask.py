"""A W1 sweep (seed 003's deep XOR, 2-5x10-1, full batch, 2000 steps) with 4096 members:
the local executor against a 2-worker Dask LocalCluster on the same machine.

    python benchmarks/bench_dask.py [--members 4096] [--workers 2]

Prints wall time and member-steps/s of each, and their ratio. Start-up of the cluster is
reported separately (it is paid once per sweep).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from benchmarks.bench_sweep import W1, W1_LRS
from relu_lab.executors import DaskExecutor
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict
from relu_lab.plan import Axis, plan_sweep


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = args.members // len(W1_LRS)
    plan = plan_sweep(config_from_dict(dict(W1)), [Axis("train.lr", W1_LRS)], list(range(seeds)))
    print(f"W1: {len(plan.members)} members x 2000 steps")
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        local = run_sweep(plan, out)
        t_local = time.perf_counter() - t0
        t0 = time.perf_counter()
        with DaskExecutor(workers=args.workers) as ex:
            t_start = time.perf_counter() - t0
            t1 = time.perf_counter()
            dist = run_sweep(plan, out, executor=ex)
            t_dist = time.perf_counter() - t1
        same = (local.run_dir / "summary.csv").read_text() == (dist.run_dir / "summary.csv").read_text()
    steps = local.member_steps
    print(f"  local executor      {t_local:7.2f} s  {steps / t_local:12,.0f} member-steps/s")
    print(f"  dask, {args.workers} workers     {t_dist:7.2f} s  {steps / t_dist:12,.0f} member-steps/s"
          f"  (+ {t_start:.2f} s cluster start-up)")
    print(f"  speed-up {t_local / t_dist:.2f} x (with start-up {t_local / (t_dist + t_start):.2f} x); "
          f"summary.csv identical: {same}")


if __name__ == "__main__":
    main()

"""Runs at the length people run them: a sweep of about a million log rows and seed 004's circle
(a million online steps), interrupted and resumed. The resume must cost about the memory of the
uninterrupted run and end byte-identical to it; a damaged log is refused, not resumed.

Each run is a child process whose peak memory is read with resource.getrusage; the interrupt
comes from inside the run at a chosen point (a log callback raising SIGINT), not from a timer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
XOR = ROOT / "configs" / "xor_relu.yaml"
CIRCLE = ROOT / "configs" / "seed004_circle.yaml"
CLI = "from relu_lab.cli import run; import sys; sys.argv[0] = 'relu-lab'; run()"
# 3 rates x 64 seeds, logged every 10 of 52,000 epochs: 192 x 5,201 = 998,592 rows in metrics.csv
SWEEP = ["--lr", "0.01,0.1,1", "--seeds", "64", "--set", "train.epochs=52000", "--no-plots", "-q"]


def peak_kb(code: str, *args: str) -> tuple[int, int]:
    """Run `code` (Python) with `args` in a child process: its exit code and peak memory (kB)."""
    measure = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
               "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", measure, sys.executable, "-c", code, *args], capture_output=True,
                         text=True, timeout=900, check=True)
    rc, kb = out.stdout.split()[-2:]
    return int(rc), int(kb)


def interrupted_sweep(out: Path) -> str:
    """Python that sweeps like SWEEP and presses Ctrl-C (in-process) when half the member-epochs are done."""
    return f"""
import signal
from relu_lab.grid import run_sweep
from relu_lab.plan import Axis, plan_sweep
from relu_lab.loading import load_config
cfg = load_config({str(XOR)!r}, ["train.epochs=52000"])
plan = plan_sweep(cfg, [Axis("train.lr", [0.01, 0.1, 1.0])], list(range(64)), {str(XOR)!r})
total = sum(m.config.total_epochs() for m in plan.members)
done = [0]
def progress(n):
    done[0] += n
    if done[0] >= total // 2 and done[0] - n < total // 2:
        signal.raise_signal(signal.SIGINT)
report = run_sweep(plan, {str(out)!r}, on_progress=progress)
assert report.status == "interrupted", report.status
"""


def only_dir(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_a_million_row_sweep_resumes_in_the_memory_of_the_whole_run(tmp_path):
    rc, whole_kb = peak_kb(CLI, "sweep", str(XOR), *SWEEP, "--out", str(tmp_path / "whole"))
    assert rc == 0
    whole = only_dir(tmp_path / "whole")
    assert len((whole / "metrics.csv").read_text().splitlines()) - 1 == 192 * 5201

    rc, _ = peak_kb(interrupted_sweep(tmp_path / "cut"))
    assert rc == 0
    cut = only_dir(tmp_path / "cut")
    assert json.loads((cut / "summary.json").read_text())["status"] == "interrupted"
    rc, resume_kb = peak_kb(CLI, "sweep", "--resume", str(cut), "--no-plots", "-q")
    assert rc == 0
    assert resume_kb <= 1.5 * whole_kb, (resume_kb, whole_kb)
    for name in ("metrics.csv", "members.csv", "summary.csv"):
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name


def interrupted_train(out: Path, at_epoch: int) -> str:
    return f"""
import signal
from relu_lab.loading import load_config
from relu_lab.run import train_run
def press(row):
    if row.epoch == {at_epoch}:
        signal.raise_signal(signal.SIGINT)
report = train_run(load_config({str(CIRCLE)!r}), {str(out)!r}, on_log=press)
assert report.summary["status"] == "interrupted", report.summary["status"]
"""


def test_seed004_circle_a_million_steps_resumes_byte_identical_in_the_same_memory(tmp_path):
    rc, whole_kb = peak_kb(CLI, "train", str(CIRCLE), "--no-plots", "-q", "--out", str(tmp_path / "whole"))
    assert rc == 0
    whole = only_dir(tmp_path / "whole")
    assert json.loads((whole / "summary.json").read_text())["steps"] == 1_000_000

    rc, _ = peak_kb(interrupted_train(tmp_path / "cut", 500))  # in the second phase (ReLU)
    assert rc == 0
    cut = only_dir(tmp_path / "cut")
    rc, resume_kb = peak_kb(CLI, "train", "--resume", str(cut), "--no-plots", "-q")
    assert rc == 0
    assert resume_kb <= 1.5 * whole_kb, (resume_kb, whole_kb)
    assert (cut / "metrics.csv").read_bytes() == (whole / "metrics.csv").read_bytes()
    for name in ("params.npz", "snapshots.npz"):
        with np.load(cut / name) as a, np.load(whole / name) as b:
            assert a.files == b.files
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}: {key}")
    summary = json.loads((cut / "summary.json").read_text())
    assert summary["status"] == "completed" and not (cut / "checkpoint.npz").exists()

"""Ctrl-C and SIGTERM on real relu-lab processes: nothing half-written, sweeps resume to the same result.

Each signal is sent at a point of the run the test names (see PRESSED), never after a delay."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

RELU_LAB = [sys.executable, "-c", "from relu_lab.cli import run; run()"]

# relu-lab in a process that presses Ctrl-C (sends itself a real signal) at a moment the test names:
# the first call of `target` for which `when` holds, once its original has run. The signal then takes
# the path an outside Ctrl-C at that moment takes; no race between the test and the run's speed.
PRESSED = """
import importlib, os, signal, sys
module, _, attribute = {target!r}.rpartition(":")
owner_name, _, method = attribute.rpartition(".")
owner = getattr(importlib.import_module(module), owner_name)
original, calls, pressed = getattr(owner, method), [0], []

def hooked(*args, **kwargs):
    result = original(*args, **kwargs)
    calls[0] += 1
    if not pressed and ({when}):
        pressed.append(calls[0])
        os.kill(os.getpid(), {sig})
    return result

setattr(owner, method, hooked)
from relu_lab.entry import run
run()
"""


def relu_lab_pressed(target: str, when: str, sig: int = signal.SIGINT) -> list[str]:
    """The command line of relu-lab that sends itself `sig` when `target` (module:Class.method) is
    called and `when` (an expression of `calls`, the calls so far, and `args`) holds."""
    return [sys.executable, "-c", PRESSED.format(target=target, when=when, sig=int(sig))]


def no_temporary_files(run_dir: Path) -> None:
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_train_keeps_its_metrics_and_says_interrupted(tmp_path, sig):
    cfg = tmp_path / "long.yaml"
    cfg.write_text(yaml.safe_dump({"name": "long", "data": {"name": "circle", "n": 500},
                                   "model": {"layers": [2, 32, 32, 1]},
                                   "train": {"lr": 0.05, "epochs": 100000, "batch_size": 4}, "log_every": 1}))
    out = tmp_path / "runs"
    pressed = relu_lab_pressed("relu_lab.console:TrainProgress.update", "calls[0] == 4", sig)  # epoch 3 logged
    proc = subprocess.run([*pressed, "train", str(cfg), "--out", str(out)], capture_output=True, text=True,
                          timeout=300)
    stdout, stderr = proc.stdout, proc.stderr
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "interrupted" in stderr
    run = next(out.iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert len(rows) >= 3 and all(r["cost"] for r in rows)
    assert summary["epochs_done"] >= int(rows[-1]["epoch"]) >= 2
    no_temporary_files(run)


def test_interrupted_sweep_resumes_to_the_same_results(tmp_path):
    cfg = tmp_path / "grid.yaml"
    cfg.write_text(yaml.safe_dump({
        "name": "grid", "data": {"name": "circle", "n": 300}, "model": {"layers": [2, 16, 1]},
        "train": {"lr": 0.1, "epochs": 150, "batch_size": 4}, "success": {"metric": "accuracy", "at_least": 0.9},
    }))
    args = ["compare", str(cfg), "--activations", "relu,tanh,elu,sigmoid,silu,softplus", "--seeds", "6"]
    # the reference: the same compare, never interrupted
    ref = subprocess.run([*RELU_LAB, *args, "--out", str(tmp_path / "ref"), "--quiet"], capture_output=True,
                         text=True, check=True)
    ref_dir = Path(ref.stdout.strip())

    out = tmp_path / "cut"
    # Ctrl-C as the second group logs its first trained epoch: the first group is finished, the second mid-chunk
    pressed = relu_lab_pressed("relu_lab.grid:SweepFiles.log", "args[1].group == 1 and args[2].epoch > 0")
    proc = subprocess.run([*pressed, *args, "--out", str(out)], capture_output=True, text=True, timeout=300)
    stdout, stderr = proc.stdout, proc.stderr
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "--resume" in stderr
    run = next(out.iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert 0 < summary["members_done"] < summary["members"]
    members = list(csv.DictReader((run / "members.csv").open()))
    assert len(members) == summary["members_done"]
    list(csv.DictReader((run / "metrics.csv").open()))  # parseable
    no_temporary_files(run)

    resumed = subprocess.run([*RELU_LAB, "compare", "--resume", str(run), "--quiet"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads((run / "summary.json").read_text())
    assert after["status"] == "completed" and after["members_before"] == summary["members_done"]
    # the steps and the rate are this session's own: fewer steps than the whole compare took
    reference = json.loads((ref_dir / "summary.json").read_text())
    assert 0 < after["member_steps"] < reference["member_steps"]
    for name in ("summary.csv", "members.csv", "metrics.csv"):
        assert (run / name).read_text() == (ref_dir / name).read_text(), name


def test_resume_refuses_a_directory_that_is_not_a_sweep(tmp_path):
    result = subprocess.run([*RELU_LAB, "sweep", "--resume", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not a sweep or compare run directory" in result.stderr


def test_a_sweep_interrupted_inside_its_only_chunk_keeps_its_progress(tmp_path):
    """Ctrl-C before any member finishes: exit 130, files a strict parser reads, a checkpoint;
    --resume goes on from it and ends with the files of a sweep never interrupted."""
    cfg = tmp_path / "one_chunk.yaml"
    cfg.write_text(yaml.safe_dump({
        "name": "one_chunk", "data": {"name": "circle", "n": 300}, "model": {"layers": [2, 16, 1]},
        "train": {"epochs": 12000, "batch_size": 4}, "success": {"metric": "accuracy", "at_least": 0.9},
    }))
    args = ["sweep", str(cfg), "--lr", "0.05,0.2", "--seeds", "16", "--no-plots"]
    ref = subprocess.run([*RELU_LAB, *args, "--out", str(tmp_path / "ref"), "--quiet"], capture_output=True,
                         text=True, check=True)
    ref_dir = Path(ref.stdout.strip())

    out = tmp_path / "cut"
    pressed = relu_lab_pressed("relu_lab.grid:SweepFiles.log", "calls[0] == 4")  # a few log rows in, none finished
    proc = subprocess.run([*pressed, *args, "--out", str(out)], capture_output=True, text=True, timeout=300)
    stdout, stderr = proc.stdout, proc.stderr
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "--resume" in stderr and "error" not in stderr
    run = next(out.iterdir())

    def refuse(name):
        raise ValueError(name)

    summary = json.loads((run / "summary.json").read_text(), parse_constant=refuse)
    assert summary["status"] == "interrupted" and summary["members_done"] == 0
    assert list(csv.DictReader((run / "summary.csv").open())) == []  # a header, no rows
    assert len(list((run / "checkpoints").glob("*.npz"))) == 1
    kept = (run / "metrics.csv").read_text().count("\n")
    no_temporary_files(run)

    resumed = subprocess.run([*RELU_LAB, "sweep", "--resume", str(run), "--quiet"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not (run / "checkpoints").exists()  # spent, and the empty folder gone
    for name in ("summary.csv", "members.csv", "metrics.csv"):
        assert (run / name).read_text() == (ref_dir / name).read_text(), name
    assert kept > 32 * 3  # the rows logged before the interrupt were kept, not trained again


def test_an_interrupted_train_run_resumes_to_the_run_it_would_have_been(tmp_path):
    cfg = tmp_path / "long.yaml"
    cfg.write_text(yaml.safe_dump({"name": "long", "data": {"name": "circle", "n": 300},
                                   "model": {"layers": [2, 16, 16, 1]},
                                   "train": {"lr": 0.05, "epochs": 3000, "batch_size": 1}, "log_every": 10}))
    ref = subprocess.run([*RELU_LAB, "train", str(cfg), "--out", str(tmp_path / "ref"), "--quiet", "--no-plots"],
                         capture_output=True, text=True, check=True)
    ref_dir = Path(ref.stdout.strip())
    out = tmp_path / "cut"
    pressed = relu_lab_pressed("relu_lab.console:TrainProgress.update", "calls[0] == 6")  # epoch 50 logged
    proc = subprocess.run([*pressed, "train", str(cfg), "--out", str(out), "--no-plots"], capture_output=True,
                          text=True, timeout=300)
    stdout, stderr = proc.stdout, proc.stderr
    assert proc.returncode == 130, (stdout, stderr)
    assert "relu-lab train --resume" in stderr
    run = next(out.iterdir())
    assert (run / "checkpoint.npz").is_file()
    resumed = subprocess.run([*RELU_LAB, "train", "--resume", str(run), "--quiet", "--no-plots"],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not (run / "checkpoint.npz").exists()
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
    assert (run / "metrics.csv").read_bytes() == (ref_dir / "metrics.csv").read_bytes()
    final = [json.loads((d / "summary.json").read_text())["final"] for d in (run, ref_dir)]
    assert final[0] == final[1]
    # the weights kept at logged epochs (for unit pictures) go on as if nothing had happened
    with np.load(run / "snapshots.npz") as a, np.load(ref_dir / "snapshots.npz") as b:
        assert a.files == b.files and len(a["epoch"]) > 5
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])


def test_train_resume_refuses_what_it_cannot_continue(tmp_path):
    result = subprocess.run([*RELU_LAB, "train", "--resume", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "not a train run directory" in result.stderr
    (tmp_path / "config.yaml").write_text("name: x\n")
    result = subprocess.run([*RELU_LAB, "train", "--resume", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "checkpoint.npz" in result.stderr and result.stderr.count("\n") == 1

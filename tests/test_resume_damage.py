"""--resume of a damaged or busy run directory: refused in one line with the files left as they were,
or repaired and said; never resumed to a "completed" run that lacks part of its log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from relu_lab.cli import app
from relu_lab.grid import run_sweep
from relu_lab.loading import load_config
from relu_lab.plan import Axis, plan_sweep
from relu_lab.run import train_run
from relu_lab.rundir import holding

ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "configs" / "xor_relu.yaml")


def press_ctrl_c_at(epoch: int):
    def on_log(row):
        if row.epoch == epoch:
            signal.raise_signal(signal.SIGINT)
    return on_log


@pytest.fixture
def cut_train(tmp_path) -> Path:
    """A train run interrupted at epoch 200 of 600 (log every 10: 21 rows before the interrupt)."""
    report = train_run(load_config(XOR, ["train.epochs=600"]), tmp_path / "runs", on_log=press_ctrl_c_at(200))
    assert report.summary["status"] == "interrupted"
    return report.run_dir


@pytest.fixture
def cut_sweep(tmp_path) -> Path:
    """A sweep of 2 x 4 members in chunks of 2, interrupted in its third chunk."""
    cfg = load_config(XOR, ["train.epochs=300"])
    plan = plan_sweep(cfg, [Axis("train.lr", [0.1, 1.0])], list(range(4)), XOR)
    seen = []

    def progress(n):
        seen.append(n)
        if sum(seen) >= 5 * 300:
            signal.raise_signal(signal.SIGINT)

    report = run_sweep(plan, tmp_path / "runs", on_progress=progress, budget=1)  # budget 1: small chunks
    assert report.status == "interrupted" and 0 < len(report.rows) < 8
    return report.run_dir


def resume(kind: str, run_dir: Path):
    return CliRunner().invoke(app, [kind, "--resume", str(run_dir), "--no-plots", "-q"])


@pytest.mark.parametrize("damage", ["cut", "emptied", "garbled"])
def test_train_resume_refuses_a_damaged_log_and_leaves_it_as_it_was(cut_train, damage):
    metrics = cut_train / "metrics.csv"
    lines = metrics.read_text().splitlines(keepends=True)
    metrics.write_text({"cut": "".join(lines[:15]), "emptied": "",
                        "garbled": "".join(lines[:5] + ["not,a,row\n"] + lines[5:])}[damage])
    before = metrics.read_bytes()
    result = resume("train", cut_train)
    assert result.exit_code == 2, result.output
    assert "metrics.csv" in result.output and "damaged log" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert metrics.read_bytes() == before
    assert json.loads((cut_train / "summary.json").read_text())["status"] == "interrupted"


def test_train_resume_without_snapshots_goes_on_and_says_so(cut_train):
    (cut_train / "snapshots.npz").unlink()
    result = resume("train", cut_train)
    assert result.exit_code == 0, result.output
    summary = json.loads((cut_train / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert any("snapshots.npz was missing" in w and "epoch 200" in w for w in summary["warnings"])


@pytest.mark.parametrize("damage", ["cut", "emptied"])
def test_sweep_resume_refuses_a_damaged_log(cut_sweep, damage):
    metrics = cut_sweep / "metrics.csv"
    lines = metrics.read_text().splitlines(keepends=True)
    metrics.write_text("".join(lines[:len(lines) // 2]) if damage == "cut" else lines[0])
    before = metrics.read_bytes()
    result = resume("sweep", cut_sweep)
    assert result.exit_code == 2, result.output
    assert "metrics.csv lacks rows" in result.output and "damaged log" in result.output
    assert metrics.read_bytes() == before


def test_an_undamaged_sweep_still_resumes(cut_sweep):
    result = resume("sweep", cut_sweep)
    assert result.exit_code == 0, result.output
    assert json.loads((cut_sweep / "summary.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 cut short"])
def test_a_damaged_checkpoint_is_one_line_naming_it(cut_train, content):
    (cut_train / "checkpoint.npz").write_bytes(content)
    result = resume("train", cut_train)
    assert result.exit_code == 2, result.output
    assert "checkpoint.npz: not a readable relu-lab checkpoint" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_second_resume_of_a_busy_directory_names_the_process_that_holds_it(cut_sweep):
    with holding(cut_sweep):  # this test process is the first resume
        proc = subprocess.run([sys.executable, "-c", "from relu_lab.cli import run; run()", "sweep", "--resume",
                               str(cut_sweep), "--no-plots", "-q"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert f"in use by process {os.getpid()}" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(cut_sweep.glob(".*"))  # the holder's mark is gone with it
    assert resume("sweep", cut_sweep).exit_code == 0  # free again


def test_resuming_a_finished_sweep_is_refused_and_keeps_its_figures(tmp_path):
    out = tmp_path / "runs"
    assert CliRunner().invoke(app, ["sweep", XOR, "--lr", "0.5", "--seeds", "2", "--no-plots", "-q", "--out",
                                    str(out)]).exit_code == 0
    (run,) = out.iterdir()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    result = resume("sweep", run)
    assert result.exit_code == 2 and "has finished" in result.output and "nothing to resume" in result.output
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


RAISES = '''
import numpy as np
calls = [0]

def f(z):
    calls[0] += 1
    if calls[0] > 200:
        raise ValueError("boom from my activation")
    return np.maximum(z, 0.0)

def df(z):
    return (z > 0).astype(float)
'''


@pytest.mark.parametrize("command", [["train"], ["sweep", "--lr", "0.5", "--seeds", "2"]])
def test_an_activation_that_raises_mid_run_leaves_a_failed_run_directory(tmp_path, command):
    (tmp_path / "raises.py").write_text(RAISES)
    cfg = yaml.safe_load(Path(XOR).read_text())
    cfg["model"] |= {"hidden": "mine", "custom_activations": {"mine": {"f": "raises:f", "df": "raises:df"}}}
    (tmp_path / "raises.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "-c", "from relu_lab.cli import run; run()", command[0],
                           str(tmp_path / "raises.yaml"), *command[1:], "--no-plots", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    (run,) = out.iterdir()
    assert "boom from my activation" in proc.stderr and str(run) in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads((run / "summary.json").read_text())["status"] == "failed"


def test_a_closed_terminal_sighup_leaves_a_resumable_run(tmp_path):
    out = tmp_path / "runs"
    probe = ("import signal, relu_lab.trainer as t; old = t.LogRow.__init__\n"
             "def init(self, *a, **k):\n    old(self, *a, **k)\n"
             "    if self.epoch == 500: signal.raise_signal(signal.SIGHUP)\n"
             "t.LogRow.__init__ = init\nfrom relu_lab.entry import run; run()")
    proc = subprocess.run([sys.executable, "-c", probe, "train", XOR, "--set", "train.epochs=5000", "--no-plots",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 130, proc.stderr
    (run,) = out.iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    assert resume("train", run).exit_code == 0


@pytest.mark.parametrize("command,log", [("train", "metrics.csv"), ("sweep", "metrics.csv"), ("sweep", "members.csv")])
def test_a_run_started_by_a_version_that_logged_other_columns_is_not_resumed_into_a_mix(command, log, request):
    """An interrupted run whose log has other columns than this relu-lab writes (as after an upgrade that
    added figures) is refused with one line and left as it was: rows under another header would be misread."""
    run = request.getfixturevalue("cut_train" if command == "train" else "cut_sweep")
    path = run / log
    rows = [line.rstrip("\n").split(",") for line in path.read_text().splitlines()]
    drop = [rows[0].index(c) for c in ("act_mean_L1", "act_std_L1", "saturated_L1")]
    # the file as the version before those figures wrote it: their columns gone from every line
    path.write_text("".join(",".join(c for i, c in enumerate(r) if i not in drop) + "\n" for r in rows))
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, [command, "--resume", str(run), "--no-plots", "-q"])
    assert result.exit_code == 2 and "started by another version" in result.output, result.output
    assert "new: act_mean_L1, act_std_L1, saturated_L1" in result.output
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before  # left as it was

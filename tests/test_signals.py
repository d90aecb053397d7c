"""Ctrl-C (and SIGTERM) at any moment of a relu-lab process: exit code 130 and one line on stderr
saying what was kept, never a traceback, never a process killed by the signal.

The moment is chosen, not guessed: the child process (the console script's entry point, with a
test-only hook set up before it) stops at a named point, tells the test through a pipe, and waits
there on another pipe that is never written; the test's signal lands exactly at that point.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "configs" / "xor_relu.yaml")

CHILD = """
import os, sys

def pause(where):
    os.write({mark}, (where + "\\n").encode())
    os.read({go}, 1)  # never written: the test's signal interrupts this wait

{setup}
from relu_lab.entry import run
run()
"""

WHILE_NUMPY_IMPORTS = """
class Pause:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            sys.meta_path.remove(self)
            pause("importing numpy")
        return None

assert "numpy" not in sys.modules
sys.meta_path.insert(0, Pause())
"""

WHILE_THE_CONFIG_LOADS = """
import relu_lab.cli.train as train
load_config = train.load_config

def paused(*args, **kwargs):
    pause("loading the config")
    return load_config(*args, **kwargs)

train.load_config = paused
"""

WHILE_PLOTTING = """
import matplotlib.figure
savefig = matplotlib.figure.Figure.savefig

def paused(self, *args, **kwargs):
    pause("saving a figure")
    return savefig(self, *args, **kwargs)

matplotlib.figure.Figure.savefig = paused
"""

WHILE_THE_TABLE_PRINTS = """
import relu_lab.cli.train as train
summary_table = train.summary_table

def paused(*args, **kwargs):
    pause("printing the summary")
    return summary_table(*args, **kwargs)

train.summary_table = paused
"""


def interrupted_at(setup: str, args: list[str], sig: int = signal.SIGINT, cwd: Path = ROOT):
    """Run relu-lab `args` with `setup`'s pause, send `sig` once it has paused; (returncode, stdout, stderr)."""
    mark_r, mark_w = os.pipe()
    go_r, go_w = os.pipe()
    code = CHILD.format(mark=mark_w, go=go_r, setup=setup)
    proc = subprocess.Popen([sys.executable, "-c", code, *args], pass_fds=(mark_w, go_r), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(mark_w)
    os.close(go_r)
    try:
        ready, _, _ = select.select([mark_r], [], [], 300)  # a guard against hanging, not a timing
        paused = os.read(mark_r, 100) if ready else b""
        if not paused:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"the process did not reach its pause: {proc.returncode} {out} {err}")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=300)
    finally:
        os.close(mark_r)
        os.close(go_w)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def one_interrupted_line(returncode: int, stderr: str) -> str:
    assert returncode == 130, (returncode, stderr)
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    assert stderr.startswith("interrupted: "), stderr
    return stderr


def test_the_console_script_is_the_light_entry_point():
    (script,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "relu-lab"]
    assert script.value == "relu_lab.entry:run"
    light = subprocess.run([sys.executable, "-c", "import sys, relu_lab.entry; print(sorted(m for m in sys.modules "
                            "if m.split('.')[0] in ('numpy', 'typer', 'rich', 'numba', 'relu_lab')))"],
                           capture_output=True, text=True, check=True)
    assert light.stdout.strip() == "['relu_lab', 'relu_lab.entry']"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_while_the_modules_load(tmp_path, sig):
    returncode, _, stderr = interrupted_at(WHILE_NUMPY_IMPORTS, ["train", XOR, "--out", str(tmp_path)], sig)
    assert "while starting; nothing was written" in one_interrupted_line(returncode, stderr)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_while_the_config_loads(tmp_path):
    out = tmp_path / "runs"
    returncode, _, stderr = interrupted_at(WHILE_THE_CONFIG_LOADS, ["train", XOR, "--out", str(out)])
    assert "relu-lab train stopped before a run directory was made; nothing was written" in \
        one_interrupted_line(returncode, stderr)
    assert not out.exists() or list(out.iterdir()) == []


def test_interrupted_while_plotting_says_the_run_is_complete(tmp_path):
    out = tmp_path / "runs"
    returncode, _, stderr = interrupted_at(WHILE_PLOTTING, ["train", XOR, "--set", "train.epochs=50", "--out",
                                                            str(out)])
    (run,) = out.iterdir()
    line = one_interrupted_line(returncode, stderr)
    assert f"its results are in {run}" in line and f"relu-lab plot {run}" in line
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"


def test_interrupted_while_the_summary_prints(tmp_path):
    out = tmp_path / "runs"
    returncode, stdout, stderr = interrupted_at(WHILE_THE_TABLE_PRINTS, [
        "train", XOR, "--set", "train.epochs=50", "--out", str(out), "--no-plots"])
    (run,) = out.iterdir()
    assert f"its results are in {run}" in one_interrupted_line(returncode, stderr)
    assert "run directory:" not in stdout  # it stopped where it was told to


def test_interrupted_while_a_sweep_plots(tmp_path):
    out = tmp_path / "runs"
    returncode, _, stderr = interrupted_at(WHILE_PLOTTING, [
        "sweep", XOR, "--lr", "0.1,0.5", "--seeds", "2", "--set", "train.epochs=50", "--out", str(out)])
    (run,) = out.iterdir()
    assert f"relu-lab plot {run}" in one_interrupted_line(returncode, stderr)


# --- in a longer Python process (a notebook, CliRunner): the command's own handler, the same one line ---

def test_in_process_an_interrupt_while_plotting_is_one_line_and_130(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import relu_lab.cli.train as train
    from relu_lab.cli import app

    def draw_plots(run_dir, after_run=False):
        raise KeyboardInterrupt  # what Ctrl-C does while matplotlib draws

    monkeypatch.setattr(train, "draw_plots", draw_plots)
    result = CliRunner().invoke(app, ["train", XOR, "--set", "train.epochs=50", "--out", str(tmp_path)])
    (run,) = tmp_path.iterdir()
    assert result.exit_code == 130, result.output
    assert f"interrupted: the run had finished (completed): its results are in {run}" in result.output
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the process's own handler is back


def test_in_process_an_interrupt_as_the_run_begins_says_there_is_nothing_to_resume(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from relu_lab.cli import app
    from relu_lab.console import TrainProgress

    def start(self, *args, **kwargs):
        raise KeyboardInterrupt  # the run directory is made, training has not begun

    monkeypatch.setattr(TrainProgress, "start", start)
    result = CliRunner().invoke(app, ["train", XOR, "--out", str(tmp_path), "--no-plots"])
    (run,) = tmp_path.iterdir()
    assert result.exit_code == 130, result.output
    assert f"interrupted: stopped as the run began: {run} holds no results yet" in result.output

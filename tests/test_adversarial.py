"""An adversarial user: closed pipes, full disks, repeated Ctrl-C, absurd sizes, huge names."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from relu_lab.cli import app
from relu_lab.rundir import CsvLog, atomic_write

RELU_LAB = [sys.executable, "-c", "from relu_lab.cli import run; run()"]
ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "configs" / "xor_relu.yaml")


def test_a_reader_that_goes_away_does_not_stop_the_run(tmp_path):
    """`relu-lab train ... | head -1`: the pipe closes after one line; the run still finishes."""
    out = tmp_path / "runs"
    proc = subprocess.Popen([*RELU_LAB, "train", XOR, "--set", "train.epochs=3000", "--out", str(out), "--no-plots"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # what head does after its line
    assert first.startswith(b"training")
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert b"Traceback" not in proc.stderr.read()
    (run,) = out.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and (run / "params.npz").is_file()


def test_validate_into_a_closed_pipe_exits_quietly(tmp_path):
    proc = subprocess.run(f"{' '.join(RELU_LAB[:2])} '{RELU_LAB[2]}' validate {XOR} | head -1", shell=True,
                          capture_output=True, text=True)
    assert proc.stdout.startswith("name:") and "Traceback" not in proc.stderr and "Error" not in proc.stderr


def test_ctrl_c_again_while_the_run_saves_does_not_cut_the_save(tmp_path):
    """An impatient user: Ctrl-C, then Ctrl-C again and again, at every moment until the process has
    exited: while the chunk saves, while the command prints, after it returned, while Python shuts
    down. The save completes and the process exits with 130, never killed by the signal (-2)."""
    out = tmp_path / "runs"
    args = ["sweep", XOR, "--lr", "0.01,0.1,0.3", "--seeds", "64", "--set", "train.epochs=200000", "--out", str(out),
            "--no-plots"]
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as err:
        proc = subprocess.Popen([*RELU_LAB, *args], stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 120  # a guard against hanging, not a condition of the test
        while not list(out.glob("*/metrics.csv")) or list(out.glob("*/metrics.csv"))[0].stat().st_size < 2000:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        after_the_line = 0  # presses after the command said "interrupted": the moments the old code lost
        while proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            if "interrupted:" in errors.read_text():
                after_the_line += 1
            time.sleep(0.001)
            assert time.monotonic() < deadline, "the process did not exit"
    stderr = errors.read_text()
    assert proc.returncode == 130, (proc.returncode, stderr)  # not killed by the signal itself (-2)
    assert "Traceback" not in stderr and "interrupted: finished members are in" in stderr
    assert after_the_line > 0, "no Ctrl-C reached the process after the command had answered"
    (run,) = out.iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    assert list((run / "checkpoints").glob("*.npz"))  # the chunk's progress was saved for --resume


def test_help_into_a_closed_pipe_exits_0_quietly():
    """`relu-lab --help | head -1`: the reader goes away; help is not a failure. The pipe here has
    no reader from the start, so every write meets a closed pipe, whatever the timing."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([*RELU_LAB, "--help"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert proc.returncode == 0 and proc.stderr == ""


def test_absurd_seed_counts_are_refused_before_planning():
    tracemalloc.start()  # before planning: no list of ten million seeds (400 MB) was ever made, however fast
    try:
        result = CliRunner().invoke(app, ["sweep", XOR, "--lr", "0.1", "--seeds", "10000000"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 2 and "a sweep has at most 250,000 members" in result.output
    assert "GB" in result.output and peak < 20e6
    grid = CliRunner().invoke(app, ["validate", XOR, "--lr", "1e-4:10:100", "--seeds", "5000"])
    assert grid.exit_code == 2 and "100 train.lr x 5000 seeds = 500,000 members" in grid.output


def test_a_huge_value_is_not_quoted_back_whole(tmp_path):
    cfg = tmp_path / "long.yaml"
    cfg.write_text(yaml.safe_dump({"name": "x" * 5000 + "!", "data": {"name": "xor"}}))
    result = CliRunner().invoke(app, ["validate", str(cfg)])
    assert result.exit_code == 2 and "name: must be" in result.output
    assert len(result.output) < 700


# --- a full disk ------------------------------------------------------------------------------


class FullAfter:
    """A file object that takes `room` characters, then fails like a full disk (after a partial write)."""

    def __init__(self, fh, room: int):
        self.fh, self.room = fh, room

    def write(self, text: str) -> int:
        if len(text) > self.room:
            self.fh.write(text[: self.room])
            self.fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(text)
        return self.fh.write(text)

    def __getattr__(self, name):
        return getattr(self.fh, name)


def test_a_log_that_hits_a_full_disk_keeps_whole_lines_and_names_its_file(tmp_path):
    path = tmp_path / "metrics.csv"
    log = CsvLog(path, ["a", "b"])
    log.write([[1, 2.5]])
    log._fh = FullAfter(log._fh, room=5)
    with pytest.raises(OSError) as err:
        log.write([[3, 4.25], [5, 6.5]])
    assert err.value.filename == str(path) and err.value.errno == errno.ENOSPC
    assert path.read_text() == "a,b\n1,2.5\n"  # the half-written line is gone
    log.write([[7, 8.0]])  # room again: the log goes on where it was
    log.close()
    assert path.read_text() == "a,b\n1,2.5\n7,8.0\n"


def test_a_file_that_cannot_be_written_leaves_the_old_one_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    atomic_write(path, "old\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as err:
        atomic_write(path, "new\n")
    assert err.value.filename == str(path)
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["summary.json"]


@pytest.fixture
def small_disk(tmp_path):
    """A 300 KB tmpfs, where this machine allows mounting one (root on Linux)."""
    where = tmp_path / "disk"
    where.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", str(where)], check=False)


def test_a_sweep_on_a_full_disk_says_which_file_and_resumes_once_there_is_room(small_disk, tmp_path):
    out = small_disk / "runs"
    args = ["sweep", XOR, "--lr", "0.01,0.1,0.3", "--seeds", "8", "--set", "train.epochs=3000",
            "--set", "log_every=1", "--no-plots"]
    full = subprocess.run([*RELU_LAB, *args, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert full.returncode == 1, full.stderr
    assert "No space left on device" in full.stderr and "--resume" in full.stderr
    assert "Traceback" not in full.stderr
    (run,) = out.iterdir()
    assert not [p.name for p in run.rglob("*") if ".tmp" in p.name]
    lines = (run / "metrics.csv").read_text().splitlines(keepends=True)
    assert all(line.endswith("\n") for line in lines)  # whole lines only
    # move the run where there is room, and finish it
    moved = tmp_path / run.name
    subprocess.run(["cp", "-r", str(run), str(moved)], check=True)
    resumed = subprocess.run([*RELU_LAB, "sweep", "--resume", str(moved), "--no-plots", "--quiet"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((moved / "summary.json").read_text())["status"] == "completed"

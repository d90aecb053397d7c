"""A run's memory does not grow with its log rows, and an interrupt while a finished run writes its
files leaves the run finished (params.npz and summary.json written), never half of it."""

from __future__ import annotations

import json
import signal
import tracemalloc
from pathlib import Path

import pytest

from relu_lab import snapshots
from relu_lab.loading import load_config
from relu_lab.run import train_run

ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "configs" / "xor_relu.yaml")


def test_memory_does_not_grow_with_the_logged_rows(tmp_path):
    """20,000 rows logged one an epoch: the Python heap at the last row is within 1 MB of the heap at
    row 2,000 (keeping every row, as the trainer once did, costs about 2 KB a row: 36 MB here)."""
    heap = {}

    def on_log(row):
        if row.epoch in (2_000, 20_000):
            heap[row.epoch] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        train_run(load_config(XOR, ["train.epochs=20000", "log_every=1"]), tmp_path, on_log=on_log)
    finally:
        tracemalloc.stop()
    assert heap[20_000] - heap[2_000] < 1_000_000, heap


def test_ctrl_c_while_a_finished_run_writes_its_files_leaves_it_finished(tmp_path, monkeypatch):
    write = snapshots.SnapshotLog.write

    def pressed_while_writing(self, path):  # the moment snapshots.npz appears
        write(self, path)
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(snapshots.SnapshotLog, "write", pressed_while_writing)
    with pytest.raises(KeyboardInterrupt):  # answered once the files are whole
        train_run(load_config(XOR, ["train.epochs=300"]), tmp_path)
    (run,) = tmp_path.iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
    assert (run / "params.npz").is_file() and (run / "snapshots.npz").is_file()

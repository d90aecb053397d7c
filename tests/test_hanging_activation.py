"""A user's activation that hangs mid-training does not trap the run: Ctrl-C pressed again a second
later stops it where it is (exit 130, one line, a run directory that says it cannot be resumed)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

HANGS = '''
import os
import numpy as np
HERE = os.path.dirname(os.path.abspath(__file__))

def f(z):
    if os.path.exists(os.path.join(HERE, "hang-now")):
        open(os.path.join(HERE, "hanging"), "w").close()
        while True:  # a bug in the user's code: it never returns
            pass
    return np.maximum(z, 0.0)

def df(z):
    return (z > 0).astype(float)
'''


def test_a_hanging_custom_activation_is_stopped_by_a_second_ctrl_c(tmp_path):
    (tmp_path / "hangs.py").write_text(HANGS)
    cfg = yaml.safe_load((ROOT / "configs" / "xor_relu.yaml").read_text())
    cfg["model"] |= {"hidden": "mine", "custom_activations": {"mine": {"f": "hangs:f", "df": "hangs:df"}}}
    cfg["train"]["epochs"] = 10_000_000
    (tmp_path / "hang.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-c", "from relu_lab.cli import run; run()", "train",
                             str(tmp_path / "hang.yaml"), "--no-plots", "--out", str(out)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guard = time.monotonic() + 300  # only against a hang of the test itself
    while not any(p.stat().st_size > 200 for p in out.glob("*/metrics.csv")):
        assert proc.poll() is None and time.monotonic() < guard
        time.sleep(0.05)
    (tmp_path / "hang-now").touch()
    while not (tmp_path / "hanging").exists():  # the activation is now stuck inside a training step
        assert proc.poll() is None and time.monotonic() < guard
        time.sleep(0.05)
    while proc.poll() is None:  # Ctrl-C, then again, as a user would, until it answers
        assert time.monotonic() < guard, "Ctrl-C never stopped the hanging run"
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=0.6)
        except subprocess.TimeoutExpired:
            pass
    stderr = proc.stderr.read()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "cannot be resumed" in stderr
    assert "press Ctrl-C again" in stderr  # the first press was answered while the step would not end
    (run,) = out.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert any("cannot be resumed" in w for w in summary["warnings"])
    assert not (run / "checkpoint.npz").exists()

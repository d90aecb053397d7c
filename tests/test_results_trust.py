"""Results that can be trusted (issue 11, first part): figures that cannot be computed are empty,
JSON is strict, and derivatives stay finite where their docstrings promise it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from relu_lab.activations import ACTIVATIONS
from relu_lab.loading import config_from_dict
from relu_lab.run import train_run
from relu_lab.sweep import Axis, plan_sweep, run_sweep

XOR = {"name": "x", "data": {"name": "xor"}, "model": {"layers": [2, 8, 1], "hidden": "relu", "init": "uniform",
                                                         "init_scale": 1.0}, "train": {"epochs": 40}}


def strict_load(path: Path):
    """json.load as a strict parser would: NaN, Infinity and -Infinity are refused."""
    def refuse(name):
        raise ValueError(f"{path}: non-standard JSON constant {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_median_success_epoch_counts_only_members_that_succeeded(tmp_path):
    # accuracy >= 0 is met at epoch 0 by every member; a linear net at lr 10 then blows up: none succeeds
    cfg = config_from_dict(XOR | {"success": {"metric": "accuracy", "at_least": 0.0}, "log_every": 1,
                                  "model": {"layers": [2, 8, 1], "hidden": "linear", "output": "linear"},
                                  "loss": "mse"})
    report = run_sweep(plan_sweep(cfg, [Axis("train.lr", [10.0])], list(range(4))), tmp_path)
    assert all(r["success"] == 0 and r["success_epoch"] == 0 for r in report.rows), report.rows
    (row,) = report.summary
    assert row["success_rate"] == 0.0
    assert row["median_success_epoch"] is None
    with open(report.run_dir / "summary.csv", newline="") as fh:
        assert next(csv.DictReader(fh))["median_success_epoch"] == ""
    assert strict_load(report.run_dir / "summary.json")["best"]["median_success_epoch"] is None


def test_median_success_epoch_is_over_the_successful_members(tmp_path):
    cfg = config_from_dict(XOR | {"success": {"metric": "accuracy", "at_least": 1.0}, "log_every": 1,
                                  "train": {"epochs": 60, "lr": 0.5}})
    report = run_sweep(plan_sweep(cfg, [Axis("train.lr", [0.5])], list(range(8))), tmp_path)
    won = [r["success_epoch"] for r in report.rows if r["success"]]
    assert won, "no member succeeded: the test would prove nothing"
    assert report.summary[0]["median_success_epoch"] == float(np.median(won))


DIVERGING = XOR | {"model": {"layers": [2, 8, 1], "hidden": "linear", "output": "linear"}, "loss": "mse"}


def test_a_diverged_run_writes_strict_json_with_null_figures(tmp_path):
    cfg = config_from_dict(DIVERGING | {"train": {"epochs": 30, "lr": 10.0}})
    report = train_run(cfg, tmp_path)
    summary = strict_load(report.run_dir / "summary.json")
    assert summary["status"] == "diverged" and isinstance(summary["diverged_epoch"], int)
    assert summary["final"]["cost"] is None  # NaN in the run, null in the file


def test_a_diverged_sweep_writes_strict_json(tmp_path):
    cfg = config_from_dict(DIVERGING | {"train": {"epochs": 30}})
    report = run_sweep(plan_sweep(cfg, [Axis("train.lr", [10.0])], [0, 1]), tmp_path)
    info = strict_load(report.run_dir / "summary.json")
    assert info["best"]["cost_median"] is None


def test_dgelu_is_finite_for_huge_inputs():
    gelu = ACTIVATIONS["gelu"]
    z = np.array([1e155, -1e155, 1e300, -1e300, 40.0, -40.0])
    d = gelu.df(z)
    assert np.isfinite(d).all(), d
    np.testing.assert_array_equal(d, [1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    assert np.isfinite(gelu.f(z)).all()

"""The seeds' claims as measured shares over many seeds, through sweeps (tolerant thresholds).

Figures seen when these tests were written are in the comments; the thresholds leave room
for other platforms' last-bit differences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from relu_lab.experiment import resolve
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict, load_config
from relu_lab.plan import Axis, plan_sweep
from tests.logged import fit_configs, logged

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def by_point(report, key: str) -> dict:
    return {row[key]: row for row in report.summary}


def members_at(report, key: str, value) -> list[dict]:
    return [r for r in report.rows if r[key] == value]


def test_seed003_sigmoid_almost_never_solves_deep_xor_relu_clearly_more_often(tmp_path):
    cfg = load_config(CONFIGS / "seed003_deep_xor_relu.yaml", ["train.epochs=1500"])
    plan = plan_sweep(cfg, [Axis("model.hidden", ["sigmoid", "relu"])], list(range(32)))
    report = run_sweep(plan, tmp_path, kind="compare")
    rate = {k: v["success_rate"] for k, v in by_point(report, "model.hidden").items()}
    # seen: sigmoid 0/32, relu 15/32 (47 %)
    assert rate["sigmoid"] <= 0.1
    assert rate["relu"] >= rate["sigmoid"] + 0.25


def never_moved_with_zero_output(configs, data) -> np.ndarray:
    """Members whose output is 0 on every point and whose cost never changed (seed 002's dead net)."""
    result, rows = logged(configs, data)
    costs = np.array([row.metrics["cost"] for row in rows])  # (logs, K)
    frozen = np.all(costs == costs[0], axis=0)
    silent = np.all(result.net.predict(data.X) == 0.0, axis=(1, 2))
    return frozen & silent, result


def table4(name: str, overrides: list[str], seeds: int = 64):
    cfg = load_config(CONFIGS / name, ["train.epochs=1500", *overrides])
    configs = [resolve(cfg.model_copy(update={"seed": s})).config for s in range(seeds)]
    return configs, resolve(cfg).data


def test_seed002_relu_output_dies_in_a_substantial_share_relu_hidden_linear_output_almost_never():
    configs, data = table4("seed002_table4_relu.yaml", [])
    dead_relu_out, _ = never_moved_with_zero_output(configs, data)
    configs, data = table4("seed002_table4_relu.yaml", ["model.output=linear"])
    dead_linear_out, _ = never_moved_with_zero_output(configs, data)
    # seen: 13/64 (20 %) with a ReLU output, 0/64 with a linear one
    assert dead_relu_out.mean() >= 0.1
    assert dead_linear_out.mean() <= 0.03


def test_seed002_linear_activations_never_fit():
    configs, data = table4("seed002_table4_linear.yaml", [], seeds=32)
    result = fit_configs(configs, data)
    X1 = np.hstack([data.X, np.ones((len(data.X), 1))])
    coef = np.linalg.lstsq(X1, data.Y, rcond=None)[0]
    floor = float(np.sum((X1 @ coef - data.Y) ** 2))  # 3.644: a linear net cannot go below it
    assert np.all(result.final["cost"] >= floor - 1e-9)


def test_seed004_exercise_relu_success_falls_and_units_die_as_the_learning_rate_grows(tmp_path):
    cfg = config_from_dict({
        "name": "interp",
        "data": {"name": "interpolation", "n": 100},
        "model": {"layers": [1, 30, 1], "hidden": "relu", "output": "linear", "init": "uniform",
                  "init_scale": 2.5, "bias_init": "like_weights"},
        "loss": "half_mse",
        "train": {"lr": 0.001, "epochs": 60, "batch_size": 1, "order": "shuffle"},
        "success": {"metric": "r2", "at_least": 0.8},
    })
    lrs = [0.003, 0.03, 0.1]
    report = run_sweep(plan_sweep(cfg, [Axis("train.lr", lrs)], list(range(32))), tmp_path)
    rate = {k: v["success_rate"] for k, v in by_point(report, "train.lr").items()}
    # seen: 62 % at 0.003, 12 % at 0.03, 0 % at 0.1
    assert rate[0.003] >= 0.4
    assert rate[0.03] <= rate[0.003] - 0.25
    assert rate[0.1] <= 0.05
    dead = {lr: np.median([r["dead_L1"] for r in members_at(report, "train.lr", lr)]) for lr in lrs}
    assert dead[0.1] > dead[0.003]  # the large steps kill hidden units

"""Sweeps and comparisons: grids, grouping, reproduction of members, statistics and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from relu_lab.cli import app
from relu_lab.config import parse_lr_spec
from relu_lab.errors import UserError
from relu_lab.experiment import resolve
from relu_lab.grid import chunk_size, run_sweep, wilson
from relu_lab.loading import config_from_dict
from relu_lab.plan import Axis, grid_from, parse_param, plan_sweep
from relu_lab.resolved import Experiment
from relu_lab.trainer import fit
from tests.logged import logged

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

SMALL = {
    "name": "small",
    "data": {"name": "circle", "n": 60},
    "model": {"layers": [2, 6, 1], "hidden": "relu"},
    "train": {"lr": 0.1, "epochs": 12, "batch_size": 4, "order": "shuffle"},
    "log_every": 3,
    "success": {"metric": "accuracy", "at_least": 0.8},
}


def small(**changes) -> dict:
    raw = json.loads(json.dumps(SMALL))
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            raw[section][field] = value
        else:
            raw[key] = value
    return raw


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open()))


def test_lr_spec_lists_and_log_ranges():
    assert parse_lr_spec("0.001,0.01,0.1") == [0.001, 0.01, 0.1]
    values = parse_lr_spec("1e-4:10:6")
    assert len(values) == 6 and values[0] == pytest.approx(1e-4) and values[-1] == pytest.approx(10)
    assert np.allclose(np.diff(np.log10(values)), 1.0)
    for bad in ("", "a,b", "1:0.1:3", "0:1:3", "1e-3:1:1", "-1,0.1", "1:2"):
        with pytest.raises(ValueError):
            parse_lr_spec(bad)


def test_param_values_are_read_as_yaml_lists():
    assert parse_param("model.init_scale=0.5,1,2").values == [0.5, 1, 2]
    assert parse_param("model.layers=[2,5,1],[2,10,1]").values == [[2, 5, 1], [2, 10, 1]]
    assert parse_param("model.hidden=relu,tanh").values == ["relu", "tanh"]
    for bad in ("model.init_scale", "=1,2", "model.init_scale="):
        with pytest.raises(UserError):
            parse_param(bad)


def test_wilson_interval_matches_known_values():
    lo, hi = wilson(8, 10)  # textbook: 0.490 - 0.943
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 32)[0] == 0.0 and 0.08 < wilson(0, 32)[1] < 0.12
    assert wilson(32, 32)[1] == 1.0


def test_grid_is_a_cartesian_product_grouped_by_what_can_be_stacked():
    cfg = config_from_dict(small())
    axes = [Axis("train.lr", [0.01, 0.1]), Axis("model.hidden", ["relu", "tanh"])]
    plan = plan_sweep(cfg, axes, [0, 1, 2])
    assert len(plan.points) == 4 and len(plan.members) == 12
    # lr differs within a group, the activation does not: two groups of 6
    assert sorted(len(g.members) for g in plan.groups) == [6, 6]
    for g in plan.groups:
        assert len({m.config.model.hidden for m in g.members}) == 1
        assert {m.config.train.lr for m in g.members} == {0.01, 0.1}
    assert [m.seed for m in plan.members[:3]] == [0, 1, 2]


def test_every_member_reproduces_exactly_when_run_alone():
    cfg = config_from_dict(small(train__order="random"))
    plan = plan_sweep(cfg, [Axis("train.lr", [0.03, 0.3])], [5, 6, 7])
    group = plan.groups[0]
    _, together = logged([m.config for m in group.members], group.data)
    for k, m in enumerate(group.members):
        alone_cfg, data = resolve(config_from_dict(small(seed=m.seed, train__order="random",
                                                         train__lr=m.config.train.lr)))
        _, alone = logged([alone_cfg], data)
        for row_t, row_a in zip(together, alone, strict=True):
            for key in row_a.metrics:
                assert row_t.metrics[key][k] == row_a.metrics[key][0]  # bit for bit


def test_a_diverging_member_is_frozen_and_the_others_are_unaffected():
    raw = small(data={"name": "interpolation", "n": 40}, model={"layers": [1, 20, 1]},
                success={"metric": "r2", "at_least": 0.5}, train={"lr": 0.01, "epochs": 30, "batch_size": 1})
    cfg = config_from_dict(raw)
    plan = plan_sweep(cfg, [Axis("train.lr", [0.001, 50.0])], [0])
    result = fit(plan.groups[0].experiment, [m.trainee for m in plan.groups[0].members])
    assert result.status == ["completed", "diverged"]
    assert result.diverged_epoch[0] == -1 and 1 <= result.diverged_epoch[1] <= 30
    alone_cfg, data = resolve(config_from_dict(json.loads(json.dumps(raw)) | {"train": raw["train"] | {"lr": 0.001}}))
    alone = fit(Experiment(alone_cfg, data))
    assert result.final["cost"][0] == alone.final["cost"][0]


def test_chunks_give_the_same_results_as_one_ensemble(tmp_path):
    cfg = config_from_dict(small())
    plan = plan_sweep(cfg, [Axis("train.lr", [0.05, 0.5])], [0, 1, 2, 3])
    whole = run_sweep(plan, tmp_path / "whole")
    assert chunk_size(plan.members[0].config, plan.groups[0].data, budget=1) == 1
    chunked = run_sweep(plan, tmp_path / "chunked", budget=1)
    assert (whole.run_dir / "members.csv").read_text() == (chunked.run_dir / "members.csv").read_text()
    assert (whole.run_dir / "summary.csv").read_text() == (chunked.run_dir / "summary.csv").read_text()


def test_sweep_files_and_statistics(tmp_path):
    cfg = config_from_dict(small())
    plan = plan_sweep(cfg, [Axis("train.lr", [0.001, 0.3])], list(range(6)))
    report = run_sweep(plan, tmp_path)
    assert report.run_dir.name.endswith("-sweep-small")
    files = {p.name for p in report.run_dir.iterdir()}
    assert {"config.yaml", "grid.json", "members.csv", "metrics.csv", "summary.csv", "summary.json"} <= files
    members = read_csv(report.run_dir / "members.csv")
    assert len(members) == 12
    assert {"member", "train.lr", "seed", "status", "cost", "accuracy", "success", "success_epoch"} <= set(members[0])
    metrics = read_csv(report.run_dir / "metrics.csv")
    assert len(metrics) == 12 * 5  # epochs 0, 3, 6, 9, 12 for every member
    summary = read_csv(report.run_dir / "summary.csv")
    assert [float(s["train.lr"]) for s in summary] == [0.001, 0.3]
    for s in summary:
        mine = [m for m in members if m["train.lr"] == s["train.lr"]]
        rate = sum(int(m["success"]) for m in mine) / len(mine)
        assert float(s["success_rate"]) == pytest.approx(rate)
        assert float(s["success_low"]) <= rate <= float(s["success_high"])
        costs = sorted(float(m["cost"]) for m in mine)
        assert float(s["cost_median"]) == pytest.approx(np.median(costs))
        assert float(s["cost_q1"]) <= float(s["cost_median"]) <= float(s["cost_q3"])
    # the tiny learning rate learns nothing in 12 epochs, the larger one does
    assert float(summary[0]["cost_median"]) > float(summary[1]["cost_median"])


def test_grid_defaults_and_precedence():
    cfg = config_from_dict(small(sweep={"lr": "0.01:1:3", "seeds": 4, "params": {"model.init_scale": [1, 2]}}))
    axes, seeds = grid_from(cfg)
    assert [a.key for a in axes] == ["train.lr", "model.init_scale"] and seeds == [0, 1, 2, 3]
    axes, seeds = grid_from(cfg, lr="0.5", seeds=2, params=["model.init_scale=3"])
    assert axes[0].values == [0.5] and axes[1].values == [3] and seeds == [0, 1]
    plain = config_from_dict(small())
    axes, seeds = grid_from(plain)
    assert axes[0].key == "train.lr" and min(axes[0].values) <= 1e-3 and max(axes[0].values) >= 10
    assert seeds == list(range(32))
    axes, _ = grid_from(plain, compare=True)
    assert [a.key for a in axes] == ["model.hidden"] and "relu" in axes[0].values and "sigmoid" in axes[0].values
    # a grid that varies a learning rate itself gets no default range over the starting one besides
    for key in ("train.lr", "train.phases.0.lr", "train.phases.1.lr"):
        axes, _ = grid_from(plain, params=[f"{key}=0.01,0.1"])
        assert [(a.key, a.values) for a in axes] == [(key, [0.01, 0.1])]
    axes, _ = grid_from(plain, params=["model.init_scale=1,2"])
    assert [a.key for a in axes] == ["train.lr", "model.init_scale"]


def test_compare_refuses_phases_that_would_override_the_activation(tmp_path):
    phased = small(train={"lr": 0.1, "epochs": 4, "phases": [{"epochs": 2, "hidden": "leaky_relu"}, {"epochs": 2}]})
    result = runner.invoke(app, ["compare", str(write_config(tmp_path, phased)), "--seeds", "1",
                                 "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "train.phases set their own" in result.output and result.output.count("\n") == 1


def write_config(tmp_path: Path, raw: dict) -> Path:
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_cli_sweep_and_compare(tmp_path):
    path = write_config(tmp_path, small())
    result = runner.invoke(app, ["sweep", str(path), "--lr", "0.01,0.3", "--seeds", "3", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "lr" in result.output and "success" in result.output and "* best setting" in result.output
    run = next((tmp_path / "r").iterdir())
    assert len(read_csv(run / "members.csv")) == 6
    result = runner.invoke(app, ["compare", str(path), "--activations", "relu,tanh", "--seeds", "2",
                                 "--out", str(tmp_path / "c"), "--quiet"])
    assert result.exit_code == 0, result.output
    run = Path(result.output.strip())
    assert run.name.endswith("-compare-small")
    summary = read_csv(run / "summary.csv")
    assert [s["model.hidden"] for s in summary] == ["relu", "tanh"]


@pytest.mark.parametrize("args,words", [
    (["sweep", "--seeds", "0"], ["--seeds", "at least 1"]),
    (["sweep", "--lr", ""], ["--lr", "empty"]),
    (["sweep", "--lr", "fast"], ["--lr", "not a list of numbers"]),
    (["sweep", "--param", "train.lrr=1,2"], ["train.lrr", "did you mean 'lr'"]),
    (["sweep", "--param", "train.epochs=ten"], ["train.epochs", "valid integer"]),
    (["sweep", "--param", "model.init_scale="], ["--param", "empty"]),
    (["compare", "--activations", "relu,rleu"], ["model.hidden", "did you mean 'relu'"]),
    (["compare", "--activations", ","], ["--activations", "empty"]),
    (["sweep", "--param", "seed=1,2"], ["seed", "--seeds"]),
])
def test_bad_grids_give_one_line_and_exit_2(tmp_path, args, words):
    path = write_config(tmp_path, small())
    result = runner.invoke(app, [args[0], str(path), *args[1:], "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_comparing_an_activation_with_its_alias_says_they_are_one_function():
    from relu_lab.loading import config_from_dict
    from relu_lab.plan import Axis, plan_sweep

    cfg = config_from_dict({"data": {"name": "xor"}, "model": {"layers": [2, 4, 1]}, "train": {"epochs": 5}})
    plan = plan_sweep(cfg, [Axis("model.hidden", ["silu", "swish", "relu"])], [0])
    assert "swish is another name for silu: the two train the same function" in plan.notes
    assert not any("another name" in n for n in plan_sweep(cfg, [Axis("model.hidden", ["swish", "relu"])], [0]).notes)


def test_best_breaks_ties_by_the_score_when_the_grid_varies_the_loss():
    """Costs of different losses are in different units: bce's 0.29 is not worse than mse's 0.14."""
    from relu_lab.console import sweep_table
    from relu_lab.grid import best_point
    from relu_lab.runfiles import best_rank

    rows = [{"loss": "bce", "success_rate": 0.5, "cost_median": 0.29, "accuracy_median": 0.9},
            {"loss": "mse", "success_rate": 0.5, "cost_median": 0.14, "accuracy_median": 0.8}]
    assert best_point(rows) == 0
    assert min(({k: str(v) for k, v in r.items()} for r in rows), key=best_rank)["loss"] == "bce"  # summary.csv's text
    same = [{k: v for k, v in r.items() if k != "loss"} | {"train.lr": lr} for r, lr in zip(rows, (0.1, 0.3))]
    assert best_point(same) == 1  # one loss: the lower cost wins the tie
    assert best_point([rows[1] | {"success_rate": 0.9}, rows[0]]) == 0  # the success rate first, always
    full = [r | {"success_low": 0.1, "success_high": 0.9, "cost_q1": 0.1, "cost_q3": 0.3, "diverged": 0, "members": 4}
            for r in rows]
    assert "highest median score" in sweep_table("t", ["loss"], full, 0).table.caption
    one_loss = [r | {"train.lr": 0.1} for r in full]
    assert "lowest median cost" in sweep_table("t", ["train.lr"], one_loss, 0).table.caption

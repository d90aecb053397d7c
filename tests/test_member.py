"""`relu-lab show SWEEP --member N`: one member retrained alone equals its row in members.csv, bit for bit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relu_lab.cli import app
from relu_lab.errors import UserError
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict
from relu_lab.member import compare_with_row, retrain
from relu_lab.plan import Axis, plan_sweep

SMALL = {  # a sweep whose members end differently: some succeed, some do not, one diverges
    "name": "small",
    "data": {"name": "circle", "n": 60},
    "model": {"layers": [2, 6, 1], "hidden": "relu", "output": "linear"},
    "train": {"lr": 0.1, "epochs": 30, "batch_size": 4},
    "loss": "mse",
    "success": {"metric": "accuracy", "at_least": 0.8},
}


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweeps")
    plan = plan_sweep(config_from_dict(json.loads(json.dumps(SMALL))),
                      [Axis("train.lr", [0.05, 0.5, 40.0]), Axis("model.hidden", ["relu", "tanh"])], [0, 1])
    return run_sweep(plan, out).run_dir


def rows(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "members.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_member_retrained_alone_equals_its_row(sweep_dir, tmp_path):
    statuses = {r["status"] for r in rows(sweep_dir)}
    assert statuses == {"completed", "diverged"}  # both kinds are checked
    for r in rows(sweep_dir):
        done = retrain(sweep_dir, member=int(r["member"]), out=tmp_path)
        assert done.differ == [], done.differ
        assert {"cost", "accuracy", "dead_L1", "grad_L1", "status", "success", "diverged_epoch"} <= set(done.compared)
        assert (done.report.run_dir / "metrics.csv").exists()


def test_a_wrong_figure_is_found(sweep_dir, tmp_path):
    done = retrain(sweep_dir, member=0, out=tmp_path)
    row = dict(done.row, cost=repr(float(done.row["cost"]) * (1 + 1e-15) + 1e-300))
    assert [d.split(":")[0] for d in compare_with_row(done.report, row)[1]] == ["cost"]


def test_choosing_by_seed_and_grid_values(sweep_dir, tmp_path):
    done = retrain(sweep_dir, seed=1, where=["lr=0.5", "hidden=tanh"], out=tmp_path)
    assert done.row["seed"] == "1" and done.row["model.hidden"] == "tanh" and done.row["train.lr"] == "0.5"
    with pytest.raises(UserError, match="2 members match"):
        retrain(sweep_dir, where=["lr=0.5", "hidden=tanh"], out=tmp_path)
    with pytest.raises(UserError, match=r"no member matches that choice; this sweep has seeds 0..1; "
                                        r"train.lr: 0.05, 0.5, 40.0; model.hidden: relu, tanh"):
        retrain(sweep_dir, seed=7, where=["lr=0.5"], out=tmp_path)
    with pytest.raises(UserError, match=r"--where 'depth=3': expected key=value with a grid key"):
        retrain(sweep_dir, seed=0, where=["depth=3"], out=tmp_path)
    with pytest.raises(UserError, match=r"--member 99: the sweep has members 0..11"):
        retrain(sweep_dir, member=99, out=tmp_path)


def test_show_writes_a_full_run_directory_with_its_plots(sweep_dir):
    result = CliRunner().invoke(app, ["show", str(sweep_dir), "--member", "2"])
    assert result.exit_code == 0, result.output
    assert "equal to members.csv row 2, bit for bit" in " ".join(result.output.split())
    (run,) = (sweep_dir / "members").iterdir()
    names = {p.name for p in run.iterdir()}
    assert {"config.yaml", "metrics.csv", "summary.json", "params.npz", "snapshots.npz", "curves.png",
            "decision_boundary.png", "units.png"} <= names
    bad = CliRunner().invoke(app, ["show", str(run), "--member", "0"])  # a train run is not a sweep
    assert bad.exit_code == 2 and "not a sweep or compare run directory" in bad.output

"""relu_lab.train / sweep / compare / check from Python: the same results as the command line, files only with out=."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import relu_lab
from relu_lab.errors import UserError
from relu_lab.loading import load_config

XOR = str(Path(__file__).resolve().parents[1] / "configs" / "xor_relu.yaml")


def test_train_returns_what_the_run_directory_holds(tmp_path):
    kept = relu_lab.train(XOR, {"train.epochs": 200}, out=tmp_path)
    assert kept.run_dir is not None and kept.run_dir.parent == tmp_path
    assert kept.summary == json.loads((kept.run_dir / "summary.json").read_text())
    assert len(kept.history) == len((kept.run_dir / "metrics.csv").read_text().splitlines()) - 1
    assert kept.history[-1]["epoch"] == 200 and kept.history[-1]["cost"] == kept.summary["final"]["cost"]
    alone = relu_lab.train(XOR, {"train.epochs": 200})  # the same run, nothing kept
    assert alone.run_dir is None and alone.history == kept.history
    json.dumps(alone.to_dict())  # plain data


def test_a_config_can_be_a_dict_or_a_config_object():
    raw = {"data": {"name": "xor"}, "model": {"layers": [2, 4, 1]}, "train": {"epochs": 50}}
    from_dict = relu_lab.train(raw)
    from_config = relu_lab.train(load_config(XOR), {"model.layers": [2, 4, 1], "train.epochs": 50})
    assert from_dict.summary["epochs"] == from_config.summary["epochs"] == 50


def test_sweep_and_compare_match_their_files(tmp_path):
    grid = relu_lab.sweep(XOR, {"train.epochs": 100}, lr=[0.1, 1.0], seeds=[3, 5], params={"model.init_scale": [1, 2]},
                          out=tmp_path)
    assert grid.kind == "sweep" and len(grid.members) == 8 and len(grid.summary) == 4
    assert {m["seed"] for m in grid.members} == {3, 5}
    assert grid.info["status"] == "completed" and (grid.run_dir / "summary.csv").exists()
    same = relu_lab.sweep(XOR, {"train.epochs": 100}, lr=[0.1, 1.0], seeds=[3, 5], params={"model.init_scale": [1, 2]})
    assert same.run_dir is None and same.members == grid.members
    comp = relu_lab.compare(XOR, {"train.epochs": 100}, activations=["relu", "elu"], seeds=2)
    assert [p["model.hidden"] for p in comp.summary] == ["relu", "elu"]


def test_an_activation_given_as_python_functions_trains_and_is_checked():
    def f(z):
        return np.where(z > 0, z, 0.1 * z)

    def df(z):
        return np.where(z > 0, 1.0, 0.1)

    run = relu_lab.train(XOR, {"model.hidden": "leaky", "train.epochs": 100}, custom_activations={"leaky": (f, df)})
    ref = relu_lab.train(XOR, {"model.hidden": "leaky_relu", "model.activation_params": {"leaky_relu": {"slope": 0.1}},
                               "train.epochs": 100, "engine": "numpy"})
    assert run.summary["engine"] == "numpy" and run.history == ref.history  # the same function, the same run
    with pytest.raises(UserError, match="expected a pair of functions"):
        relu_lab.train(XOR, custom_activations={"bad": f})
    with pytest.raises(UserError, match="shape"):  # the load-time check still applies
        relu_lab.train(XOR, {"model.hidden": "scalar"}, custom_activations={"scalar": (f, lambda z: 1.0)})


def test_frames_are_pandas_tables_and_without_pandas_say_how_to_get_it(monkeypatch):
    pd = pytest.importorskip("pandas")  # in the test extras; not a dependency of relu-lab
    run = relu_lab.train(XOR, {"train.epochs": 20})
    frame = run.frame()
    assert isinstance(frame, pd.DataFrame) and list(frame["epoch"])[-1] == 20
    assert frame["cost"].tolist() == [row["cost"] for row in run.history]
    grid = relu_lab.sweep(XOR, {"train.epochs": 20}, lr=[0.1, 1.0], seeds=2)
    assert len(grid.frame("members")) == 4 and grid.frame()["train.lr"].tolist() == [0.1, 1.0]
    with pytest.raises(ValueError, match="'summary' or 'members'"):
        grid.frame("points")
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        run.frame()


def test_check_returns_the_verdicts():
    path = Path(XOR).parent / "claims" / "seed004_lr_kills.yaml"
    result = relu_lab.check(str(path), seeds=8)
    (claim,) = result.claims
    assert claim["name"] == "claim004_lr_kills" and len(claim["measured"]) == len(load_config(path).claim.expect)
    assert claim["verdict"] in ("holds", "inconclusive") and result.run_dir is None
    assert claim["runs"] == {}  # its sweeps were in a temporary directory, removed
    rows = result.rows()
    assert [r["expectation"] for r in rows] == [m["expectation"] for m in claim["measured"]]
    assert all(r["claim"] == "claim004_lr_kills" and r["seeds"] == 8 for r in rows)
    if importlib.util.find_spec("pandas"):
        assert result.frame()["verdict"].tolist() == [m["verdict"] for m in claim["measured"]]


BLOW_UP = {"name": "blow_up", "data": {"name": "interpolation", "n": 100},  # lr 50: infinite cost within epochs
           "model": {"layers": [1, 30, 1], "hidden": "relu"}, "train": {"lr": 50, "epochs": 20, "batch_size": 10}}


def test_a_diverged_run_converts_to_strict_json():
    run = relu_lab.train(BLOW_UP)
    assert run.summary["status"] == "diverged"
    text = json.dumps(run.to_dict(), allow_nan=False)  # raises on NaN or inf
    assert run.history[-1]["cost"] is None and json.loads(text)["history"][0]["cost"] is not None
    grid = relu_lab.sweep(BLOW_UP, lr=[50], seeds=2)
    json.dumps(grid.to_dict(), allow_nan=False)
    assert all(m["cost"] is None for m in grid.members)


@pytest.mark.parametrize("seeds", [0, -1, "4", 2.5, True])
def test_check_refuses_a_seed_count_that_is_not_one(seeds):
    path = Path(XOR).parent / "claims" / "seed004_lr_kills.yaml"
    with pytest.raises(UserError, match="seeds: a count of seeds per setting, at least 1"):
        relu_lab.check(str(path), seeds=seeds)

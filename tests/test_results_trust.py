"""Results that can be trusted (issue 11, first part): figures that cannot be computed are empty,
JSON is strict, and derivatives stay finite where their docstrings promise it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from relu_lab.activations import ACTIVATIONS
from relu_lab.cli import app
from relu_lab.errors import UserError
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict
from relu_lab.plan import Axis, plan_sweep
from relu_lab.run import train_run
from tests.logged import logged

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


# --- a grid key that phases set for themselves is never silently ignored ---------

PHASED = XOR | {"train": {"epochs": 20, "lr": 0.1, "phases": [
    {"epochs": 10, "lr": 0.05, "order": "shuffle", "batch_size": 1},
    {"epochs": 10, "order": "sequential"}]}}


def test_a_train_setting_every_phase_overrides_is_said_not_dropped_silently_and_not_saved():
    from relu_lab.experiment import resolve
    from relu_lab.loading import dump_config

    own = XOR | {"train": {"lr": 0.3, "epochs": 999, "optimizer": "adam", "order": "random", "phases": [
        {"epochs": 5, "lr": 0.05, "optimizer": "sgd", "order": "shuffle"}, {"epochs": 5, "optimizer": "momentum"}]}}
    exp = resolve(config_from_dict(own))
    unused = sorted(w.split(" is not used")[0] for w in exp.warnings if "is not used" in w)
    assert unused == ["train.epochs", "train.lr", "train.optimizer"]  # not order: the second phase takes train's
    saved = yaml.safe_load(dump_config(exp.config))
    assert not {"lr", "epochs", "optimizer"} & set(saved["train"]) and saved["train"]["order"] == "random"
    again = resolve(config_from_dict(saved))
    assert not [w for w in again.warnings if "is not used" in w]  # a saved config.yaml reruns without the line
    plain = XOR | {"train": {"phases": [{"epochs": 5, "lr": 0.05}, {"epochs": 5}]}}
    assert not [w for w in resolve(config_from_dict(plain)).warnings if "is not used" in w]  # defaults: nothing said


def test_the_grids_rate_and_the_first_phases_rate_given_together_are_refused_saying_why():
    with pytest.raises(UserError, match=r"train.lr and train.phases.0.lr both vary train.phases.0.lr \(the first "
                                        r"phase sets its own lr.*give the values once"):
        plan_sweep(config_from_dict(PHASED), [Axis("train.lr", [0.1]), Axis("train.phases.0.lr", [0.01, 0.1])], [0])


def test_a_learning_rate_sweep_varies_the_first_phases_own_rate(tmp_path):
    plan = plan_sweep(config_from_dict(PHASED), [Axis("train.lr", [0.001, 0.3])], [0, 1])
    assert [a.key for a in plan.axes] == ["train.phases.0.lr"]
    assert any("train.phases.0.lr" in note for note in plan.notes)
    report = run_sweep(plan, tmp_path)
    costs = {r["train.phases.0.lr"]: r["cost"] for r in report.rows if r["seed"] == 0}
    assert costs[0.001] != costs[0.3]  # the rows differ: the grid reached the training
    assert "lr" not in report.rows[0]  # the axis is the starting rate: no second lr column
    header = (report.run_dir / "members.csv").read_text().splitlines()[0].split(",")
    assert [c for c in header if "lr" in c] == ["train.phases.0.lr"]


def test_a_key_every_phase_sets_is_refused_naming_the_phase():
    with pytest.raises(UserError, match=r"train\.phases\.0\.order: every phase sets its own order"):
        plan_sweep(config_from_dict(PHASED), [Axis("train.order", ["shuffle", "random"])], [0])


def test_a_key_some_phases_set_is_noted_with_the_phases_it_misses():
    plan = plan_sweep(config_from_dict(PHASED), [Axis("train.batch_size", [2, 4])], [0])
    assert any("train.batch_size does not reach train.phases.0" in note for note in plan.notes)


def test_cli_learning_rate_sweep_on_a_phased_config_says_what_it_varies(tmp_path):
    root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(app, ["sweep", str(root / "configs" / "seed004_interpolation.yaml"), "--lr",
                                      "0.0001,0.01", "--seeds", "2", "--set", "train.phases.1.epochs=20",
                                      "--no-plots", "--quiet", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "varies train.phases.0.lr" in result.output
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    with open(run / "summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["train.phases.0.lr"] for r in rows] == ["0.0001", "0.01"]
    assert rows[0]["cost_median"] != rows[1]["cost_median"]


# --- an interrupted chunk goes on from its checkpoint --------------------------


def test_resume_continues_an_interrupted_chunk_from_its_checkpoint(tmp_path, monkeypatch):
    import signal

    from relu_lab import grid as sweep_module

    cfg = config_from_dict(XOR | {"train": {"epochs": 400}, "log_every": 20,
                                  "success": {"metric": "accuracy", "at_least": 1.0}})
    plan = plan_sweep(cfg, [Axis("train.lr", [0.1, 0.5])], list(range(6)))
    ref = run_sweep(plan, tmp_path / "ref")

    progress, pressed = [0], []

    def press_once(member_epochs):  # Ctrl-C once a third of the way through the only chunk
        progress[0] += member_epochs
        if not pressed and progress[0] >= plan.member_epochs // 3:
            pressed.append(progress[0])
            signal.raise_signal(signal.SIGINT)

    cut = run_sweep(plan, tmp_path / "cut", on_progress=press_once)
    assert cut.status == "interrupted" and not cut.rows
    (saved,) = (cut.run_dir / "checkpoints").glob("*.npz")

    seen = []
    real_fit = sweep_module.fit

    def spy(*args, resume=None, **kw):
        seen.append(resume)
        return real_fit(*args, resume=resume, **kw)

    monkeypatch.setattr(sweep_module, "fit", spy)
    done = run_sweep(plan, resume=cut.run_dir)
    assert len(seen) == 1 and seen[0] is not None and 0 < seen[0].epoch < 400
    assert not saved.exists()
    for name in ("summary.csv", "members.csv", "metrics.csv"):
        assert (done.run_dir / name).read_bytes() == (ref.run_dir / name).read_bytes(), name
    # the steps each session trained: the interrupted one's up to its checkpoint, the resume's the rest
    assert cut.member_steps == seen[0].step * 12 > 0 and not cut.resumed
    assert cut.member_steps + done.member_steps == ref.member_steps and done.resumed
    from relu_lab.console import sweep_footer

    assert "this session trained" in sweep_footer(done) and "this session" not in sweep_footer(ref)


# --- seeds: counts, lists and ranges; validate checks what sweep and compare would ------

XOR_CFG = Path(__file__).resolve().parents[1] / "configs" / "xor_relu.yaml"


@pytest.mark.parametrize("spec,seeds", [("3", [0, 1, 2]), ("3,5,7", [3, 5, 7]), ("100:104", [100, 101, 102, 103])])
def test_seeds_take_a_count_a_list_or_a_range(tmp_path, spec, seeds):
    result = CliRunner().invoke(app, ["sweep", str(XOR_CFG), "--lr", "0.5", "--seeds", spec, "--set",
                                      "train.epochs=5", "--no-plots", "--quiet", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    with open(run / "members.csv", newline="") as fh:
        assert [int(r["seed"]) for r in csv.DictReader(fh)] == seeds
    assert json.loads((run / "grid.json").read_text())["seeds"] == seeds


@pytest.mark.parametrize("command", ["sweep", "validate"])
@pytest.mark.parametrize("spec,words", [("0", "need at least 1 seed"), ("5:5", "0 <= a < b"),
                                        ("1,1", "listed twice"), ("x", "seed count")])
def test_bad_seeds_are_refused_alike_by_sweep_and_validate(tmp_path, command, spec, words):
    args = [command, str(XOR_CFG), "--seeds", spec] + (["--out", str(tmp_path)] if command == "sweep" else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--seeds" in result.output and words in result.output and "Traceback" not in result.output


def test_validate_checks_the_activations_of_a_sweep_block(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(XOR_CFG.read_text() + "sweep:\n  activations: [relu, tanhh]\n  seeds: 2\n")
    result = CliRunner().invoke(app, ["validate", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "tanhh" in result.output and "tanh" in result.output
    cfg.write_text(XOR_CFG.read_text() + "sweep:\n  activations: [relu, tanh]\n  seeds: '10:12'\n")
    result = CliRunner().invoke(app, ["validate", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "model.hidden x 2" in result.output and "2 seeds" in result.output


# --- inputs that validate but mean nothing are refused; legitimate ones are accepted -----


def test_cross_entropy_on_one_output_column_is_refused(tmp_path):
    cfg = tmp_path / "ce.yaml"
    cfg.write_text("data: {name: xor}\nmodel: {layers: [2, 4, 1], output: softmax}\nloss: cross_entropy\n")
    result = CliRunner().invoke(app, ["validate", str(cfg)])
    assert result.exit_code == 2
    assert "cross_entropy" in result.output and "bce" in result.output and result.output.count("\n") == 1


def test_csv_test_n_is_refused_not_ignored(tmp_path):
    (tmp_path / "d.csv").write_text("x,y\n0,0\n1,1\n2,0\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {name: csv, path: d.csv, test_n: 50}\nmodel: {layers: [1, 4, 1]}\n")
    result = CliRunner().invoke(app, ["validate", str(cfg)])
    assert result.exit_code == 2 and "data.test_n" in result.output


def test_a_single_row_csv_and_a_constant_regression_target_are_valid(tmp_path):
    (tmp_path / "one.csv").write_text("x,y\n0.5,2.0\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {name: csv, path: one.csv, task: regression}\nmodel: {layers: [1, 4, 1]}\n"
                   "train: {epochs: 5}\n")
    result = CliRunner().invoke(app, ["train", str(cfg), "--out", str(tmp_path / "runs"), "--no-plots"])
    assert result.exit_code == 0, result.output


def test_zero_epochs_evaluates_the_networks_as_initialised(tmp_path):
    result = CliRunner().invoke(app, ["train", str(XOR_CFG), "--set", "train.epochs=0", "--out", str(tmp_path),
                                      "--no-plots"])
    assert result.exit_code == 0, result.output
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    with open(run / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows] == ["0"] and "dead_L1" in rows[0]
    summary = strict_load(run / "summary.json")
    assert summary["status"] == "completed" and summary["epochs_done"] == 0
    assert (run / "params.npz").is_file()


def test_zero_initialisation_is_announced(tmp_path):
    result = CliRunner().invoke(app, ["train", str(XOR_CFG), "--set", "model.init=zeros", "--set", "train.epochs=5",
                                      "--out", str(tmp_path), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "identical" in result.output
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert any("identical" in w for w in strict_load(run / "summary.json")["warnings"])


def test_a_sweep_shows_the_figure_its_criterion_judges(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: judged\ndata: {name: circle, n: 60, test_n: 40}\nmodel: {layers: [2, 8, 1]}\n"
                   "train: {epochs: 20, batch_size: 4}\nsuccess: {metric: test_accuracy, at_least: 0.7}\n")
    result = CliRunner().invoke(app, ["sweep", str(cfg), "--lr", "0.05,0.5", "--seeds", "3", "--no-plots",
                                      "--out", str(tmp_path / "runs")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "test_acc." in result.output and "acc." in result.output
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    with open(run / "summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(run / "members.csv", newline="") as fh:
        members = list(csv.DictReader(fh))
    for row in rows:
        mine = [float(m["test_accuracy"]) for m in members if m["train.lr"] == row["train.lr"]]
        assert float(row["test_accuracy_median"]) == float(np.median(mine))
    assert "test accuracy: median" in (run / "report.md").read_text()


# --- the JSON Schema accepts what validate accepts, with the registries as enums ---------


def schema_errors(doc) -> list[str]:
    import jsonschema

    from relu_lab.config import json_schema

    return [e.message for e in jsonschema.Draft202012Validator(json_schema()).iter_errors(doc)]


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_shipped_config_validates_against_the_schema(path):
    import yaml

    assert schema_errors(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("doc,ok", [
    ({"loss": "bce"}, True),
    ({"loss": {"name": "mse", "reduction": "sum"}}, True),
    ({"model": {"hidden": ["relu", "mine"], "custom_activations": {"mine": {"f": "m:f", "df": "m:df"}}}}, True),
    ({"loss": "bse"}, False),
    ({"data": {"name": "xorr"}}, False),
    ({"model": {"init": "glorott"}}, False),
    ({"train": {"order": "shufle"}}, False),
    ({"model": {"activation_params": {"relu": {"slope": 1}}}}, False),
    ({"trian": {}}, False),
])
def test_the_schema_rejects_what_validate_rejects(doc, ok):
    assert (schema_errors(doc) == []) is ok


# --- a user's own activation is checked at load; its module may sit beside the config --------

MODULE = '''import numpy as np

def softsign(z):
    return z / (1 + np.abs(z))

def dsoftsign(z):
    return 1 / (1 + np.abs(z)) ** 2

def dsoftsign_wrong(z):
    return 1 / (1 + np.abs(z))

def dscalar(z):
    return 1.0

def dnan(z):
    return np.where(z > 3, np.nan, 1.0)
'''


def custom_config(tmp_path: Path, df: str, module: str = "beside_mod") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / f"{module}.py").write_text(MODULE)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: {{name: xor}}\nmodel:\n  layers: [2, 4, 1]\n  hidden: ss\n  custom_activations: "
                   f"{{ss: {{f: '{module}:softsign', df: '{module}:{df}'}}}}\ntrain: {{epochs: 5}}\n")
    return cfg


def test_an_activation_module_beside_the_config_is_found_and_a_good_one_passes(tmp_path):
    result = CliRunner().invoke(app, ["train", str(custom_config(tmp_path, "dsoftsign", "beside_ok")),
                                      "--out", str(tmp_path / "runs"), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "does not match" not in result.output


def test_a_run_of_a_users_activation_reruns_from_its_run_directory_anywhere(tmp_path):
    # The saved config.yaml names the folder the module was found in; a fresh process started
    # elsewhere (a rerun, a Dask worker) finds the module there and repeats the run exactly.
    result = CliRunner().invoke(app, ["train", str(custom_config(tmp_path / "mine", "dsoftsign", "beside_rerun")),
                                      "--out", str(tmp_path / "runs"), "--no-plots"])
    assert result.exit_code == 0, result.output
    (run,) = (tmp_path / "runs").iterdir()
    saved = yaml.safe_load((run / "config.yaml").read_text())["model"]["custom_activations"]["ss"]
    assert saved["folder"] == str((tmp_path / "mine").resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rerun = subprocess.run([sys.executable, "-c", "from relu_lab.cli import run; run()", "train",
                            str(run / "config.yaml"), "--out", str(elsewhere), "--no-plots", "--quiet"],
                           cwd=elsewhere, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    (again,) = [p for p in elsewhere.iterdir() if p.is_dir()]
    assert (again / "metrics.csv").read_text() == (run / "metrics.csv").read_text()


def test_a_sweeps_saved_base_names_the_folder_of_a_users_activation(tmp_path):
    from relu_lab.loading import load_config

    path = custom_config(tmp_path / "mine", "dsoftsign", "beside_grid")
    plan = plan_sweep(load_config(path), [Axis("train.lr", [0.1, 0.2])], [0], str(path), path.parent)
    assert plan.base.model.custom_activations["ss"].folder == str((tmp_path / "mine").resolve())
    assert load_config(path).model.custom_activations["ss"].folder is None  # the user's own config is unchanged


def test_a_wrong_derivative_is_named_with_its_worst_point(tmp_path):
    result = CliRunner().invoke(app, ["train", str(custom_config(tmp_path, "dsoftsign_wrong", "beside_wrong")),
                                      "--out", str(tmp_path / "runs"), "--no-plots"])
    assert result.exit_code == 0, result.output  # a wrong derivative is a legitimate experiment: warned, run
    assert "the derivative dsoftsign_wrong does not match f's slope: at z = " in result.output
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert any("does not match" in w for w in strict_load(run / "summary.json")["warnings"])


@pytest.mark.parametrize("df,words", [("dscalar", "returned shape ()"), ("dnan", "not finite at z = 3.")])
def test_a_derivative_that_cannot_train_is_refused_at_load(tmp_path, df, words):
    result = CliRunner().invoke(app, ["validate", str(custom_config(tmp_path, df, f"beside_{df}"))])
    assert result.exit_code == 2, result.output
    assert "model.custom_activations.ss" in result.output and words in result.output


@pytest.mark.parametrize("command,default", [("compare", "[default: all registered: linear"),
                                              ("sweep", "[default: the config's sweep.seeds, else 32]"),
                                              ("train", "[default: the config's engine, else auto]")])
def test_help_keeps_its_defaults(command, default):
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=250, env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert default in " ".join(result.output.replace("│", " ").split())


# --- a blow-up that clipping hides is said, not reported as a clean completion ------------


def test_a_blow_up_hidden_by_clipping_is_reported(tmp_path):
    cfg = config_from_dict(DIVERGING | {"train": {"epochs": 40, "lr": 10.0, "clip": 1.0}})
    report = train_run(cfg, tmp_path)
    summary = strict_load(report.run_dir / "summary.json")
    assert summary["status"] == "completed"  # clipping kept it finite...
    assert any("gradient clipping was active in" in w for w in summary["warnings"]), summary["warnings"]


def test_a_healthy_clipped_run_gets_no_such_warning(tmp_path):
    cfg = config_from_dict(XOR | {"train": {"epochs": 40, "lr": 0.5, "clip": 100.0}})
    summary = strict_load(train_run(cfg, tmp_path).run_dir / "summary.json")
    assert not any("clipping" in w or "|w|" in w for w in summary["warnings"]), summary["warnings"]


def test_absurd_weights_are_reported(tmp_path):
    cfg = config_from_dict(XOR | {"model": {"layers": [2, 8, 1], "hidden": "relu", "init": "uniform",
                                            "init_scale": 1e5}, "train": {"epochs": 2, "lr": 1e-12}})
    summary = strict_load(train_run(cfg, tmp_path).run_dir / "summary.json")
    assert summary["status"] == "completed"
    assert any("weights as large as |w| = " in w for w in summary["warnings"]), summary["warnings"]


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_both_engines_count_clipped_steps_alike(engine):
    from relu_lab.experiment import resolve
    from tests.logged import fit_configs

    cfg, data = resolve(config_from_dict(XOR | {"engine": engine, "train": {"epochs": 30, "lr": 0.5, "clip": 0.3}}))
    result = fit_configs([cfg.model_copy(update={"seed": s}) for s in range(4)], data)
    ref, _ = resolve(config_from_dict(XOR | {"engine": "numpy", "train": {"epochs": 30, "lr": 0.5, "clip": 0.3}}))
    expected = fit_configs([ref.model_copy(update={"seed": s}) for s in range(4)], data).clipped_steps
    assert expected.sum() > 0
    np.testing.assert_array_equal(result.clipped_steps, expected)


# --- tables keep every column, whatever the width -------------------------------------------

GRID_ROWS = [{"train.lr": lr, "model.init_scale": 0.5, "model.hidden": "relu", "members": 3, "success_rate": 1.0,
              "success_low": 0.44, "success_high": 1.0, "cost_median": 0.00516, "cost_q1": 0.0051, "cost_q3": 0.0074,
              "accuracy_median": 1.0, "test_accuracy_median": 0.95, "diverged": 2} for lr in (0.01, 0.1)]
GRID_KEYS = ["train.lr", "model.init_scale", "model.hidden"]


def rendered(width: int, terminal: bool) -> str:
    import io

    from rich.console import Console

    from relu_lab.console import print_sweep

    out = io.StringIO()
    print_sweep(Console(file=out, width=width, force_terminal=terminal, color_system=None), "t", GRID_KEYS,
                GRID_ROWS, best=1)
    return out.getvalue()


@pytest.mark.parametrize("width", [40, 80, 200])
def test_a_piped_sweep_table_has_every_column_on_one_line_per_point(width):
    text = rendered(width, terminal=False)
    header = next(line for line in text.splitlines() if "init_scale" in line)
    for column in ("lr", "hidden", "success [95% CI]", "cost median [IQR]", "acc.", "test_acc.", "div.", "n"):
        assert column in header.split("  ") or f" {column} " in f" {header} ", (column, header)
    assert [line.split()[-1] for line in text.splitlines() if "[44-100]" in line] == ["3", "3"]


def test_a_narrow_terminal_gets_one_labelled_line_per_grid_point():
    text = rendered(40, terminal=True)
    flat = " ".join(text.split())
    assert "* lr 0.1, init_scale 0.5, hidden relu, success [95% CI] 100% [44-100]" in flat
    assert "test_acc. 0.95, div. 2, n 3" in flat


def test_report_says_one_value_not_one_values(tmp_path):
    from relu_lab.report import write_report

    plan = plan_sweep(config_from_dict(XOR | {"train": {"lr": 0.3, "epochs": 5}}),
                      [Axis("train.lr", [0.3]), Axis("model.hidden", ["relu", "tanh"])], [0])
    text = write_report(run_sweep(plan, tmp_path).run_dir, make_plots=False).read_text()
    assert "(1 value)" in text and "(2 values)" in text and "(1 values)" not in text


SEED004 = Path(__file__).resolve().parents[1] / "configs" / "seed004_interpolation.yaml"


@pytest.mark.parametrize("override,words", [
    ("train.epochs=300", "every phase sets its own epochs (train.phases.0.epochs); set train.phases.N.epochs"),
    ("train.lr=0.1", "the first phase sets its own lr (train.phases.0.lr); set train.phases.0.lr instead"),
])
def test_a_set_that_no_phase_would_see_is_refused(override, words):
    result = CliRunner().invoke(app, ["validate", str(SEED004), "--set", override])
    assert result.exit_code == 2 and "would change nothing" in result.output and words in result.output


def test_a_set_that_reaches_some_phase_is_accepted():
    result = CliRunner().invoke(app, ["validate", str(SEED004), "--set", "train.lr_decay=0.9"])
    assert result.exit_code == 0, result.output


def test_the_first_log_shows_the_net_with_its_first_phases_activations():
    from relu_lab.experiment import resolve

    def first_cost(model_hidden: str, phase_hidden: str | None) -> float:
        phase = {"epochs": 3, "lr": 0.1} | ({"hidden": phase_hidden} if phase_hidden else {})
        raw = XOR | {"model": XOR["model"] | {"hidden": model_hidden},
                     "train": {"epochs": 3, "phases": [phase]}, "log_every": 3}
        cfg, data = resolve(config_from_dict(raw))
        return float(logged([cfg], data)[1][0].metrics["cost"][0])

    # a net that trains with ReLU from the start is evaluated with ReLU at epoch 0, whatever model.hidden says
    assert first_cost("silu", "relu") == first_cost("relu", None)
    assert first_cost("silu", "relu") != first_cost("silu", None)


def test_a_sweep_says_which_members_clipping_kept_from_blowing_up(tmp_path):
    cfg = config_from_dict(DIVERGING | {"train": {"epochs": 40, "clip": 5.0}})
    report = run_sweep(plan_sweep(cfg, [Axis("train.lr", [0.01, 10.0])], [0, 1]), tmp_path)
    shares = {(r["train.lr"], r["seed"]): r["clipped_share"] for r in report.rows}
    assert all(shares[(10.0, s)] > 0.5 for s in (0, 1)) and all(shares[(0.01, s)] < 0.5 for s in (0, 1)), shares
    assert report.warnings == ["2 of 4 members had train.clip scaling down more than half of their steps' "
                               "gradients: a blow-up the clipping hides (members.csv: clipped_share)"]
    assert strict_load(report.run_dir / "summary.json")["warnings"] == report.warnings
    plain = run_sweep(plan_sweep(config_from_dict(DIVERGING | {"train": {"epochs": 5}}), [Axis("train.lr", [0.001])],
                                 [0]), tmp_path)
    assert "clipped_share" not in plain.rows[0] and plain.warnings == []

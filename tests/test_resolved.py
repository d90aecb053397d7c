"""The resolved experiment (resolved.py): what it binds once, how it travels to a worker, what the trainer takes
of it, and the sweep's base config saved resolved without changing what a resume plans."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from relu_lab.experiment import resolve
from relu_lab.loading import config_from_dict
from relu_lab.optimizers import OPTIMIZERS
from relu_lab.plan import Axis, plan_sweep
from relu_lab.resolved import Trainee
from relu_lab.trainer import fit

ROOT = Path(__file__).resolve().parent.parent


def small(**over) -> dict:
    raw = {"data": {"name": "circle", "n": None}, "model": {"layers": [2, 4, 1], "hidden": "relu"},
           "train": {"lr": 0.1, "epochs": 40}, "engine": "numpy"}
    for key, value in over.items():
        raw[key] = raw.get(key, {}) | value if isinstance(value, dict) else value
    return raw


def test_resolution_binds_the_activations_loss_and_rule_of_every_phase():
    exp = resolve(config_from_dict(small(train={"lr": 0.1, "batch_size": 5000, "phases": [
        {"epochs": 5, "hidden": "leaky_relu"}, {"epochs": 7, "optimizer": {"name": "adam", "beta1": 0.8}}]},
        model={"layers": [2, 4, 1], "hidden": "relu", "activation_params": {"leaky_relu": {"slope": 0.2}}})))
    first, second = exp.stages
    assert [a.name for a in first.hidden] == ["leaky_relu"] and first.hidden[0].params == {"slope": 0.2}
    assert [a.name for a in second.hidden] == ["relu"] and [a.name for a in exp.hidden] == ["relu"]
    assert (first.rule, first.rule_args) == (OPTIMIZERS["sgd"], {})
    assert second.rule is OPTIMIZERS["adam"] and second.rule_args == {"beta1": 0.8, "beta2": 0.999, "eps": 1e-8}
    assert first.batch == len(exp.data.X) == 1000  # batch_size beyond the data: the whole set
    assert exp.output.name == "sigmoid" and exp.loss.name == "bce" and exp.total_epochs == 12
    assert exp.trainee(5) == Trainee(5, (0.1, None), (1.0, 1.0))


def test_an_experiment_travels_as_its_config_and_binds_again(tmp_path):
    raw = small(model={"layers": [2, 4, 1], "hidden": "mine", "custom_activations": {
        "mine": {"f": "tests.custom_act:swish", "df": "tests.custom_act:dswish"}}})
    exp = resolve(config_from_dict(raw), "config", ROOT)
    back = pickle.loads(pickle.dumps(exp))
    assert back.config == exp.config and back.warnings == exp.warnings
    assert back.stages[0].hidden[0].fn.f is exp.stages[0].hidden[0].fn.f  # the user's function, imported again
    assert fit(back).final["cost"][0] == fit(exp).final["cost"][0]


def test_the_trainer_reads_no_config():
    """The trainer takes an Experiment and Trainees; it imports neither the config nor resolution."""
    text = (ROOT / "relu_lab" / "trainer.py").read_text()
    imported = {n.module for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"config", "experiment", "loading"}, imported
    assert ".config" not in text  # nor an experiment's config: what it trains with is bound in the Experiment


def _same_plan(a, b) -> None:
    assert [m.config.model_dump() for m in a.members] == [m.config.model_dump() for m in b.members]
    assert [m.trainee for m in a.members] == [m.trainee for m in b.members]
    assert [len(g.members) for g in a.groups] == [len(g.members) for g in b.groups]


GRIDS = {
    "learning rates": [Axis("train.lr", [0.01, 0.1])],
    "epochs (log_every differs)": [Axis("train.epochs", [40, 400])],
    "activations (their params differ)": [Axis("model.hidden", ["relu", "leaky_relu", "elu"])],
    "datasets (n differs)": [Axis("data.name", ["circle", "xor"])],
    "a phase's rate": [Axis("train.phases.0.lr", [0.01, 0.1])],
}


@pytest.mark.parametrize("grid", list(GRIDS))
def test_planning_again_from_the_saved_base_gives_the_same_members(grid):
    raw = small(train={"lr": 0.1, "epochs": 40, "phases": [{"epochs": 20}, {"epochs": 20, "lr": 0.05}]}) \
        if grid == "a phase's rate" else small()
    plan = plan_sweep(config_from_dict(raw), GRIDS[grid], [3, 4])
    again = plan_sweep(plan.base, plan.axes, plan.seeds)
    _same_plan(plan, again)
    assert again.base == plan.base  # saving it again changes nothing


def test_the_saved_base_holds_what_resolution_filled_in_where_the_points_agree():
    plan = plan_sweep(config_from_dict(small()), [Axis("train.lr", [0.01, 0.1])], [0])
    base = plan.base
    assert base.data.n == 1000 and base.data.noise is not None  # the dataset's defaults
    assert base.loss.name == "bce" and base.model.output == "sigmoid" and base.engine == "numpy"
    assert base.log_every == plan.members[0].config.log_every  # the sweep's own rule: fewer rows than a train run
    assert base.train.lr == 0.1  # the grid's key as the base gives it, not a point's
    epochs = plan_sweep(config_from_dict(small()), [Axis("train.epochs", [40, 4000])], [0])
    assert {m.config.log_every for m in epochs.members} == {20, 160} and epochs.base.log_every is None


def test_a_grid_over_log_every_sets_each_points_interval():
    plan = plan_sweep(config_from_dict(small()), [Axis("log_every", [3, 7])], [0])
    assert [m.config.log_every for m in plan.members] == [3, 7]

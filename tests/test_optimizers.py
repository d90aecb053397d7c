"""Update rules (optimizers.py): every registered rule against its update worked out by hand (the way
scikit-learn tests its stochastic optimizers), L1 beside L2, the state across phases, checkpoints and
resume, and the config's forms. A new registry entry fails `test_every_rule_has_a_hand_worked_update`
until its own hand-worked update is written below."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from relu_lab.engines import Plan
from relu_lab.engines.numpy_engine import update
from relu_lab.errors import UserError
from relu_lab.experiment import resolve
from relu_lab.loading import config_from_dict
from relu_lab.losses import LOSSES
from relu_lab.network import Ensemble
from relu_lab.optimizers import ARGUMENTS, OPTIMIZERS
from tests.logged import fit_configs, logged
from tests.test_engines import interrupt_at
from tests.test_network import LOSS_OUTPUTS, act

GRADS = [0.5, -0.25, 2.0]  # the gradient of one parameter at steps 1, 2, 3
P0, LR = 1.0, 0.1


def by_hand(name: str, args: dict) -> list[float]:
    """The parameter after each step of GRADS, written out from PyTorch's documentation, one rule at a time."""
    p, out = P0, []
    if name == "sgd":
        for g in GRADS:
            p = p - LR * g
            out.append(p)
    elif name in ("momentum", "nesterov"):
        mu, buf = args["momentum"], None
        for g in GRADS:
            buf = g if buf is None else mu * buf + g  # torch: the buffer starts as the first gradient
            p = p - LR * ((g + mu * buf) if name == "nesterov" else buf)
            out.append(p)
    elif name == "adam":
        b1, b2, eps, m, v = args["beta1"], args["beta2"], args["eps"], 0.0, 0.0
        for t, g in enumerate(GRADS, 1):
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            p = p - LR * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
            out.append(p)
    elif name == "rmsprop":
        alpha, eps, sq = args["alpha"], args["eps"], 0.0
        for g in GRADS:
            sq = alpha * sq + (1 - alpha) * g * g
            p = p - LR * g / (math.sqrt(sq) + eps)
            out.append(p)
    elif name == "adagrad":
        eps, total = args["eps"], 0.0
        for g in GRADS:
            total += g * g
            p = p - LR * g / (math.sqrt(total) + eps)
            out.append(p)
    elif name == "adadelta":
        rho, eps, sq, acc = args["rho"], args["eps"], 0.0, 0.0
        for g in GRADS:  # torch: square_avg, then delta from acc_delta, then acc_delta
            sq = rho * sq + (1 - rho) * g * g
            delta = math.sqrt(acc + eps) / math.sqrt(sq + eps) * g
            acc = rho * acc + (1 - rho) * delta * delta
            p = p - LR * delta
            out.append(p)
    else:
        raise KeyError(name)
    return out


def test_every_rule_has_a_hand_worked_update():
    for name, rule in OPTIMIZERS.items():
        by_hand(name, rule.params)  # raises KeyError for a rule nobody worked out


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("args", ["defaults", "others"])
def test_a_rule_steps_as_worked_out_by_hand(name, args):
    rule = OPTIMIZERS[name]
    given = dict(rule.params) if args == "defaults" else {k: v * 0.5 for k, v in rule.params.items()}
    p, s1, s2, got = np.array([P0]), np.zeros(1), np.zeros(1), []
    for t, g in enumerate(GRADS, 1):
        c1, c2 = rule.factors()(t, **given)  # once per step, as both engines do
        p, s1, s2 = rule.step(p, np.array([g]), s1, s2, LR, c1, c2, **given)
        got.append(float(p[0]))
    np.testing.assert_allclose(got, by_hand(name, given), rtol=1e-14)


def _net(K: int = 2) -> Ensemble:
    rngs = [np.random.default_rng(s) for s in range(K)]
    return Ensemble.create([2, 3, 1], rngs, [act("tanh")], act("linear"), "normal", 1.0, "like_weights")


def _step(net: Ensemble, plan: Plan, lr: float = LR) -> None:
    X, Y = np.array([[0.5, -1.0], [1.5, 0.25]]), np.array([[1.0], [0.0]])
    zs, as_ = net.forward(X)
    update(net, net.backward(zs, as_, Y, plan.loss, plan.reduction), np.full((net.K, 1), lr), plan)


def plan(rule: str = "sgd", **over) -> Plan:
    return Plan(LOSSES["mse"], "mean", 2, np.ones(2), None, 0.0, **({"rule": OPTIMIZERS[rule],
                                                                      "rule_args": OPTIMIZERS[rule].params} | over))


def test_the_in_place_sgd_step_is_the_registrys_sgd_bit_for_bit():
    a, b = _net(), _net()
    _step(a, plan("sgd"))
    X, Y = np.array([[0.5, -1.0], [1.5, 0.25]]), np.array([[1.0], [0.0]])
    zs, as_ = b.forward(X)
    g = b.backward(zs, as_, Y, LOSSES["mse"], "mean").copy()
    expected = OPTIMIZERS["sgd"].step(b.flat, g, None, None, np.full((2, 1), LR), 1.0, 1.0)[0]
    np.testing.assert_array_equal(a.flat, expected)


def test_l1_adds_l1_sign_w_to_the_weights_gradient_only():
    a, b = _net(), _net()
    before = b.flat.copy()
    _step(a, plan("sgd"))
    _step(b, plan("sgd", l1=0.3))
    # the same gradient, plus l1 sign(W) on the weights: the update differs by lr * 0.3 * sign(W) there, 0 elsewhere
    np.testing.assert_allclose(a.flat - b.flat, LR * 0.3 * np.sign(before) * b.weight_mask, atol=1e-15)


def test_a_rule_keeps_its_state_per_member_and_counts_its_steps():
    net = _net()
    for _ in range(3):
        _step(net, plan("adam"))
    assert net.steps.tolist() == [3, 3] and net.slots.shape == (2, 2, net.flat.shape[1])
    assert np.all(net.slots[1] > 0)  # the second moment of every parameter that got a gradient
    net.reset_optimizer()
    assert net.slots is None and net.steps.tolist() == [0, 0]


def test_a_phase_adding_a_learned_slope_keeps_the_weights_state_and_starts_the_slopes_at_zero():
    net = _net()
    for _ in range(2):
        _step(net, plan("momentum"))
    velocity = {k: v.copy() for k, v in zip(("W0", "b0", "W1", "b1"), net._views(net.slots[0], net._shapes))}
    net.set_hidden([act("prelu")])  # flat grows by a learned slope per unit
    views = net._views(net.slots[0], net._shapes)
    assert net.slots.shape[2] == net.flat.shape[1] == 3 * 2 + 3 + 3 + 1 + 3
    for (name, before), now in zip(velocity.items(), views[:4]):
        np.testing.assert_array_equal(now, before, err_msg=name)
    np.testing.assert_array_equal(views[4], 0.0)


CONFIG = {"name": "opt", "data": {"name": "circle", "n": 40}, "model": {"layers": [2, 6, 1], "hidden": "relu"},
          "train": {"lr": 0.05, "epochs": 30, "batch_size": 8, "order": "shuffle"}, "log_every": 5}


def resolved(**train) -> tuple:
    raw = {**CONFIG, "train": {**CONFIG["train"], **train}}
    return resolve(config_from_dict(raw))


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "sgd"])
def test_an_interrupted_run_resumes_bit_for_bit_with_the_rules_state(name):
    cfg, data = resolved(optimizer=name)
    members = [cfg.model_copy(update={"seed": s}) for s in range(3)]
    full, _ = logged(members, data)
    part, _ = logged(members, data, callback=interrupt_at(15))
    assert part.status == ["interrupted"] * 3 and part.checkpoint.slots is not None
    rest, _ = logged(members, data, resume=part.checkpoint)
    np.testing.assert_array_equal(rest.net.flat, full.net.flat)


def test_a_checkpoint_file_carries_the_rules_state(tmp_path):
    from relu_lab import checkpoint

    cfg, data = resolved(optimizer="adam")
    part, _ = logged([cfg], data, callback=interrupt_at(10))
    checkpoint.save(tmp_path / "c.npz", [0], part.checkpoint)
    _, back = checkpoint.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(back.slots, part.checkpoint.slots)
    np.testing.assert_array_equal(back.rule_steps, part.checkpoint.rule_steps)


def test_phases_keep_the_state_unless_they_change_the_rule():
    one = resolved(optimizer="momentum")
    split = resolved(optimizer="momentum", phases=[{"epochs": 10}, {"epochs": 20, "hidden": "relu"}])
    changed = resolved(optimizer="momentum", phases=[{"epochs": 10}, {"epochs": 20, "optimizer": "adam"}])
    a, b, c = (fit_configs([cfg], data).net.flat for cfg, data in (one, split, changed))
    np.testing.assert_array_equal(a, b)  # a phase that changes nothing else keeps the velocity
    assert not np.array_equal(a, c)


def test_a_phase_that_names_its_rule_again_with_the_same_arguments_keeps_the_state():
    def then(mu: float):
        second = {"epochs": 20, "optimizer": {"name": "momentum", "momentum": mu}}
        return resolved(optimizer="momentum", phases=[{"epochs": 10}, second])

    one = resolved(optimizer="momentum")
    a, b, c = (fit_configs([cfg], data).net.flat for cfg, data in (one, then(0.9), then(0.5)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if OPTIMIZERS[n].params])
def test_every_argument_of_a_rule_is_a_config_key_with_its_range(name):
    """The config's keys and ranges come from optimizers.ARGUMENTS: a new rule's arguments need no config code."""
    for key, default in OPTIMIZERS[name].params.items():
        arg = ARGUMENTS[key]

        def given(value, key=key):
            return config_from_dict({**CONFIG, "train": {**CONFIG["train"], "optimizer": {"name": name, key: value}}})

        assert given(default).train.optimizer.arguments()[key] == default
        with pytest.raises(UserError, match=f"train.optimizer.{key}"):
            given(arg.high)
        rule = OPTIMIZERS[name]
        if arg.open_low or (rule.refuses and rule.refuses(**{**rule.params, key: arg.low})):
            with pytest.raises(UserError, match=f"train.optimizer.{key}|{name} needs"):
                given(arg.low)
        else:
            assert given(arg.low).train.optimizer.arguments()[key] == arg.low


def test_the_readme_says_what_every_rule_is_with_its_default_arguments():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text[text.index("- optimizers (`train.optimizer`)"):]
    for name, rule in OPTIMIZERS.items():
        line = next((line for line in section.splitlines() if line.startswith(f"  - `{name}`")), None)
        assert line is not None, f"README: no line for optimizer {name}"
        for key, default in rule.params.items():
            assert f"`{key}` {default:g}".replace("e-0", "e-") in line, (name, key)


def test_the_compiled_engine_runs_every_rule():
    exp = resolve(config_from_dict({**CONFIG, "train": {**CONFIG["train"], "optimizer": "adam", "epochs": 100000}}))
    assert exp.config.engine == "compiled" and exp.engine_note is None


@pytest.mark.parametrize("batch", [1, 8])
def test_l1_on_both_engines_agrees(batch):
    flats = []
    for engine in ("numpy", "compiled"):
        cfg, data = resolved(l1=0.01, weight_decay=0.001, batch_size=batch, epochs=50)
        cfg = cfg.model_copy(update={"engine": engine})
        flats.append(fit_configs([cfg.model_copy(update={"seed": s}) for s in range(3)], data).net.flat)
    np.testing.assert_allclose(flats[0], flats[1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("text,words", [
    ({"optimizer": "adma"}, "unknown optimizer 'adma'; did you mean 'adam'"),
    ({"optimizer": {"name": "sgd", "momentum": 0.9}}, "'momentum' is not an argument of sgd"),
    ({"optimizer": {"name": "adam", "beta1": 1.5}}, "beta1"),
    ({"optimizer": 3}, "expected an optimizer name"),
    ({"optimizer": {"name": "nesterov", "momentum": 0}}, "nesterov needs momentum > 0"),
    ({"l1": -0.1}, "l1"),
])
def test_bad_optimizer_settings_are_refused_naming_the_key(text, words):
    with pytest.raises(UserError, match=words):
        config_from_dict({**CONFIG, "train": {**CONFIG["train"], **text}})


def test_the_config_takes_a_name_or_a_mapping_and_writes_what_was_given():
    from relu_lab.loading import dump_config

    cfg = config_from_dict({**CONFIG, "train": {**CONFIG["train"], "optimizer": {"name": "adam", "beta1": 0.8}}})
    assert cfg.train.optimizer.arguments() == {"beta1": 0.8, "beta2": 0.999, "eps": 1e-8}
    assert "optimizer: {name: adam, beta1: 0.8}" in dump_config(cfg)
    assert str(config_from_dict(CONFIG).train.optimizer) == "sgd"


@pytest.mark.parametrize("batching", ["online", "minibatch", "full"])
@pytest.mark.parametrize("loss_name,output", LOSS_OUTPUTS)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_both_engines_step_every_rule_alike_over_50_epochs(name, loss_name, output, batching):
    """Every rule x loss x batching (both compiled kernels: members as lanes, and a member at a time), with
    L2, L1 and a learned slope, agrees with the NumPy engine to 1e-9 after 50 epochs; so do the rule's state
    and step counts."""
    from tests.test_engines import BATCHES, make_data, make_net, targets_for, train

    layers = [3, 5, 4, 3]
    net = make_net(layers, [act("tanh"), act("prelu")], act(output), K=3)
    X, Y = make_data("shared", 3, 8 if batching != "minibatch" else 24, layers[0], layers[-1])
    Y = targets_for(loss_name, Y)
    batch = BATCHES[batching] if batching != "minibatch" else 8  # 8 and up: the member-at-a-time kernel
    plan = Plan(LOSSES[loss_name], "mean", batch, np.full(3, 0.99), None, 0.001, None, 0.001, OPTIMIZERS[name],
                dict(OPTIMIZERS[name].params))
    ref, _, _ = train("numpy", net, X, Y, plan, 50, lr=0.003)
    got, _, _ = train("compiled", net, X, Y, plan, 50, lr=0.003)
    assert np.abs(ref.flat - net.flat).max() > 1e-4, "training moved nothing: the comparison would be vacuous"
    np.testing.assert_allclose(got.flat, ref.flat, rtol=1e-9, atol=1e-9)
    if OPTIMIZERS[name].state:
        np.testing.assert_allclose(got.slots, ref.slots, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(got.steps, ref.steps)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_show_member_reproduces_a_member_trained_with_a_rule_bit_for_bit(tmp_path, name):
    """A sweep's member trained with an update rule retrains alone to the same members.csv row (its rule's state
    starts and evolves the same), whichever kernel trained the ensemble."""
    from relu_lab.grid import run_sweep
    from relu_lab.member import retrain
    from relu_lab.plan import Axis, plan_sweep

    cfg = config_from_dict({**CONFIG, "train": {**CONFIG["train"], "optimizer": name, "epochs": 20}})
    sweep_dir = run_sweep(plan_sweep(cfg, [Axis("train.lr", [0.01, 0.05])], [0, 1, 2]), tmp_path).run_dir
    done = retrain(sweep_dir, member=4, out=tmp_path / "alone")
    assert done.compared and not done.differ, done.differ


def test_set_on_an_argument_keeps_the_rule_the_config_names(tmp_path):
    import yaml

    from relu_lab.loading import load_config

    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "train": {**CONFIG["train"], "optimizer": "adam"}}))
    assert load_config(path, ["train.optimizer.beta1=0.8"]).train.optimizer.arguments()["beta1"] == 0.8
    again = load_config(tmp_path / "adam.yaml", ["train.optimizer=momentum", "train.optimizer.momentum=0.5"])
    assert (again.train.optimizer.name, again.train.optimizer.momentum) == ("momentum", 0.5)
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(CONFIG))
    with pytest.raises(UserError, match="'beta1' is not an argument of sgd .*; it is one of adam's"):
        load_config(plain, ["train.optimizer.beta1=0.8"])


def test_a_runs_config_yaml_holds_every_argument_its_rules_ran_with(tmp_path):
    from relu_lab.loading import load_config
    from relu_lab.run import train_run

    raw = {**CONFIG, "train": {**CONFIG["train"], "optimizer": {"name": "adam", "beta1": 0.8},
                               "phases": [{"epochs": 5}, {"epochs": 5, "optimizer": "rmsprop"}]}}
    run = train_run(config_from_dict(raw), out=tmp_path).run_dir
    saved = load_config(run / "config.yaml")
    assert saved.train.optimizer.model_dump() == {"name": "adam", "beta1": 0.8, "beta2": 0.999, "eps": 1e-8}
    assert saved.train.phases[1].optimizer.model_dump() == {"name": "rmsprop", "alpha": 0.99, "eps": 1e-8}
    assert saved.train.phases[0].optimizer is None  # a phase that names none goes on with train.optimizer


def test_runs_show_and_the_report_say_which_rule_and_penalties_ran(tmp_path):
    import re

    from relu_lab.plan import Axis, plan_sweep
    from relu_lab.report import write_report
    from relu_lab.runs import show_run
    from tests.test_runs import fields, render

    raw = {**CONFIG, "train": {**CONFIG["train"], "l1": 0.01, "clip": 1.0}}
    plan = plan_sweep(config_from_dict(raw), [Axis("train.optimizer", ["sgd", {"name": "adam", "beta1": 0.8}])], [0])
    from relu_lab.grid import run_sweep

    run = run_sweep(plan, tmp_path).run_dir
    got = fields(render(show_run(run)))
    assert got["optimizer"] == "sgd (varied by the grid)" and got["penalties"] == "clip 1, l1 0.01"
    training = next(line for line in write_report(run, make_plots=False).read_text().splitlines()
                    if "**Training:**" in line)
    assert re.search(r"optimizer sgd, clip 1, l1 0\.01 \(optimizer varied by the grid\)", training), training

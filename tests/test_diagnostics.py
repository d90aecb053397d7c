"""Diagnostics: dead units on a network built by hand, gradient ratios, warnings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from relu_lab import engines
from relu_lab.activations import ACTIVATIONS
from relu_lab.diagnostics import can_die, diagnose, diagnostic_names, warnings_for
from relu_lab.experiment import resolve
from relu_lab.loading import config_from_dict, load_config
from relu_lab.losses import LOSSES
from relu_lab.network import Act, Ensemble
from tests.logged import logged

ROOT = Path(__file__).resolve().parents[1]
relu = Act(ACTIVATIONS["relu"], {})
linear = Act(ACTIVATIONS["linear"], {})


def hand_net() -> Ensemble:
    """2-3-1 ReLU net, two members. On inputs >= 0:
    member 0: unit 0 fires (w=+1, +1), unit 1 never fires (w=-1, -1, b=-0.5), unit 2 fires only on x0 > 0.5
    member 1: all three units dead (every weight -1, bias -1)."""
    W0 = np.array([
        [[1.0, -1.0, 1.0], [1.0, -1.0, 0.0]],
        [[-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]],
    ])
    b0 = np.array([[[0.0, -0.5, -0.5]], [[-1.0, -1.0, -1.0]]])
    W1 = np.ones((2, 3, 1))
    b1 = np.zeros((2, 1, 1))
    return Ensemble([W0, W1], [b0, b1], [relu], linear)


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])
ENGINES = pytest.mark.parametrize("engine", list(engines.ENGINES))


def diagnosed(net: Ensemble, names: list[str], engine: str) -> dict:
    """The diagnostics of net on X, Y from the engine's pass over them."""
    return diagnose(net, engines.load(engine).evaluate_pass(net, X, Y, LOSSES["mse"], "mean", True), names)


@ENGINES
def test_dead_units_and_sparsity_on_a_hand_built_network(engine):
    net = hand_net()
    names = diagnostic_names(net.layers, set())
    d = diagnosed(net, names, engine)
    # member 0: unit 1 dead (1 of 3); unit 0 zero only at (0,0); unit 2 non-zero only at x0 = 1
    assert d["dead_L1"][0] == 1 / 3
    # zeros among the 12 outputs: unit 0 at (0,0) -> 1; unit 1 -> 4; unit 2 at x0 = 0 -> 2
    assert d["sparsity_L1"][0] == 7 / 12
    assert d["dead_L1"][1] == 1.0 and d["sparsity_L1"][1] == 1.0
    # a dead layer passes no gradient to the weights below it
    assert d["grad_L1"][1] == 0.0 and d["grad_L1"][0] > 0
    assert np.allclose(d["wnorm_L1"], np.sqrt(np.sum(net.W[0] ** 2, axis=(1, 2))))
    assert names == ["dead_L1", "sparsity_L1", "identical_L1", "act_mean_L1", "act_std_L1", "saturated_L1", "grad_L1",
                     "wnorm_L1", "grad_L2", "wnorm_L2"]
    assert np.all(d["identical_L1"] == [0.0, 1.0])  # member 1: three units of weights -1, bias -1
    # member 0's 12 outputs: unit 0 gives 0, 1, 1, 2; unit 1 zeros; unit 2 gives 0, 0, 0.5, 0.5
    outputs = np.array([0, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0.5, 0.5])
    assert d["act_mean_L1"][0] == pytest.approx(outputs.mean(), rel=1e-12)
    assert d["act_std_L1"][0] == pytest.approx(outputs.std(), rel=1e-12)
    assert d["saturated_L1"][0] == 7 / 12  # ReLU: f' = 0 where z <= 0, the same outputs as the zeros
    assert d["act_mean_L1"][1] == 0.0 and d["act_std_L1"][1] == 0.0 and d["saturated_L1"][1] == 1.0


@ENGINES
def test_saturation_is_a_share_of_outputs_where_the_slope_is_under_one_percent_of_its_peak(engine):
    """Glorot and Bengio's saturated sigmoid: outputs pinned near 1 pass almost no gradient. Sigmoid's f'
    peaks at 1/4, so an output is saturated where s(1 - s) < 0.0025: |z| > 5.99."""
    net = hand_net()
    net.set_hidden([Act(ACTIVATIONS["sigmoid"], {})])
    net.W[0][0] = [[0.0, 0.0, 7.0], [0.0, 0.0, 0.0]]  # member 0: unit 2's z = 7 x0 - 0.5 (saturated at x0 = 1)
    net.b[0][0] = [[0.0, 8.0, -0.5]]  # unit 0: z = 0 (f' at its peak); unit 1: z = 8 (saturated everywhere)
    d = diagnosed(net, diagnostic_names(net.layers, set()), engine)
    assert d["saturated_L1"][0] == 6 / 12  # unit 1's 4 outputs and unit 2's 2 at x0 = 1 (z = 6.5)
    a = 1 / (1 + np.exp(-np.array([0, 0, 0, 0, 8, 8, 8, 8, -0.5, -0.5, 6.5, 6.5])))
    assert d["act_mean_L1"][0] == pytest.approx(a.mean(), rel=1e-12)
    assert d["act_std_L1"][0] == pytest.approx(a.std(), rel=1e-10)
    assert d["dead_L1"][0] == 0.0  # nothing is dead: a sigmoid's slope is never exactly 0 here
    net.W[0][...] = np.nan  # not finite: no figure at all, not a number
    d = diagnosed(net, diagnostic_names(net.layers, set()), engine)
    assert np.isnan(d["act_mean_L1"]).all() and np.isnan(d["saturated_L1"]).all()


@ENGINES
def test_dead_means_no_gradient_whatever_the_activation(engine):
    # The same weights under leaky ReLU: member 1's units still have z <= 0 on every sample, but
    # each passes slope * gradient, so none is dead and the layer below still learns.
    net = hand_net()
    net.set_hidden([Act(ACTIVATIONS["leaky_relu"], {"slope": 0.1})])
    d = diagnosed(net, diagnostic_names(net.layers, set()), engine)
    assert np.all(d["dead_L1"] == 0.0) and d["grad_L1"][1] > 0
    # tanh saturated on every sample (|z| = 40: tanh is +-1 exactly, f' = 0 exactly) passes nothing
    net = hand_net()
    net.W[0][...] *= 40
    net.b[0][...] = np.array([[[40.0, -40.0, -40.0]], [[-40.0, -40.0, -40.0]]])
    net.set_hidden([Act(ACTIVATIONS["tanh"], {})])
    d = diagnosed(net, diagnostic_names(net.layers, set()), engine)
    # member 0: unit 2 gets z = 0 where x0 = 1 (tanh'(0) = 1), so it lives; units 0 and 1 are saturated
    assert d["dead_L1"][0] == 2 / 3 and d["dead_L1"][1] == 1.0 and d["grad_L1"][1] == 0.0


@ENGINES
def test_a_member_with_non_finite_values_has_no_dead_share(engine):
    net = hand_net()
    net.W[0][1, 0, 0] = np.nan  # member 1's first unit is NaN: its layer's dead share is unknown
    d = diagnosed(net, diagnostic_names(net.layers, set()), engine)
    assert d["dead_L1"][0] == 1 / 3 and d["sparsity_L1"][0] == 7 / 12  # member 0 unchanged
    assert np.isnan(d["dead_L1"][1]) and np.isnan(d["sparsity_L1"][1])


def test_warnings_use_the_last_known_dead_count_of_a_diverged_run():
    epochs = [0, 20, 40]
    metrics = [{"cost": np.array([1.0]), "dead_L1": np.array([d]), "grad_L1": np.array([g]),
                "grad_L2": np.array([1.0])} for d, g in ((0.0, 1.0), (0.5, 1.0), (np.nan, np.nan))]
    assert warnings_for(epochs, metrics, [2, 20, 1]) == [
        "layer 1: 10 of 20 units dead since epoch 20 (last known at epoch 20, before the run diverged)"]


@ENGINES
def test_gradient_norm_matches_backprop(engine):
    net = hand_net()
    _, grads, _ = net.gradients(X, Y, LOSSES["mse"], "mean")
    d = diagnosed(net, ["grad_L1", "grad_L2"], engine)
    assert np.allclose(d["grad_L1"], np.linalg.norm(grads[0].reshape(2, -1), axis=1))
    assert np.allclose(d["grad_L2"], np.linalg.norm(grads[2].reshape(2, -1), axis=1))


def test_only_relu_like_activations_can_die():
    assert can_die(ACTIVATIONS["relu"])
    assert not any(can_die(ACTIVATIONS[n]) for n in ("leaky_relu", "prelu", "elu", "sigmoid", "tanh", "softplus"))


def test_warnings_name_the_layer_the_count_and_the_epoch():
    layers = [2, 20, 1]
    epochs = [0, 20, 40, 60]
    dead = [0.0, 0.1, 0.85, 0.85]
    metrics = [{"cost": np.array([1.0]), "dead_L1": np.array([d]), "grad_L1": np.array([1.0]),
                "grad_L2": np.array([1.0])} for d in dead]
    assert warnings_for(epochs, metrics, layers) == ["layer 1: 17 of 20 units dead since epoch 40"]
    alive = [m | {"dead_L1": np.array([0.0])} for m in metrics]  # e.g. a leaky layer: never dead
    assert warnings_for(epochs, alive, layers) == []
    twins = [m | {"identical_L1": np.array([0.0 if i < 3 else 1.0])} for i, m in enumerate(alive)]
    assert warnings_for(epochs, twins, layers) == [
        "layer 1: all 20 units are identical (one function; the symmetry of equal initial weights was never broken)"]


def test_deep_sigmoid_gradient_vanishes_towards_the_input_and_relu_does_not():
    ratios = {}
    for act in ("sigmoid", "relu"):
        cfg = load_config(ROOT / "configs" / "seed003_deep_xor_relu.yaml",
                          [f"model.hidden={act}", "train.epochs=200", "log_every=50"])
        cfg, data = resolve(cfg)
        first = logged([cfg], data)[1][0].metrics
        ratios[act] = first["grad_L1"][0] / first["grad_L11"][0]
    assert ratios["sigmoid"] < 1e-4  # orders of magnitude below the last layer
    assert ratios["relu"] > 1e-2


def test_prelu_slope_is_logged_and_learned():
    cfg, data = resolve(config_from_dict({
        "data": {"name": "xor"}, "model": {"layers": [2, 6, 1], "hidden": "prelu"},
        "train": {"lr": 0.5, "epochs": 40, "order": "sequential"}, "log_every": 20}))
    slopes = [row.metrics["slope_L1"][0] for row in logged([cfg], data)[1]]
    assert slopes[0] == 0.25 and slopes[-1] != 0.25


def test_a_config_resolved_twice_warns_once():
    cfg = config_from_dict({"data": {"name": "xor"}, "model": {"layers": [2, 4, 1], "init": "zeros"}})
    once = resolve(cfg)
    twice = resolve(once.config)
    assert len(once.warnings) == 1 and twice.warnings == once.warnings

"""The compiled engine's two kernels, the members as the lanes (block_epochs) and a member at a time
with its products over the batch by BLAS (member_epochs), agree to rounding for every activation, loss,
batching and update setting; which one runs depends on the batch alone (compiled.samples_as_lanes),
so a config always trains on the same one whatever the members or threads."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from relu_lab.activations import ACTIVATIONS
from relu_lab.engines import Plan, compiled
from relu_lab.losses import LOSSES
from relu_lab.trainer import _orders
from tests.test_engines import clone, targets_for
from tests.test_network import LOSS_OUTPUTS, act, make_data, make_net

HIDDEN = [a.name for a in ACTIVATIONS.values() if a.elementwise and a.df is not None]


def train(net, X, Y, plan: Plan, by_samples: bool, monkeypatch, order: str = "shuffle"):
    monkeypatch.setattr(compiled, "samples_as_lanes", lambda batch: by_samples)
    net = clone(net)
    K = net.K
    rngs = [np.random.default_rng(7 + k) for k in range(K)]
    # rates where rounding differences stay rounding (at 0.06, one online member amplifies them to 1e-7)
    lr, alive = np.full(K, 0.02) * (1 + np.arange(K) / 10), np.ones(K, dtype=bool)
    dead_at = []
    with np.errstate(all="ignore"):
        for _ in range(3):  # several calls, as between log points
            dead_at.append(compiled.steps(net, X, Y, plan, _orders(order, rngs, len(X), 4), 4, lr, alive))
    return net, lr, alive, dead_at


def agree(a, b) -> None:
    """The same members frozen at the same epochs, the same rates, and the others' weights to rounding."""
    (net_a, lr_a, alive_a, dead_a), (net_b, lr_b, alive_b, dead_b) = a, b
    np.testing.assert_array_equal(alive_a, alive_b)
    for x, y in zip(dead_a, dead_b):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(lr_a, lr_b)
    np.testing.assert_allclose(net_a.flat[alive_a], net_b.flat[alive_b], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("batch", [1, 3, 9])  # online, minibatches with a short last one, the full batch
@pytest.mark.parametrize("loss_name,output", LOSS_OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_both_kernels_agree(hidden, loss_name, output, batch, monkeypatch):
    layers = [3, 5, 4, 3 if loss_name == "cross_entropy" else 2]
    net = make_net(layers, [act(hidden), act("prelu" if hidden != "prelu" else "tanh")], act(output), K=3)
    X, Y = make_data("shared", 3, 9, layers[0], layers[-1], seed=3)
    Y = targets_for(loss_name, Y)
    plan = Plan(LOSSES[loss_name], "mean", batch, np.full(3, 0.999), None, 0.0)
    agree(train(net, X, Y, plan, False, monkeypatch), train(net, X, Y, plan, True, monkeypatch))


@pytest.mark.parametrize("extras", [{"clip": 0.05}, {"weight_decay": 0.01}, {"clip": 0.5, "weight_decay": 0.1}])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_both_kernels_agree_with_clipping_decay_and_sums(extras, reduction, monkeypatch):
    net = make_net([2, 6, 6, 1], [act("relu"), act("tanh")], act("sigmoid"), K=4)
    X, Y = make_data("shared", 4, 10, 2, 1, seed=5)
    counts = []
    results = []
    for by_samples in (False, True):
        clipped = np.zeros(4, dtype=np.int64)
        plan = Plan(LOSSES["bce"], reduction, 4, np.full(4, 1.0), extras.get("clip"), extras.get("weight_decay", 0.0),
                    clipped)
        results.append(train(net, X, Y, plan, by_samples, monkeypatch, order="random"))
        counts.append(clipped)
    agree(*results)
    np.testing.assert_array_equal(*counts)
    if "clip" in extras and extras["clip"] < 0.1:
        assert counts[0].sum() > 0  # the clip did scale steps down


def test_both_kernels_freeze_a_diverging_member_at_the_same_epoch(monkeypatch):
    net = make_net([2, 8, 1], [act("relu")], act("linear"), K=3)
    net.flat[1] *= 30.0  # member 1 starts far too large and blows up
    X, Y = make_data("shared", 3, 12, 2, 1, seed=9)
    plan = Plan(LOSSES["mse"], "mean", 12, np.full(3, 1.0), None, 0.0)
    a = train(net, X * 50, Y, plan, False, monkeypatch, order="sequential")
    b = train(net, X * 50, Y, plan, True, monkeypatch, order="sequential")
    assert not a[2].all()  # someone diverged
    agree(a, b)


def test_the_batch_alone_chooses_the_kernel():
    assert not compiled.samples_as_lanes(1) and not compiled.samples_as_lanes(4)  # online SGD, the XOR table
    assert compiled.samples_as_lanes(8) and compiled.samples_as_lanes(32) and compiled.samples_as_lanes(400)
    assert list(inspect.signature(compiled.samples_as_lanes).parameters) == ["batch"]  # nothing else


# --- the compiled forms of NumPy's tanh and exp (scalar.py) ------------------------------------

ULP = np.finfo(float).eps


def _on_array(fn):
    from numba import njit

    @njit(error_model="numpy")
    def each(x, out):
        for i in range(x.size):
            out[i] = fn(x[i])

    def call(x):
        out = np.empty_like(x)
        each(x, out)
        return out
    return call


def _probe_points(lo: float, hi: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    edges = [0.625, 22.0, 1e-300, 1e-8, 0.5, 1.0, 19.0]
    x = np.concatenate([np.linspace(lo, hi, 200_001), rng.normal(0, 3, 100_000), edges, np.negative(edges),
                        np.nextafter(0.625, [0.0, 1.0]), np.nextafter(-0.625, [0.0, -1.0])])
    return x[(x >= lo) & (x <= hi)]


def test_compiled_tanh_is_within_2_ulp_of_numpys():
    from relu_lab.engines.scalar import tanh_float
    x = _probe_points(-40.0, 40.0)
    got, want = _on_array(tanh_float)(x), np.tanh(x)
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), np.finfo(float).tiny)) <= 2 * ULP
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300])
    got = _on_array(tanh_float)(special)
    np.testing.assert_array_equal(got, np.tanh(special))  # NaN in the same place, +-1 at the ends
    assert np.signbit(got[1]) and not np.signbit(got[0])  # tanh(-0) = -0


def test_compiled_exp_is_within_2_ulp_of_numpys():
    from relu_lab.engines.scalar import exp_float
    x = _probe_points(-708.0, 709.0)
    got, want = _on_array(exp_float)(x), np.exp(x)
    assert np.max(np.abs(got - want) / want) <= 2 * ULP

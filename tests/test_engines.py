"""The two engines against each other and against finite differences.

The NumPy engine is the reference; the compiled one must compute the same thing (to ~1e-12 over
short runs: only the order of floating-point sums differs), whatever the activation, loss,
batching, order or schedule, and bit for bit the same whatever the threads or blocks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from relu_lab.activations import HIDDEN_ACTIVATIONS
from relu_lab.datasets import Dataset
from relu_lab.diagnostics import diagnostic_names
from relu_lab.engines import Plan, compiled, numpy_engine
from relu_lab.experiment import resolve
from relu_lab.loading import config_from_dict, load_config
from relu_lab.losses import LOSSES
from relu_lab.network import Ensemble
from relu_lab.trainer import _orders, evaluate
from tests.logged import fit_configs, logged
from tests.test_network import LOSS_OUTPUTS, act, make_data, make_net, numerical_gradients

ENGINES = {"numpy": numpy_engine, "compiled": compiled}


def targets_for(loss_name: str, Y: np.ndarray) -> np.ndarray:
    """Valid targets: one-hot rows for cross-entropy, values in [0, 1] otherwise."""
    if loss_name == "cross_entropy":
        return np.eye(Y.shape[-1])[Y.argmax(-1)]
    return Y


def clone(net: Ensemble) -> Ensemble:
    """An independent copy (deepcopy would cut W, b and the slopes loose from the flat buffer they view)."""
    return Ensemble.from_state({k: v.copy() for k, v in net.state().items()}, net.hidden, net.output)


def train(engine: str, net, X, Y, plan: Plan, epochs: int, order: str = "shuffle", lr: float = 0.05):
    """`epochs` epochs on a copy of `net` by `engine`; the copy, lr and alive afterwards."""
    net = clone(net)
    K = net.K
    rngs = [np.random.default_rng(100 + k) for k in range(K)]
    lr_arr, alive = np.full(K, lr) * (1 + np.arange(K) / 10), np.ones(K, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(epochs // 10):  # several calls, as between log points
            ENGINES[engine].steps(net, X, Y, plan, _orders(order, rngs, len(X), 10), 10, lr_arr, alive)
    return net, lr_arr, alive


BATCHES = {"online": 1, "minibatch": 3, "full": 8}


@pytest.mark.parametrize("batching", list(BATCHES))
@pytest.mark.parametrize("loss_name,output", LOSS_OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_engines_agree_over_50_epochs(hidden, loss_name, output, batching):
    layers = [3, 5, 4, 3]
    net = make_net(layers, [act(hidden), act(hidden)], act(output), K=3)
    X, Y = make_data("shared", 3, 8, layers[0], layers[-1])
    Y = targets_for(loss_name, Y)
    plan = Plan(LOSSES[loss_name], "mean", BATCHES[batching], np.full(3, 0.99), None, 0.0)
    ref, lr_ref, _ = train("numpy", net, X, Y, plan, 50, lr=0.01)
    got, lr_got, _ = train("compiled", net, X, Y, plan, 50, lr=0.01)
    assert np.isfinite(ref.flat).all()
    assert np.abs(got.flat - net.flat).max() > 1e-3, "training moved nothing: the comparison would be vacuous"
    np.testing.assert_allclose(got.flat, ref.flat, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(lr_got, lr_ref)


@pytest.mark.parametrize("order", ["sequential", "random"])
@pytest.mark.parametrize("extras", [dict(clip=0.05), dict(weight_decay=0.01), dict(clip=0.5, weight_decay=0.1)])
def test_engines_agree_with_clipping_weight_decay_and_sum(extras, order):
    layers = [3, 5, 4, 1]
    net = make_net(layers, [act("prelu"), act("elu", alpha=0.5)], act("tanh"), K=4)
    X, Y = make_data("shared", 4, 8, layers[0], layers[-1])
    plan = Plan(LOSSES["half_mse"], "sum", 2, np.full(4, 1.0), extras.get("clip"), extras.get("weight_decay", 0.0))
    ref, _, _ = train("numpy", net, X, Y, plan, 50, order)
    got, _, _ = train("compiled", net, X, Y, plan, 50, order)
    np.testing.assert_allclose(got.flat, ref.flat, rtol=1e-9, atol=1e-9)


MIXED = [
    [act("tanh"), act("relu"), act("prelu")],
    [act("prelu"), act("leaky_relu", slope=0.1), act("prelu", slope=0.1)],
    [act("elu", alpha=0.5), act("gelu"), act("silu")],
    [act("selu"), act("softplus"), act("linear")],
]


@pytest.mark.parametrize("loss_name,output", [("mse", "linear"), ("bce", "sigmoid"), ("cross_entropy", "softmax")])
@pytest.mark.parametrize("hidden", MIXED, ids=lambda h: "-".join(a.name for a in h))
def test_engines_agree_with_mixed_hidden_activations(hidden, loss_name, output):
    layers = [3, 5, 4, 4, 3 if loss_name == "cross_entropy" else 1]
    net = make_net(layers, hidden, act(output), K=3)
    X, Y = make_data("shared", 3, 8, layers[0], layers[-1], seed=11)
    plan = Plan(LOSSES[loss_name], "mean", 1, np.full(3, 1.0), None, 0.0)
    ref, _, _ = train("numpy", net, X, Y, plan, 50, lr=0.02)
    got, _, _ = train("compiled", net, X, Y, plan, 50, lr=0.02)
    np.testing.assert_allclose(got.flat, ref.flat, rtol=1e-9, atol=1e-9)


# --- the compiled gradient against central differences -------------------------


def compiled_gradient(net, X, Y, loss_name: str, reduction: str) -> list[np.ndarray]:
    """The gradient the compiled kernel applies: one full-batch step with lr 1 moves the parameters by -g."""
    plan = Plan(LOSSES[loss_name], reduction, len(X), np.ones(net.K), None, 0.0)
    after = clone(net)
    compiled.steps(after, X, Y, plan, None, 1, np.ones(net.K), np.ones(net.K, dtype=bool))
    return net._views(net.flat - after.flat, net._shapes)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss_name,output", LOSS_OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_compiled_gradients_match_finite_differences(hidden, loss_name, output, reduction):
    layers = [3, 5, 4, 3]
    net = make_net(layers, [act(hidden), act(hidden)], act(output))
    X, Y = make_data("shared", net.K, 6, layers[0], layers[-1])
    zs, _ = net.forward(X)
    for z in zs[:-1]:
        assert np.abs(z).min() > 1e-4, "evaluation point on a kink: pick another seed"
    fd = numerical_gradients(net, X, Y, LOSSES[loss_name], reduction)
    for i, (g, f) in enumerate(zip(compiled_gradient(net, X, Y, loss_name, reduction), fd)):
        np.testing.assert_allclose(g, f, rtol=1e-5, atol=1e-7, err_msg=f"gradient {i} of {net}")


def test_compiled_gradient_check_catches_a_wrong_kernel(monkeypatch):
    """The check above is not vacuous: a kernel whose hidden derivative is off by a factor fails it."""
    net = make_net([3, 5, 1], [act("tanh")], act("linear"))
    X, Y = make_data("shared", net.K, 6, 3, 1)
    fd = numerical_gradients(net, X, Y, LOSSES["mse"], "mean")
    bad = clone(net)
    bad.set_hidden([act("silu")])  # the kernel is told the wrong activation: its chain rule goes wrong
    g = compiled_gradient(bad, X, Y, "mse", "mean")
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(g[0], fd[0], rtol=1e-5, atol=1e-7)


# --- whole runs: phases, schedules, divergence, threads and blocks --------------


def config(**over) -> dict:
    base = {
        "name": "t", "data": {"name": "circle", "n": 40, "test_n": 20},
        "model": {"layers": [2, 6, 5, 1], "hidden": "leaky_relu", "output": "sigmoid",
                  "activation_params": {"leaky_relu": {"slope": 0.1}}, "init": "uniform", "init_scale": 1.0},
        "loss": "half_mse",
        "train": {"phases": [
            {"epochs": 12, "lr": 0.2, "order": "random", "batch_size": 1},
            {"epochs": 18, "lr_decay": 0.97, "order": "shuffle", "batch_size": 7, "hidden": "relu"},
            {"epochs": 10, "order": "sequential", "hidden": ["prelu", "elu"]},
        ], "clip": 5.0, "weight_decay": 0.001},
        "log_every": 7,
        "success": {"metric": "test_accuracy", "at_least": 0.8},
    }
    return base | over


def fit_with(engine: str, seeds=range(5), lrs=(0.05, 0.2, 0.4), **over):
    cfg, data = resolve(config_from_dict(config(engine=engine, **over)))
    members = []
    for s in seeds:
        for lr in lrs:
            train = {"lr": lr}
            if cfg.train.phases:
                train["phases"] = [cfg.train.phases[0].model_copy(update={"lr": lr}), *cfg.train.phases[1:]]
            members.append(cfg.model_copy(update={"seed": s, "train": cfg.train.model_copy(update=train)}))
    result, rows = logged(members, data)
    result.rows = rows  # the test's own attribute: the rows the trainer handed over
    return result


def test_whole_runs_agree_across_phases_schedules_and_orders():
    ref, got = fit_with("numpy"), fit_with("compiled")
    assert got.engine == "compiled" and ref.engine == "numpy"
    assert [r.epoch for r in got.rows] == [r.epoch for r in ref.rows]
    for a, b in zip(got.rows, ref.rows):
        assert a.step == b.step
        np.testing.assert_allclose(a.lr, b.lr, rtol=1e-12)
        for key in b.metrics:
            np.testing.assert_allclose(a.metrics[key], b.metrics[key], rtol=1e-8, atol=1e-10, err_msg=key)
    np.testing.assert_allclose(got.net.flat, ref.net.flat, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(got.success_epoch, ref.success_epoch)


def test_divergence_is_caught_at_the_same_epoch_and_only_that_member_frozen():
    over = {"train": {"lr": 1.0, "epochs": 30, "batch_size": 1}, "loss": "mse", "model": {
        "layers": [2, 8, 1], "hidden": "relu", "output": "linear", "init": "uniform", "init_scale": 3.0}}
    ref = fit_with("numpy", seeds=range(3), lrs=(0.01, 5.0, 50.0), success=None, **over)
    got = fit_with("compiled", seeds=range(3), lrs=(0.01, 5.0, 50.0), success=None, **over)
    assert (ref.diverged_epoch >= 0).any() and (ref.diverged_epoch < 0).any()
    np.testing.assert_array_equal(got.diverged_epoch, ref.diverged_epoch)
    assert got.status == ref.status
    ok = ref.diverged_epoch < 0
    np.testing.assert_allclose(got.net.flat[ok], ref.net.flat[ok], rtol=1e-9, atol=1e-9)


def test_compiled_results_do_not_depend_on_threads_or_blocks(monkeypatch):
    monkeypatch.setattr(compiled, "threads", lambda: 1)
    one = fit_with("compiled")
    monkeypatch.setattr(compiled, "threads", lambda: 2)
    monkeypatch.setattr(compiled, "BLOCK", 4)  # 15 members in blocks of 4, 4, 4, 3 on two threads
    two = fit_with("compiled")
    np.testing.assert_array_equal(one.net.flat, two.net.flat)
    for a, b in zip(one.rows, two.rows):
        for key in a.metrics:
            np.testing.assert_array_equal(a.metrics[key], b.metrics[key])


def test_a_member_trains_the_same_alone_and_in_an_ensemble():
    together = fit_with("compiled")
    alone = fit_with("compiled", seeds=[3], lrs=[0.2])
    np.testing.assert_array_equal(alone.net.flat[0], together.net.flat[3 * 3 + 1])


# --- the shipped seed configs: the same outcomes over 64 seeds on both engines ---

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
# Shortened where the full run would take the NumPy engine minutes; the circle's 0.95 needs the full
# length, so its shortened run is judged at 0.9.
SHORTER = {
    "seed002_table4_linear.yaml": ["train.epochs=1500"],
    "seed002_table4_relu.yaml": ["train.epochs=1500"],
    "seed003_deep_xor_relu.yaml": ["train.epochs=1500"],
    "seed003_deep_xor_sigmoid.yaml": ["train.epochs=1500"],
    "seed004_circle.yaml": ["train.phases.0.epochs=20", "train.phases.1.epochs=30", "success.at_least=0.9"],
    "seed004_interpolation.yaml": ["train.phases.1.epochs=120"],
}


def successes(path: Path, engine: str, seeds: int = 64) -> np.ndarray:
    cfg, data = resolve(load_config(path, [f"engine={engine}", "diagnostics=false", *SHORTER.get(path.name, [])]))
    result = fit_configs([cfg.model_copy(update={"seed": s}) for s in range(seeds)], data)
    final = result.final[cfg.success.metric]
    return cfg.success.met(final) & (result.diverged_epoch < 0)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_configs_succeed_as_often_on_both_engines(path):
    ref, got = successes(path, "numpy"), successes(path, "compiled")
    n = len(ref)
    p = (ref.sum() + got.sum()) / (2 * n)
    noise = 3 * np.sqrt(2 * n * p * (1 - p))  # 3 sigma of the difference of two binomial counts
    assert abs(int(ref.sum()) - int(got.sum())) <= max(1.0, noise), (ref.sum(), got.sum())
    # same seeds, same arithmetic up to the order of sums: almost every member ends the same way
    assert (ref == got).mean() >= 0.9, f"{(ref != got).sum()} of {n} members end differently"


# --- an interrupted fit resumes bit for bit -----------------------------------


def interrupt_at(epoch: int):
    """A log callback that presses Ctrl-C (a real SIGINT) when the run logs `epoch`."""
    import signal

    def callback(row):
        if row.epoch == epoch:
            signal.raise_signal(signal.SIGINT)

    return callback


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
@pytest.mark.parametrize("stop", [7, 14, 21, 35])  # in each phase, and at a phase's first log
def test_an_interrupted_fit_resumes_bit_for_bit(engine, stop):
    cfg, data = resolve(config_from_dict(config(engine=engine)))
    members = [cfg.model_copy(update={"seed": s}) for s in range(4)]
    full, full_rows = logged(members, data)
    part, part_rows = logged(members, data, callback=interrupt_at(stop))
    assert part.status == ["interrupted"] * 4 and part.checkpoint is not None
    assert part.checkpoint.epoch == stop and part.checkpoint.tally.last_epoch == stop
    assert part_rows[-1].epoch == stop and part.checkpoint.tally.rows == len(part_rows)
    rest, rest_rows = logged(members, data, resume=part.checkpoint)
    assert rest.status == full.status
    np.testing.assert_array_equal(rest.net.flat, full.net.flat)
    assert [r.epoch for r in part_rows + rest_rows] == [r.epoch for r in full_rows]  # nothing logged twice
    for a, b in zip(part_rows + rest_rows, full_rows):
        for key in b.metrics:
            np.testing.assert_array_equal(a.metrics[key], b.metrics[key])
    np.testing.assert_array_equal(rest.success_epoch, full.success_epoch)


# --- the log points: both engines' passes over a whole set --------------------------------------


def _evaluate(engine: str, net, X, Y, X_test, Y_test, loss_name: str, task: str, reduction: str) -> dict:
    names = diagnostic_names(net.layers, {l + 1 for l in net.learned}, True)
    with np.errstate(all="ignore"):
        return evaluate(net, Dataset("test", task, X, Y, X_test, Y_test), LOSSES[loss_name], reduction, names,
                        ENGINES[engine])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss_name,output", LOSS_OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_engines_evaluate_alike(hidden, loss_name, output, reduction):
    """Cost, accuracy, the test set and every diagnostic, on a set longer than one compiled pass holds
    (compiled.EVAL_LANES), with a member that has dead units and one that is not finite."""
    layers = [3, 6, 5, 3]
    net = make_net(layers, [act(hidden), act("relu")], act(output), K=4)
    net.b[1][1, 0, :3] = -50.0  # member 1: three units of the second layer dead (relu) on every sample
    net.W[0][3, 0, 0] = np.nan  # member 3: not finite from the first layer on
    X, Y = make_data("shared", 4, compiled.EVAL_LANES + 45, 3, 3, seed=4)
    Xt, Yt = make_data("shared", 4, 17, 3, 3, seed=5)
    Y, Yt = targets_for(loss_name, Y), targets_for(loss_name, Yt)
    task = "multiclass" if loss_name == "cross_entropy" else "binary"
    ref = _evaluate("numpy", net, X, Y, Xt, Yt, loss_name, task, reduction)
    got = _evaluate("compiled", net, X, Y, Xt, Yt, loss_name, task, reduction)
    assert list(got) == list(ref)
    assert ref["dead_L2"][1] >= 3 / 5 and np.isnan(ref["dead_L1"][3])  # the two odd members are what they claim
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-11, atol=1e-13, err_msg=key)

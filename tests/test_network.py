"""The ensemble network: backpropagation against finite differences, one SGD step by hand, member
independence and the weight initialisers.
"""

from __future__ import annotations

import numpy as np
import pytest

from relu_lab.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, get_activation
from relu_lab.engines import Plan
from relu_lab.engines.numpy_engine import update
from relu_lab.initializers import INITIALIZERS
from relu_lab.losses import LOSSES, output_fits
from relu_lab.network import Act, Ensemble

EPS = 1e-6
MSE = LOSSES["mse"]
# Every loss with fitting outputs: its own (bce -> sigmoid, cross_entropy -> softmax), else linear and tanh.
LOSS_OUTPUTS = [(name, out) for name, loss in LOSSES.items() for out in (loss.outputs or ("linear", "tanh"))]


def act(name: str, **params) -> Act:
    if ":" in name:
        return Act(get_activation(name, df=name.replace(":", ":d")), {})
    fn = ACTIVATIONS[name]
    return Act(fn, {**fn.params, **params})


def make_net(layers, hidden: list[Act], output: Act, K: int = 2) -> Ensemble:
    rngs = [np.random.default_rng(i) for i in range(K)]
    net = Ensemble.create(layers, rngs, hidden, output, "he", 1.0, "like_weights")
    # learned slopes differ per member and unit, so a mix-up of their axes shows
    prng = np.random.default_rng(100)
    for v in net.learned.values():
        v[...] = prng.uniform(0.05, 0.5, size=v.shape)
    return net


def make_data(x_mode: str, K: int, n: int, n_in: int, n_out: int, seed: int = 10):
    """Shared X (n, in) with shared Y (n, out), or a batch per member: X (K, n, in), Y (K, n, out)."""
    rng = np.random.default_rng(seed)
    lead = () if x_mode == "shared" else (K,)
    X = rng.normal(0.0, 1.0, size=lead + (n, n_in))
    Y = rng.uniform(0.0, 1.0, size=lead + (n, n_out))  # valid targets for every loss
    return X, Y


def numerical_gradients(net: Ensemble, X, Y, loss, reduction) -> list[np.ndarray]:
    """Central differences of the summed member costs over every entry of every parameter array.

    Summing over members also catches a parameter of one member leaking into another's cost.
    """
    out = []
    for p in net.parameters():  # the live arrays: perturbing them in place changes the net
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + EPS
            up = net.cost(X, Y, loss, reduction).sum()
            p[idx] = old - EPS
            down = net.cost(X, Y, loss, reduction).sum()
            p[idx] = old
            g[idx] = (up - down) / (2 * EPS)
        out.append(g)
    return out


def assert_gradients_match(net: Ensemble, X, Y, loss, reduction):
    costs, grads, zs = net.gradients(X, Y, loss, reduction)
    np.testing.assert_allclose(costs, net.cost(X, Y, loss, reduction), rtol=1e-12)
    params = net.parameters()
    assert len(params) == 2 * len(net.W) + sum(1 for h in net.hidden if h.fn.learned)
    assert len(grads) == len(params)
    # The fixed seeds keep every hidden pre-activation well away from relu-like kinks at 0; if a change of
    # sizes or seeds ever puts one there, fail here rather than flakily below.
    for z in zs[:-1]:
        assert np.abs(z).min() > 1e-4, "evaluation point on a kink: pick another seed"
    fd = numerical_gradients(net, X, Y, loss, reduction)
    for i, (g, f, p) in enumerate(zip(grads, fd, params)):
        assert g.shape == p.shape, f"gradient {i}: shape {g.shape}, parameter {p.shape}"
        np.testing.assert_allclose(g, f, rtol=1e-5, atol=1e-7, err_msg=f"gradient {i} of {net}")


@pytest.mark.parametrize("x_mode", ["shared", "per_member"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss_name,output", LOSS_OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_gradients_match_finite_differences(hidden, loss_name, output, reduction, x_mode):
    loss, out = LOSSES[loss_name], act(output)
    assert output_fits(loss, out.fn)
    layers = [3, 5, 4, 3]  # two hidden layers: backprop through a hidden-to-hidden layer too
    net = make_net(layers, [act(hidden), act(hidden)], out)
    X, Y = make_data(x_mode, net.K, 6, layers[0], layers[-1])
    assert_gradients_match(net, X, Y, loss, reduction)


MIXED = [
    [act("tanh"), act("relu"), act("prelu")],
    [act("prelu"), act("leaky_relu", slope=0.1), act("prelu", slope=0.1)],
    [act("elu", alpha=0.5), act("gelu"), act("silu")],
    [act("tests.custom_act:swish"), act("prelu"), act("sigmoid")],
]


@pytest.mark.parametrize("x_mode", ["shared", "per_member"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss_name,output", [("mse", "linear"), ("bce", "sigmoid"), ("cross_entropy", "softmax")])
@pytest.mark.parametrize("hidden", MIXED, ids=lambda h: "-".join(a.name.split(":")[-1] for a in h))
def test_gradients_mixed_hidden_activations(hidden, loss_name, output, reduction, x_mode):
    layers = [3, 5, 4, 4, 3]
    net = make_net(layers, hidden, act(output))
    X, Y = make_data(x_mode, net.K, 6, layers[0], layers[-1], seed=11)
    assert_gradients_match(net, X, Y, LOSSES[loss_name], reduction)


def test_gradient_check_catches_a_wrong_derivative():
    """The whole-network check is not vacuous: a hidden activation with a wrong df fails it."""
    wrong = Act(get_activation("tests.custom_act:swish", df="tests.custom_act:dswish_wrong"), {})
    layers = [3, 5, 3]
    net = make_net(layers, [wrong], act("linear"))
    X, Y = make_data("shared", net.K, 6, layers[0], layers[-1])
    with pytest.raises(AssertionError):
        assert_gradients_match(net, X, Y, MSE, "mean")


def test_prelu_starts_at_configured_slope():
    net = Ensemble.create([2, 3, 1], [np.random.default_rng(0)], [act("prelu", slope=0.1)], act("linear"))
    assert list(net.learned) == [0]
    assert net.learned[0].shape == (1, 1, 3)
    np.testing.assert_array_equal(net.learned[0], 0.1)
    assert net.parameters()[-1] is net.learned[0]


# --- members are independent --------------------------------------------------


@pytest.mark.parametrize("x_mode", ["shared", "per_member"])
def test_member_gradients_equal_a_single_member_ensemble(x_mode):
    layers = [3, 5, 4, 2]
    hidden, output = [act("prelu"), act("tanh")], act("sigmoid")
    net3 = make_net(layers, hidden, output, K=3)
    X, Y = make_data(x_mode, 3, 7, layers[0], layers[-1])
    costs3, grads3, _ = net3.gradients(X, Y, LOSSES["bce"], "mean")

    net1 = Ensemble([w[1:2].copy() for w in net3.W], [b[1:2].copy() for b in net3.b], hidden, output)
    for l, v in net3.learned.items():
        net1.learned[l][...] = v[1:2]
    X1, Y1 = (X, Y) if x_mode == "shared" else (X[1:2], Y[1:2])
    costs1, grads1, _ = net1.gradients(X1, Y1, LOSSES["bce"], "mean")

    assert costs1.shape == (1,)
    np.testing.assert_allclose(costs1[0], costs3[1], rtol=1e-12)
    assert len(grads1) == len(grads3)
    for g1, g3 in zip(grads1, grads3):
        assert g1.shape == g3[1:2].shape
        np.testing.assert_allclose(g1, g3[1:2], rtol=1e-12, atol=1e-15)


def test_changing_other_members_leaves_member_gradients_unchanged():
    layers = [3, 5, 4, 2]
    net = make_net(layers, [act("prelu"), act("relu")], act("linear"), K=3)
    X, Y = make_data("shared", 3, 7, layers[0], layers[-1])
    _, before, _ = net.gradients(X, Y, MSE, "sum")
    for p in net.parameters():
        p[[0, 2]] = 3.0 * p[[0, 2]] + 0.5
    _, after, _ = net.gradients(X, Y, MSE, "sum")
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a[1], b[1])
        assert not np.allclose(a[[0, 2]], b[[0, 2]])


# --- one SGD step by hand ------------------------------------------------------


def tiny(W0, b0, W1, b1, hidden="linear") -> Ensemble:
    """A 1-1-1 (or wider) net from nested lists of shape (K, in, out) / (K, 1, out)."""
    W = [np.array(W0, dtype=float), np.array(W1, dtype=float)]
    b = [np.array(b0, dtype=float), np.array(b1, dtype=float)]
    return Ensemble(W, b, [act(hidden)], act("linear"))


X_AB, Y_AB = np.array([[1.0], [2.0]]), np.array([[1.0], [0.0]])


def sgd_step(net: Ensemble, X, Y, loss, reduction, lr, clip=None, wd=0.0) -> None:
    """One SGD update (numpy_engine.update) on (X, Y), called the way the engine calls it, with one learning
    rate per member."""
    lr = np.asarray(lr, dtype=float).reshape(net.K, 1)
    zs, as_ = net.forward(X)
    update(net, net.backward(zs, as_, Y, loss, reduction), lr, Plan(loss, reduction, len(X), np.ones(net.K), clip, wd))


def test_sgd_step_by_hand_linear_mean():
    # 1-1-1, linear hidden and output, mse, mean over n = 2 samples; W0 = 0.5, b0 = 0, W1 = 2, b1 = 1.
    #   x = 1: a1 = 0.5, out = 2*0.5 + 1 = 2, y = 1, dL/dz2 = 2*(2 - 1) = 2
    #   x = 2: a1 = 1.0, out = 2*1.0 + 1 = 3, y = 0, dL/dz2 = 2*(3 - 0) = 6
    #   mean: delta2 = [1, 3];  dW1 = 0.5*1 + 1*3 = 3.5;  db1 = 1 + 3 = 4
    #   delta1 = delta2 * W1 = [2, 6];  dW0 = 1*2 + 2*6 = 14;  db0 = 2 + 6 = 8
    #   cost = mean(1^2, 3^2) = 5
    # lr = 0.1: W0 = 0.5 - 1.4 = -0.9, b0 = -0.8, W1 = 2 - 0.35 = 1.65, b1 = 1 - 0.4 = 0.6
    net = tiny([[[0.5]]], [[[0.0]]], [[[2.0]]], [[[1.0]]])
    costs, grads, _ = net.gradients(X_AB, Y_AB, MSE, "mean")
    np.testing.assert_allclose(costs, [5.0])
    np.testing.assert_allclose([g.item() for g in grads], [14.0, 8.0, 3.5, 4.0])
    sgd_step(net, X_AB, Y_AB, MSE, "mean", [0.1])
    np.testing.assert_allclose(net.W[0], [[[-0.9]]])
    np.testing.assert_allclose(net.b[0], [[[-0.8]]])
    np.testing.assert_allclose(net.W[1], [[[1.65]]])
    np.testing.assert_allclose(net.b[1], [[[0.6]]])


def test_sgd_step_by_hand_relu_sum():
    # 2-2-1, relu hidden, linear output, mse, sum, one sample x = [1, 2], y = 1.
    #   W0 = [[1, -1], [0.5, -1]], b0 = [0.5, 0]: z1 = [1 + 1 + 0.5, -1 - 2 + 0] = [2.5, -3], a1 = [2.5, 0]
    #   W1 = [[1], [3]], b1 = -0.5: out = 2.5 + 0 - 0.5 = 2, dL/dz2 = 2*(2 - 1) = 2
    #   dW1 = a1^T * 2 = [[5], [0]];  db1 = 2
    #   dC/da1 = 2 * W1^T = [2, 6];  delta1 = [2, 6] * relu'(z1) = [2, 0] (the second unit is off)
    #   dW0 = x^T delta1 = [[2, 0], [4, 0]];  db0 = [2, 0]
    # lr = 0.05: W0 = [[0.9, -1], [0.3, -1]], b0 = [0.4, 0], W1 = [[0.75], [3]], b1 = -0.6
    net = tiny([[[1.0, -1.0], [0.5, -1.0]]], [[[0.5, 0.0]]], [[[1.0], [3.0]]], [[[-0.5]]], hidden="relu")
    sgd_step(net, np.array([[1.0, 2.0]]), np.array([[1.0]]), MSE, "sum", [0.05])
    np.testing.assert_allclose(net.W[0], [[[0.9, -1.0], [0.3, -1.0]]])
    np.testing.assert_allclose(net.b[0], [[[0.4, 0.0]]])
    np.testing.assert_allclose(net.W[1], [[[0.75], [3.0]]])
    np.testing.assert_allclose(net.b[1], [[[-0.6]]])


def test_sgd_step_by_hand_weight_decay_prelu():
    # 1-1-1, prelu hidden (slope s = 0.5), linear output, mse, sum, one sample x = 1, y = 0.
    #   W0 = -1, b0 = 0: z1 = -1, a1 = s*z1 = -0.5;  W1 = 2, b1 = 0: out = -1, dL/dz2 = 2*(-1 - 0) = -2
    #   dW1 = a1 * -2 = 1;  db1 = -2;  dC/da1 = -2 * W1 = -4
    #   ds = -4 * min(z1, 0) = 4;  delta1 = -4 * s = -2;  dW0 = 1 * -2 = -2;  db0 = -2
    # lr = 0.1, weight_decay = 0.1 adds 0.1*W to the weights' gradients only (not biases, not the slope):
    #   W0 = -1 - 0.1*(-2 + 0.1*(-1)) = -0.79;  b0 = 0 - 0.1*(-2) = 0.2
    #   W1 = 2 - 0.1*(1 + 0.1*2) = 1.88;        b1 = 0 - 0.1*(-2) = 0.2
    #   s = 0.5 - 0.1*4 = 0.1
    net = tiny([[[-1.0]]], [[[0.0]]], [[[2.0]]], [[[0.0]]], hidden="prelu")
    net.learned[0][...] = 0.5
    X, Y = np.array([[1.0]]), np.array([[0.0]])
    _, grads, _ = net.gradients(X, Y, MSE, "sum")
    np.testing.assert_allclose([g.item() for g in grads], [-2.0, -2.0, 1.0, -2.0, 4.0])
    sgd_step(net, X, Y, MSE, "sum", [0.1], wd=0.1)
    np.testing.assert_allclose(net.W[0], [[[-0.79]]])
    np.testing.assert_allclose(net.b[0], [[[0.2]]])
    np.testing.assert_allclose(net.W[1], [[[1.88]]])
    np.testing.assert_allclose(net.b[1], [[[0.2]]])
    np.testing.assert_allclose(net.learned[0], [[[0.1]]])


def two_member_net() -> Ensemble:
    # Member 0 is the net of test_sgd_step_by_hand_linear_mean: gradient (14, 8, 3.5, 4),
    #   global norm sqrt(196 + 64 + 12.25 + 16) = sqrt(288.25) = 16.98 > clip = 5.
    # Member 1: W0 = 1, b0 = 0, W1 = 0.5, b1 = 0.5 on the same data (mse, mean):
    #   x = 1: out = 0.5*1 + 0.5 = 1 = y, dL/dz2 = 0;  x = 2: out = 0.5*2 + 0.5 = 1.5, dL/dz2 = 2*1.5 = 3
    #   mean: delta2 = [0, 1.5];  dW1 = 2*1.5 = 3;  db1 = 1.5;  delta1 = 0.5*delta2 = [0, 0.75]
    #   dW0 = 2*0.75 = 1.5;  db0 = 0.75;  norm = sqrt(2.25 + 0.5625 + 9 + 2.25) = sqrt(14.0625) = 3.75 < 5
    return tiny([[[0.5]], [[1.0]]], [[[0.0]], [[0.0]]], [[[2.0]], [[0.5]]], [[[1.0]], [[0.5]]])


CLIP, LR = 5.0, 0.1
FACTOR0 = CLIP / np.sqrt(288.25)  # member 0's gradient is scaled to norm 5: factor 0.2945


def test_sgd_clip_scales_only_the_member_over_the_limit():
    net = two_member_net()
    _, grads, _ = net.gradients(X_AB, Y_AB, MSE, "mean")
    np.testing.assert_allclose([g[1].item() for g in grads], [1.5, 0.75, 3.0, 1.5])
    old = [p.copy() for p in net.parameters()]
    sgd_step(net, X_AB, Y_AB, MSE, "mean", [LR, LR], clip=CLIP)
    # member 0: p -= lr * (5 / sqrt(288.25)) * g
    np.testing.assert_allclose(net.W[0][0], [[0.5 - LR * FACTOR0 * 14.0]])
    np.testing.assert_allclose(net.b[0][0], [[0.0 - LR * FACTOR0 * 8.0]])
    np.testing.assert_allclose(net.W[1][0], [[2.0 - LR * FACTOR0 * 3.5]])
    np.testing.assert_allclose(net.b[1][0], [[1.0 - LR * FACTOR0 * 4.0]])
    step0 = np.sqrt(sum(np.sum((o[0] - p[0]) ** 2) for o, p in zip(old, net.parameters())))
    np.testing.assert_allclose(step0, LR * CLIP)  # the clipped step has length lr * clip
    # member 1 (norm 3.75 < 5) takes its plain step: W0 = 1 - 0.15, b0 = -0.075, W1 = 0.5 - 0.3, b1 = 0.5 - 0.15
    np.testing.assert_allclose(net.W[0][1], [[0.85]])
    np.testing.assert_allclose(net.b[0][1], [[-0.075]])
    np.testing.assert_allclose(net.W[1][1], [[0.2]])
    np.testing.assert_allclose(net.b[1][1], [[0.35]])


def test_sgd_clip_then_weight_decay():
    """Documented update (trainer._sgd): p -= lr * (g + wd * W) after per-member clipping of g.

    Clipping limits the loss gradient; the L2 term wd * W is added afterwards and must not be scaled by
    the clip factor (as in torch.nn.utils.clip_grad_norm_ followed by SGD(weight_decay=...)).
    """
    wd = 0.1
    net = two_member_net()
    sgd_step(net, X_AB, Y_AB, MSE, "mean", [LR, LR], clip=CLIP, wd=wd)
    # member 0 (clipped): W0 = 0.5 - 0.1 * (F*14 + 0.1*0.5), W1 = 2 - 0.1 * (F*3.5 + 0.1*2); biases as without wd
    np.testing.assert_allclose(net.W[0][0], [[0.5 - LR * (FACTOR0 * 14.0 + wd * 0.5)]])
    np.testing.assert_allclose(net.W[1][0], [[2.0 - LR * (FACTOR0 * 3.5 + wd * 2.0)]])
    np.testing.assert_allclose(net.b[0][0], [[0.0 - LR * FACTOR0 * 8.0]])
    np.testing.assert_allclose(net.b[1][0], [[1.0 - LR * FACTOR0 * 4.0]])
    # member 1 (not clipped): W0 = 1 - 0.1*(1.5 + 0.1*1) = 0.84, W1 = 0.5 - 0.1*(3 + 0.1*0.5) = 0.195
    np.testing.assert_allclose(net.W[0][1], [[0.84]])
    np.testing.assert_allclose(net.W[1][1], [[0.195]])
    np.testing.assert_allclose(net.b[0][1], [[-0.075]])
    np.testing.assert_allclose(net.b[1][1], [[0.35]])


def test_sgd_uses_each_members_learning_rate():
    net = two_member_net()
    sgd_step(net, X_AB, Y_AB, MSE, "mean", [0.1, 0.0])
    np.testing.assert_allclose(net.W[0][:, 0, 0], [0.5 - 0.1 * 14.0, 1.0])  # member 1 frozen (lr 0)
    np.testing.assert_allclose(net.b[1][:, 0, 0], [1.0 - 0.1 * 4.0, 0.5])


# --- initialisers -----------------------------------------------------------------

SHAPE = (200, 100)  # (fan_in, fan_out), unequal so that fan_in and fan_out cannot be swapped unnoticed


def _check_uniform_within(w, limit):
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # fills the interval
    assert abs(w.mean()) < 0.02 * limit
    assert w.std() == pytest.approx(limit / np.sqrt(3), rel=0.03)


def _check_normal(w, std):
    assert abs(w.mean()) < 0.03 * std
    assert w.std() == pytest.approx(std, rel=0.03)


SPREAD = {
    "uniform": lambda w, scale: _check_uniform_within(w, scale),
    "normal": lambda w, scale: _check_normal(w, scale),
    "glorot": lambda w, scale: _check_uniform_within(w, scale * np.sqrt(6.0 / (SHAPE[0] + SHAPE[1]))),
    "he": lambda w, scale: _check_normal(w, scale * np.sqrt(2.0 / SHAPE[0])),
    "lecun": lambda w, scale: _check_normal(w, scale / np.sqrt(SHAPE[0])),
    "zeros": lambda w, scale: np.testing.assert_array_equal(w, 0.0),
}


def test_every_initializer_has_a_documented_spread_check():
    assert set(SPREAD) == set(INITIALIZERS)


@pytest.mark.parametrize("scale", [0.5, 2.0])
@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_initializer_spread(name, scale):
    w = INITIALIZERS[name].draw(np.random.default_rng(0), SHAPE, scale)
    assert w.shape == SHAPE
    assert np.isfinite(w).all()
    SPREAD[name](w, scale)


@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_initializer_deterministic_per_seed(name):
    draw = INITIALIZERS[name].draw
    a = draw(np.random.default_rng(42), (7, 5), 1.0)
    np.testing.assert_array_equal(a, draw(np.random.default_rng(42), (7, 5), 1.0))
    if name != "zeros":
        assert not np.array_equal(a, draw(np.random.default_rng(43), (7, 5), 1.0))


@pytest.mark.parametrize("bias_init", ["zeros", "like_weights"])
@pytest.mark.parametrize("init", list(INITIALIZERS))
def test_create_draws_each_member_from_its_own_generator(init, bias_init):
    layers = [3, 4, 2]
    hidden, output = [act("tanh")], act("linear")

    def build(seeds):
        return Ensemble.create(layers, [np.random.default_rng(s) for s in seeds], hidden, output, init, 0.7, bias_init)

    two = build([0, 1])
    again = build([0, 1])
    alone = build([1])
    for x, y, z in zip(two.parameters(), again.parameters(), alone.parameters()):
        np.testing.assert_array_equal(x, y)  # same seeds, same weights
        np.testing.assert_array_equal(x[1:2], z)  # member 1 does not depend on member 0's generator
    # member 0 equals drawing its layers in order from its generator
    rng = np.random.default_rng(0)
    draw = INITIALIZERS[init].draw
    for l in range(len(layers) - 1):
        np.testing.assert_array_equal(two.W[l][0], draw(rng, (layers[l], layers[l + 1]), 0.7))
        if bias_init == "like_weights":
            np.testing.assert_array_equal(two.b[l][0, 0], draw(rng, (1, layers[l + 1]), 0.7)[0])
        else:
            np.testing.assert_array_equal(two.b[l], 0.0)

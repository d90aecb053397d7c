"""Losses: `delta` against central finite differences of `value`, the documented formulas, and stability.

Parametrized over the registry `LOSSES`: a loss that names its output activations (bce -> sigmoid,
cross_entropy -> softmax) is checked with those, any other with several elementwise outputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from relu_lab.activations import ACTIVATIONS
from relu_lab.losses import LOSSES, output_fits

EPS = 1e-6
K, N, O = 2, 3, 4
ELEMENTWISE_OUTPUTS = ("linear", "sigmoid", "tanh")
PAIRS = [(name, out) for name, loss in LOSSES.items() for out in (loss.outputs or ELEMENTWISE_OUTPUTS)]


def bound(out: str):
    """f and df of the output activation with its default parameters (df may be absent, e.g. softmax)."""
    act = ACTIVATIONS[out]

    def f(z):
        return act.f(z, **act.params)

    def df(z):
        return act.df(z, **act.params)

    return f, df


def targets(rng, shape):
    """Targets in [0, 1]: valid for every loss (soft labels for bce and cross-entropy)."""
    return rng.uniform(0.0, 1.0, size=shape)


@pytest.mark.parametrize("loss_name,out", PAIRS)
@pytest.mark.parametrize("y_shape", ["per_member", "shared"])
def test_delta_matches_finite_difference(loss_name, out, y_shape):
    loss = LOSSES[loss_name]
    assert output_fits(loss, ACTIVATIONS[out])
    f, df = bound(out)
    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 2.0, size=(K, N, O))
    y = targets(rng, (K, N, O) if y_shape == "per_member" else (N, O))  # shared Y broadcasts over K

    def value(zz):
        return loss.value(zz, f(zz), y)

    v = value(z)
    assert v.shape == (K, N)
    d = loss.delta(z, f(z), y, df(z) if loss.needs_df else None)
    assert d.shape == (K, N, O)
    # The full Jacobian of the per-sample losses: d value[k, i] / d z[k', i', o] is delta[k, i, o] on the
    # sample's own row and 0 for every other sample.
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += EPS
        zm[idx] -= EPS
        jac = (value(zp) - value(zm)) / (2 * EPS)
        expected = np.zeros((K, N))
        expected[idx[:2]] = d[idx]
        np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-8, err_msg=f"{loss_name}/{out} at z{idx}")


def test_checker_would_catch_a_halved_delta():
    """The finite-difference comparison above is sharp enough to see a factor of 2 (mse vs half_mse)."""
    f, df = bound("linear")
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(K, N, O)), targets(rng, (K, N, O))
    wrong = LOSSES["half_mse"].delta(z, f(z), y, df(z))
    zp = z.copy()
    zp[0, 0, 0] += EPS
    zm = z.copy()
    zm[0, 0, 0] -= EPS
    fd = (LOSSES["mse"].value(zp, f(zp), y) - LOSSES["mse"].value(zm, f(zm), y))[0, 0] / (2 * EPS)
    assert not np.isclose(wrong[0, 0, 0], fd, rtol=1e-6, atol=1e-8)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# The documented formula of each loss, written naively (fine for moderate z), from the output `a`.
REFERENCE = {
    "mse": lambda a, y: np.sum((a - y) ** 2, axis=-1),
    "half_mse": lambda a, y: 0.5 * np.sum((a - y) ** 2, axis=-1),
    "bce": lambda a, y: np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a), axis=-1),
    "cross_entropy": lambda a, y: -np.sum(y * np.log(a), axis=-1),
}


def test_every_loss_has_a_reference_formula():
    assert set(REFERENCE) == set(LOSSES)


@pytest.mark.parametrize("loss_name,out", PAIRS)
def test_value_matches_documented_formula(loss_name, out):
    loss = LOSSES[loss_name]
    f, _ = bound(out)
    rng = np.random.default_rng(2)
    z = rng.normal(0.0, 2.0, size=(K, N, O))
    y = targets(rng, (K, N, O))
    if out == "softmax":
        y = np.eye(O)[rng.integers(0, O, size=(K, N))]  # one-hot classes
    np.testing.assert_allclose(loss.value(z, f(z), y), REFERENCE[loss_name](f(z), y), rtol=1e-10)


def test_cross_entropy_delta_is_a_minus_y_for_one_hot():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(K, N, O))
    y = np.eye(O)[rng.integers(0, O, size=(K, N))]
    a = _softmax(z)
    np.testing.assert_allclose(LOSSES["cross_entropy"].delta(z, a, y, None), a - y, rtol=1e-12)


# --- numerical stability ------------------------------------------------------


def huge_logits():
    z = np.array([[-1e4, -50.0, 0.0, 50.0], [1e4, 50.0, -50.0, 1e4], [1e4, -1e4, 1e4, -1e4]])
    return np.stack([z, -z])  # (K=2, n=3, outputs=4)


@pytest.mark.parametrize("loss_name,out", PAIRS)
def test_stable_for_huge_logits(loss_name, out, strict_numpy):
    loss = LOSSES[loss_name]
    f, df = bound(out)
    z = huge_logits()
    for y in (np.zeros_like(z), np.ones_like(z), np.eye(4)[[0, 1, 3]][None].repeat(2, axis=0)):
        a = f(z)
        v = loss.value(z, a, y)
        d = loss.delta(z, a, y, df(z) if loss.needs_df else None)
        assert v.shape == z.shape[:2] and np.isfinite(v).all(), v
        assert d.shape == z.shape and np.isfinite(d).all(), d


def test_bce_and_cross_entropy_sane_for_huge_logits(strict_numpy):
    bce, ce = LOSSES["bce"], LOSSES["cross_entropy"]
    sig, soft = ACTIVATIONS["sigmoid"].f, ACTIVATIONS["softmax"].f
    z = np.array([[[1e4], [-1e4]]])
    y = np.ones_like(z)
    # confidently right costs ~0, confidently wrong costs ~|z|
    np.testing.assert_allclose(bce.value(z, sig(z), y), [[0.0, 1e4]], atol=1e-12)
    z = np.array([[[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]]])
    y = np.array([[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    np.testing.assert_allclose(ce.value(z, soft(z), y), [[0.0, 2e4]], atol=1e-12)

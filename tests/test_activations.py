"""Activations: every `df` (and `dparam`) against central finite differences of `f`, and numerical stability.

Everything is parametrized over the registry `ACTIVATIONS`, so a new entry is checked automatically.
"""

from __future__ import annotations

import numpy as np
import pytest

from relu_lab.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, custom_activation, get_activation

from . import custom_act

EPS = 1e-6
ELEMENTWISE = [n for n, a in ACTIVATIONS.items() if a.elementwise]
WITH_PARAMS = [n for n in ELEMENTWISE if ACTIVATIONS[n].params]
LEARNED = [n for n, a in ACTIVATIONS.items() if a.learned]
# Non-default values for known parameter names; any other parameter gets 0.5 * default + 0.1.
NONDEFAULT = {"slope": 0.1, "alpha": 0.5}
HUGE = np.array([-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4])
SWISH, DSWISH = "tests.custom_act:swish", "tests.custom_act:dswish"


def nondefault(name: str) -> dict[str, float]:
    out = {}
    for key, default in ACTIVATIONS[name].params.items():
        out[key] = NONDEFAULT.get(key, 0.5 * default + 0.1)
        assert out[key] != default
    return out


def points(seed: int = 0, shape: tuple[int, ...] = (400,), low: float = 1e-3, high: float = 6.0) -> np.ndarray:
    """Random points with low <= |z| <= high: away from the kink at 0 of relu-like functions."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def assert_derivative(f, df, z, eps=EPS, rtol=1e-6, atol=1e-8):
    """df(z) equals (f(z + eps) - f(z - eps)) / (2 eps) elementwise, with z's shape."""
    fd = (f(z + eps) - f(z - eps)) / (2 * eps)
    got = df(z)
    assert np.shape(got) == z.shape, f"derivative has shape {np.shape(got)}, input {z.shape}"
    np.testing.assert_allclose(got, fd, rtol=rtol, atol=atol)


def test_registry_lists_are_consistent():
    assert "softmax" not in HIDDEN_ACTIVATIONS
    assert {"relu", "prelu", "tanh", "sigmoid", "linear"} <= set(HIDDEN_ACTIVATIONS)
    assert not set(LEARNED) & set(OUTPUT_ACTIVATIONS)
    for name, act in ACTIVATIONS.items():
        assert act.name == name
        if act.elementwise:
            assert act.df is not None, f"{name} is elementwise but has no derivative"
        if act.learned:
            assert act.learned in act.params, f"{name}: learned parameter needs a default in params"
            assert act.dparam is not None


def test_an_alias_is_its_entry_under_another_name_and_compare_leaves_it_out():
    from relu_lab.activations import COMPARED

    aliases = {n: a.alias_of for n, a in ACTIVATIONS.items() if a.alias_of}
    assert aliases == {"swish": "silu"}
    for name, of in aliases.items():
        assert ACTIVATIONS[name].f is ACTIVATIONS[of].f and ACTIVATIONS[name].df is ACTIVATIONS[of].df
        assert name in HIDDEN_ACTIVATIONS and name not in COMPARED and of in COMPARED


def test_the_new_activations_are_what_their_papers_define():
    z = np.array([-8.0, -1.5, -0.5, 0.0, 0.5, 1.5, 8.0])
    f = {n: ACTIVATIONS[n].f for n in ("mish", "softsign", "hard_tanh", "relu6", "sine")}
    np.testing.assert_allclose(f["mish"](z), z * np.tanh(np.log1p(np.exp(z))), rtol=1e-12)
    np.testing.assert_allclose(f["softsign"](z), z / (1 + np.abs(z)))
    np.testing.assert_array_equal(f["hard_tanh"](z), [-1, -1, -0.5, 0, 0.5, 1, 1])
    np.testing.assert_array_equal(f["relu6"](z), [0, 0, 0, 0, 0.5, 1.5, 6])
    np.testing.assert_allclose(f["sine"](z, w0=30.0), np.sin(30 * z))


def test_checker_rejects_a_wrong_derivative():
    with pytest.raises(AssertionError):
        assert_derivative(custom_act.swish, custom_act.dswish_wrong, points())
    with pytest.raises(AssertionError):  # a scalar is not an elementwise derivative
        assert_derivative(custom_act.swish, lambda z: 0.5, points())


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_df_matches_finite_difference(name):
    act = ACTIVATIONS[name]
    z = points(seed=1)
    assert_derivative(act.f, act.df, z)
    # explicit default parameters give the same as none
    np.testing.assert_array_equal(act.f(z, **act.params), act.f(z))
    np.testing.assert_array_equal(act.df(z, **act.params), act.df(z))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_df_matches_finite_difference_on_batched_shape(name):
    act = ACTIVATIONS[name]
    z = points(seed=2, shape=(2, 5, 3))  # (K, n, units), as in the network
    assert_derivative(lambda x: act.f(x, **act.params), lambda x: act.df(x, **act.params), z)


@pytest.mark.parametrize("name", WITH_PARAMS)
def test_df_matches_finite_difference_with_nondefault_params(name):
    act, params = ACTIVATIONS[name], nondefault(name)
    z = points(seed=3)
    assert not np.allclose(act.f(z, **params), act.f(z)), f"{name} ignores {params}"
    assert_derivative(lambda x: act.f(x, **params), lambda x: act.df(x, **params), z)


@pytest.mark.parametrize("name", LEARNED)
@pytest.mark.parametrize("which", ["default", "nondefault"])
def test_dparam_matches_finite_difference(name, which):
    act = ACTIVATIONS[name]
    params = dict(act.params) if which == "default" else nondefault(name)
    p = act.learned
    z = points(seed=4)

    def in_param(v):
        return act.f(z, **{**params, p: v})

    fd = (in_param(params[p] + EPS) - in_param(params[p] - EPS)) / (2 * EPS)
    got = act.dparam(z, **params)
    assert np.shape(got) == z.shape
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", LEARNED)
def test_learned_parameter_per_unit(name):
    """A learned parameter of shape (K, 1, units) broadcasts over samples, as the network stores it."""
    act = ACTIVATIONS[name]
    p = act.learned
    z = points(seed=5, shape=(2, 6, 3))
    v = np.random.default_rng(6).uniform(0.05, 0.6, size=(2, 1, 3))
    params = {**act.params, p: v}
    assert_derivative(lambda x: act.f(x, **params), lambda x: act.df(x, **params), z)
    # Perturbing every unit's parameter at once is fine: each output depends only on its own unit's parameter.
    fd = (act.f(z, **{**params, p: v + EPS}) - act.f(z, **{**params, p: v - EPS})) / (2 * EPS)
    got = act.dparam(z, **params)
    assert np.shape(got) == z.shape
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("how", ["get_activation", "custom_activation"])
def test_custom_activation_derivative(how):
    if how == "get_activation":
        act = get_activation(SWISH, df=DSWISH)
    else:
        act = custom_activation(SWISH, DSWISH)
    assert act.f is custom_act.swish and act.df is custom_act.dswish
    assert act.elementwise and act.learned is None
    z = points(seed=7)
    np.testing.assert_allclose(act.f(z), z / (1.0 + np.exp(-z)), rtol=1e-12)
    assert_derivative(act.f, act.df, z)


def test_custom_activation_errors():
    with pytest.raises(ValueError, match="df"):
        get_activation(SWISH)
    with pytest.raises(ValueError, match="cannot import"):
        get_activation("tests.custom_act:no_such_function", df=DSWISH)
    with pytest.raises(ValueError, match="cannot import"):
        get_activation("tests.no_such_module:swish", df=DSWISH)


def test_get_activation_returns_registered():
    for name, act in ACTIVATIONS.items():
        assert get_activation(name) is act


# --- numerical stability ------------------------------------------------------


def _param_sets(name: str) -> list[dict[str, float]]:
    return [dict(ACTIVATIONS[name].params)] + ([nondefault(name)] if ACTIVATIONS[name].params else [])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_stable_for_huge_inputs(name, strict_numpy):
    act = ACTIVATIONS[name]
    for params in _param_sets(name):
        if not act.elementwise:  # softmax: over the last axis
            for z in (HUGE[None, :], HUGE[::-1][None, :], np.stack([HUGE, -HUGE])[None]):
                a = act.f(z, **params)
                assert a.shape == z.shape and np.isfinite(a).all()
            continue
        a = act.f(HUGE, **params)
        assert a.shape == HUGE.shape and np.isfinite(a).all(), a
        d = act.df(HUGE, **params)
        assert np.shape(d) == HUGE.shape and np.isfinite(d).all(), d
        if act.dparam is not None:
            dp = act.dparam(HUGE, **params)
            assert np.shape(dp) == HUGE.shape and np.isfinite(dp).all(), dp


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_df_correct_for_huge_inputs(name, strict_numpy):
    """Not only finite: far out in the tails df still agrees with the slope of f."""
    act = ACTIVATIONS[name]
    z = np.array([-1e4, -50.0, 50.0, 1e4])
    for params in _param_sets(name):
        assert_derivative(lambda x, p=params: act.f(x, **p), lambda x, p=params: act.df(x, **p), z,
                          rtol=1e-6, atol=1e-5)


def test_custom_activation_stable(strict_numpy):
    act = get_activation(SWISH, df=DSWISH)
    assert np.isfinite(act.f(HUGE)).all() and np.isfinite(act.df(HUGE)).all()


def test_softmax_rows_sum_to_one_for_huge_logits(strict_numpy):
    z = np.stack([HUGE, -HUGE, np.zeros_like(HUGE)])
    a = ACTIVATIONS["softmax"].f(z)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-12)
    assert a[0, -1] == pytest.approx(1.0) and a[1, 0] == pytest.approx(1.0)
    np.testing.assert_allclose(a[2], 1.0 / len(HUGE))

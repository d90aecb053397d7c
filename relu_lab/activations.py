"""Activation functions: one registry, each `f` next to its derivative `df`.

Every `f(z, **params)` and `df(z, **params)` works elementwise on arrays of any
shape; `df` is the derivative with respect to the pre-activation `z`. An
activation with a *learned* parameter (PReLU's slope) also has `dparam`, the
derivative of `f` with respect to that parameter. All functions stay finite and
silent (no overflow warnings) for |z| up to 1e4 and beyond.

`ACTIVATIONS` is the only list of names: config validation, CLI choices,
`compare` defaults and the gradient-check tests all read it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative and parameter defaults."""

    name: str
    f: Callable[..., Array]
    df: Callable[..., Array] | None
    formula: str
    params: dict[str, float] = field(default_factory=dict)
    learned: str | None = None  # name of the parameter learned per unit, if any
    dparam: Callable[..., Array] | None = None  # d f / d learned parameter
    hidden: bool = True  # usable in hidden layers
    elementwise: bool = True  # False only for softmax (output of cross-entropy)
    alias_of: str | None = None  # another name for that entry (its functions); compare leaves it out

    def __repr__(self) -> str:
        return f"Activation({self.name}: {self.formula})"


# --- elementwise helpers ------------------------------------------------------
# The functions below are written once and run two ways: on NumPy arrays (the NumPy engine,
# evaluation, plots) and, compiled by numba, on single floats inside the compiled engine's
# kernels (see engines/compiled.py). These helpers are the only NumPy calls that need a
# separate scalar form there; the compiled engine gives it to numba.


def where(cond, a, b):
    """np.where(cond, a, b); on floats in the kernels, `a if cond else b`."""
    return np.where(cond, a, b)


def rowmax(z: Array) -> Array:
    """The maximum over the last axis, kept as an axis of length 1."""
    return z.max(axis=-1, keepdims=True)


def rowsum(z: Array) -> Array:
    """The sum over the last axis, kept as an axis of length 1."""
    return np.sum(z, axis=-1, keepdims=True)


def tanh(z):
    """np.tanh (also the activation "tanh"); in the kernels, a rational form that vectorises (libm's
    does not), within 2 ulp of np.tanh (engines/scalar.py)."""
    return np.tanh(z)


# --- numerically stable building blocks ---------------------------------------


def sigmoid(z: Array) -> Array:
    """1 / (1 + e^-z) = (1 + tanh(z/2)) / 2: no exponential, so nothing overflows."""
    return 0.5 + 0.5 * tanh(0.5 * z)


def softplus(z: Array) -> Array:
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|)."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def softmax(z: Array) -> Array:
    """Softmax over the last axis, shifted by the maximum for stability."""
    e = np.exp(z - rowmax(z))
    return e / rowsum(e)


# --- the functions, each beside its derivative -------------------------------


def linear(z):
    return z


def dlinear(z):
    return 0.0 * z + 1.0  # 1 in z's shape (a plain float for a float z)


def relu(z):
    return np.maximum(z, 0.0)


def drelu(z):
    # The derivative at 0 is taken as 0: a unit with z <= 0 gets no gradient.
    return (z > 0) * 1.0


def leaky_relu(z, slope=0.01):
    # max(z, slope*z) is z for z > 0 and slope*z below when slope <= 1 (min when slope > 1)
    return np.maximum(z, slope * z) if slope <= 1 else np.minimum(z, slope * z)


def dleaky_relu(z, slope=0.01):
    # Seed 000's bug compared z with epsilon instead of 0 and returned a scalar.
    return where(z > 0, 1.0, slope)


def prelu(z, slope=0.25):
    return where(z > 0, z, slope * z)


def dprelu(z, slope=0.25):
    return where(z > 0, 1.0, slope)


def dprelu_dslope(z, slope=0.25):
    return np.minimum(z, 0.0)


def elu(z, alpha=1.0):
    return where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def delu(z, alpha=1.0):
    return where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def selu(z):
    return SELU_SCALE * elu(z, SELU_ALPHA)


def dselu(z):
    return SELU_SCALE * delu(z, SELU_ALPHA)


def dsoftplus(z):
    return sigmoid(z)


def dsigmoid(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def dtanh(z):
    return 1.0 - tanh(z) ** 2


GELU_C = np.sqrt(2.0 / np.pi)


def gelu(z):
    # The tanh approximation (Hendrycks & Gimpel 2016), as in PyTorch's approximate="tanh".
    # tanh is +-1 exactly past |z| = 30: clamping its argument there keeps z^3 from overflowing.
    zc = np.minimum(np.maximum(z, -30.0), 30.0)
    return 0.5 * z * (1.0 + tanh(GELU_C * (zc + 0.044715 * zc**3)))


def dgelu(z):
    # Past |z| = 30, tanh(u) is +-1 exactly, so the second term is 0; clamping z there keeps
    # z^3 and z * du from overflowing into 0 * inf = NaN (the derivative is then 1 or 0).
    z = np.minimum(np.maximum(z, -30.0), 30.0)
    u = GELU_C * (z + 0.044715 * z**3)
    t = tanh(u)
    du = GELU_C * (1.0 + 3 * 0.044715 * z**2)
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t**2) * du


def silu(z):
    return z * sigmoid(z)


def dsilu(z):
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def mish(z):
    # Misra 2019: z tanh(softplus(z))
    return z * tanh(softplus(z))


def dmish(z):
    t = tanh(softplus(z))
    return t + z * (1.0 - t * t) * sigmoid(z)


def softsign(z):
    return z / (1.0 + np.abs(z))


def dsoftsign(z):
    d = 1.0 + np.abs(z)
    return 1.0 / (d * d)


def hard_tanh(z):
    return np.minimum(np.maximum(z, -1.0), 1.0)


def dhard_tanh(z):
    return (z > -1.0) * 1.0 * (z < 1.0)  # 0 at the kinks, as PyTorch's Hardtanh


def relu6(z):
    return np.minimum(np.maximum(z, 0.0), 6.0)


def drelu6(z):
    return (z > 0.0) * 1.0 * (z < 6.0)


def sine(z, w0=1.0):
    # SIREN (Sitzmann et al. 2020) uses sin(w0 z) with w0 = 30 and its own initialisation
    return np.sin(w0 * z)


def dsine(z, w0=1.0):
    return w0 * np.cos(w0 * z)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("linear", linear, dlinear, "f(z) = z; f' = 1"),
        Activation("relu", relu, drelu, "f(z) = max(z, 0); f' = [z > 0]"),
        Activation(
            "leaky_relu",
            leaky_relu,
            dleaky_relu,
            "f(z) = z if z > 0 else slope*z; f' = 1 or slope",
            params={"slope": 0.01},
        ),
        Activation(
            "prelu",
            prelu,
            dprelu,
            "f(z) = z if z > 0 else a*z, a learned per unit; df/da = min(z, 0)",
            params={"slope": 0.25},
            learned="slope",
            dparam=dprelu_dslope,
        ),
        Activation(
            "elu",
            elu,
            delu,
            "f(z) = z if z > 0 else alpha*(e^z - 1); f' = 1 or alpha*e^z",
            params={"alpha": 1.0},
        ),
        Activation("selu", selu, dselu, "f(z) = scale*elu(z, alpha), fixed alpha=1.6733, scale=1.0507"),
        Activation("softplus", softplus, dsoftplus, "f(z) = log(1 + e^z); f' = sigmoid(z)"),
        Activation("sigmoid", sigmoid, dsigmoid, "f(z) = 1/(1 + e^-z); f' = f(1 - f)"),
        Activation("tanh", tanh, dtanh, "f(z) = tanh z; f' = 1 - tanh^2 z"),
        Activation("gelu", gelu, dgelu, "f(z) = z/2 (1 + tanh(sqrt(2/pi)(z + 0.044715 z^3)))"),
        Activation("silu", silu, dsilu, "f(z) = z*sigmoid(z); f' = s(1 + z(1 - s))"),
        Activation("swish", silu, dsilu, "another name for silu: f(z) = z*sigmoid(z)", alias_of="silu"),
        Activation("mish", mish, dmish, "f(z) = z tanh(softplus(z))"),
        Activation("softsign", softsign, dsoftsign, "f(z) = z/(1 + |z|); f' = 1/(1 + |z|)^2"),
        Activation("hard_tanh", hard_tanh, dhard_tanh, "f(z) = clip(z, -1, 1); f' = [-1 < z < 1]"),
        Activation("relu6", relu6, drelu6, "f(z) = min(max(z, 0), 6); f' = [0 < z < 6]"),
        Activation("sine", sine, dsine, "f(z) = sin(w0 z); f' = w0 cos(w0 z) (SIREN: w0 = 30)", params={"w0": 1.0}),
        Activation(
            "softmax",
            softmax,
            None,
            "f(z)_i = e^z_i / sum_j e^z_j (output only, with cross_entropy)",
            hidden=False,
            elementwise=False,
        ),
    ]
}

HIDDEN_ACTIVATIONS: list[str] = [n for n, a in ACTIVATIONS.items() if a.hidden]
OUTPUT_ACTIVATIONS: list[str] = [n for n, a in ACTIVATIONS.items() if a.learned is None]
COMPARED: list[str] = [n for n in HIDDEN_ACTIVATIONS if ACTIVATIONS[n].alias_of is None]  # compare's default


def is_custom(name: str) -> bool:
    """A name of the form 'module:function' names a user's own activation."""
    return ":" in name


def _import(path: str) -> Callable[..., Array]:
    module, _, attr = path.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import '{path}' ({err})") from None
    if not callable(fn):
        raise ValueError(f"'{path}' is not a function")
    return fn


def custom_activation(f_path: str, df_path: str, folder: str | Path | None = None) -> Activation:
    """A user's activation from 'module:function' paths for f and its derivative; `folder` (the config's,
    or the one recorded when it was resolved) is searched first for the modules."""
    with importable_from(folder):
        return Activation(f_path, _import(f_path), _import(df_path), f"user function {f_path}, derivative {df_path}")


@contextlib.contextmanager
def importable_from(folder: str | Path | None):
    """While importing, `folder` (where a user's activation module may sit) is searched first."""
    path = str(Path(folder).resolve()) if folder is not None else None
    added = path is not None and path not in sys.path
    if added:
        sys.path.insert(0, path)
    try:
        yield
    finally:
        if added:
            sys.path.remove(path)


def found_in(path: str, folder: str | Path | None) -> str | None:
    """`folder`, made absolute, when the module of 'module:function' was imported from inside it."""
    module = sys.modules.get(path.partition(":")[0])
    file = getattr(module, "__file__", None)
    if folder is None or file is None:
        return None
    root = Path(folder).resolve()
    return str(root) if Path(file).resolve().is_relative_to(root) else None


SATURATED = 0.01  # an output is saturated where |f'(z)| is below this share of the largest |f'| anywhere
PEAK_GRID = np.linspace(-20.0, 20.0, 40001)  # where that largest |f'| is looked for (steps of 0.001)


def peak_slope(df: Callable[..., Array], params: dict) -> float:
    """The largest |f'(z)| over z in [-20, 20] (the scale of "saturated"); NaN when df fails there or is not
    finite anywhere (a user's own df), so that no saturation figure is made up. Worked out once per df and
    parameters: every network built (each snapshot a picture rebuilds) asks for it again."""
    try:
        return _peak_slope(df, tuple(sorted(params.items())))
    except TypeError:  # a parameter that cannot be a cache key: worked out afresh
        return _peak_slope.__wrapped__(df, tuple(sorted(params.items())))


@functools.lru_cache(maxsize=256)
def _peak_slope(df: Callable[..., Array], params: tuple) -> float:
    try:
        with np.errstate(all="ignore"):
            d = np.abs(np.asarray(df(PEAK_GRID.copy(), **dict(params)), dtype=float))
    except Exception:  # noqa: BLE001 - a user's function: no peak, no saturation figure
        return float("nan")
    d = d[np.isfinite(d)] if d.shape == PEAK_GRID.shape else d[:0]
    return float(d.max()) if d.size and d.max() > 0 else float("nan")


NEAR, FAR = np.linspace(-100.0, 100.0, 20001), np.linspace(-1e4, 1e4, 20001)


def reach(f: Callable[..., Array], params: dict) -> tuple[float, float]:
    """About the least and the greatest value f takes: its extremes over [-1e4, 1e4] on a side where they
    lie within 5 % of f's spread over [-100, 100] from that range's own (a bound, reached or approached,
    like softsign's), else -inf / inf (the side grows without bound, like ReLU's right or a log's).
    (-inf, inf) when f fails or is not finite there (a user's own f): nothing is claimed about it."""
    try:
        with np.errstate(all="ignore"):
            near, far = (np.asarray(f(z.copy(), **params), dtype=float) for z in (NEAR, FAR))
    except Exception:  # noqa: BLE001 - a user's function
        return -np.inf, np.inf
    if near.shape != NEAR.shape or far.shape != FAR.shape or not (np.isfinite(near).all() and np.isfinite(far).all()):
        return -np.inf, np.inf
    lo, hi = float(min(near.min(), far.min())), float(max(near.max(), far.max()))
    slack = 0.05 * (float(near.max() - near.min()) or 1.0)
    return (lo if lo >= near.min() - slack else -np.inf), (hi if hi <= near.max() + slack else np.inf)


# Sample points for checking a user's activation: a spread over [-4, 4] that misses 0 (ReLU-like kinks).
CHECK_POINTS = np.linspace(-4.0, 4.0, 41) + 0.0123
CHECK_STEP = 1e-5
CHECK_TOLERANCE = 1e-4  # |df - central difference| / max(1, |central difference|)


def check_activation(act: Activation) -> str | None:
    """Check a user's f and df on sample points. Raises ValueError when they cannot be trained with
    (not elementwise, not finite, failing); returns a warning naming the worst point when df does
    not match f's slope (a deliberately wrong derivative is a legitimate experiment: seed 000)."""

    def call(what: str, fn: Callable[..., Array], x: Array) -> Array:
        name = getattr(fn, "__qualname__", None)
        what = f"{what} ({getattr(fn, '__module__', '?')}:{name})" if name else what
        try:
            with np.errstate(all="ignore"):
                y = fn(x.copy())
        except Exception as err:  # a user's code: any failure is reported, not raised through
            raise ValueError(f"{what} failed on an array of {x.size} points ({type(err).__name__}: {err})") from None
        if not isinstance(y, np.ndarray) or y.dtype.kind not in "biuf":  # (z > 0) as a derivative is fine
            try:
                shape = np.shape(y)
            except Exception:  # noqa: BLE001 - whatever the user's function returned
                shape = "?"
            got = f"{y.dtype} values, not real numbers" if isinstance(y, np.ndarray) else \
                f"a {type(y).__name__}, not a NumPy array"
            raise ValueError(f"{what} returned shape {shape} ({got}) for a float array of shape {x.shape}; it "
                             "must return a NumPy array of real numbers of its input's shape (e.g. np.maximum(z, 0.0))")
        if y.shape != x.shape:
            raise ValueError(f"{what} returned shape {y.shape} for an input of shape {x.shape}; it must work "
                             "elementwise and return an array of its input's shape")
        if not np.isfinite(y).all():
            raise ValueError(f"{what} is not finite at z = {float(x[~np.isfinite(y)][0]):.4g}")
        return y

    z, h = CHECK_POINTS, CHECK_STEP
    stacked = z.reshape(1, -1, 1)  # as training calls them: (members, samples, units)
    call("f", act.f, z)
    call("f", act.f, stacked)
    call("df", act.df, stacked)
    df = call("df", act.df, z)
    slope = (call("f", act.f, z + h) - call("f", act.f, z - h)) / (2 * h)
    gap = np.abs(df - slope) / np.maximum(1.0, np.abs(slope))
    worst = int(np.argmax(gap))
    if gap[worst] > CHECK_TOLERANCE:
        df_name = getattr(act.df, "__name__", "df")
        return (f"the derivative {df_name} does not match f's slope: at z = {z[worst]:.4g} it gives "
                f"{df[worst]:.6g}, f's central difference {slope[worst]:.6g}")
    return None


def get_activation(name: str, df: str | None = None) -> Activation:
    """The registered activation `name`, or a user's own when `name` is 'module:function'."""
    if is_custom(name):
        if df is None:
            raise ValueError(f"custom activation '{name}' needs 'df: module:function' for its derivative")
        return custom_activation(name, df)
    return ACTIVATIONS[name]

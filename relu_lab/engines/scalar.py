"""The registries' activations and losses, compiled by numba for the kernels.

The kernels (compiled.py) do not define any activation or loss of their own: they compile the
registry's functions (activations.py, losses.py), which are written to work on floats as well as
on arrays. Here numba is taught the helpers those functions share (`where`, `rowmax`, `rowsum`,
`tanh`) for floats, every registered function becomes callable from compiled code, and each
use in the kernel gets a dispatch function: an if/elif chain over the registry, written out from
its names, that runs the chosen function over a layer's units x members.

A layer's activation and the loss are chosen by a code (their index in the registry), with one
branch per layer and sample, not per unit; so one kernel, compiled once, serves every config.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
import types as pytypes
from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload, register_jitable

from .. import activations, losses, optimizers
from ..activations import ACTIVATIONS
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS

# --- the registry's helpers, for floats --------------------------------------


@overload(activations.where, inline="always")
def _where(cond, a, b):
    if isinstance(cond, types.Boolean):
        return lambda cond, a, b: a if cond else b
    return lambda cond, a, b: np.where(cond, a, b)


@overload(activations.rowmax, inline="always")
def _rowmax(z):
    if isinstance(z, types.Array):
        return lambda z: z.max()
    return lambda z: z


@overload(activations.rowsum, inline="always")
def _rowsum(z):
    if isinstance(z, types.Array):
        return lambda z: z.sum()
    return lambda z: z


# tanh on a float: numba would call libm's tanh, which no loop vectorises (about 12 ns a call here).
# Cephes' rational forms instead, pure arithmetic that the kernels' loops run 4-8 lanes at a time;
# within 2 ulp of np.tanh (tested). Only the kernels use it: NumPy's own tanh is fast on arrays.


@intrinsic
def _bits_as_float(typingctx, bits):
    """The float64 whose IEEE bits are the int64 `bits` (a bit cast, which vectorises)."""
    return types.float64(types.int64), lambda context, builder, sig, args: builder.bitcast(args[0], ir.DoubleType())


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE bits of the float64 `x` as an int64."""
    return types.int64(types.float64), lambda context, builder, sig, args: builder.bitcast(args[0], ir.IntType(64))


_ROUND = 6755399441055744.0  # 1.5 * 2**52: x + _ROUND rounds x to an integer held in the low bits
_LOG2E = 1.4426950408889634
_LN2_HI, _LN2_LO = 6.93145751953125e-1, 1.42860682030941723212e-6  # ln 2 = hi + lo, hi exact in few bits


@register_jitable(inline="always")
def exp_float(x):
    """e^x for x in [-708, 709] (Cephes exp): x = n ln 2 + r, |r| <= ln 2 / 2; e^r = 1 + 2 r P / (Q - r P)
    in r^2, then times 2^n built from its bits."""
    k = x * _LOG2E + _ROUND
    n = k - _ROUND
    r = x - n * _LN2_HI
    r = r - n * _LN2_LO
    rr = r * r
    p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 9.99999999999999999910e-1)
    q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr + 2.27265548208155028766e-1) * rr \
        + 2.00000000000000000009e0
    return (1.0 + 2.0 * p / (q - p)) * _bits_as_float((_float_bits(k) - _float_bits(_ROUND) + 1023) << 52)


@register_jitable(inline="always")
def tanh_float(x):
    """tanh x (Cephes tanh): a rational form in x^2 below |x| = 0.625, 1 - 2 / (e^2|x| + 1) above (1 exactly
    past 22). Both are computed and one chosen, so that a loop over them has no branch and vectorises."""
    ax = abs(x)
    xx = x * x
    small = x + x * xx * (((-9.64399179425052238628e-1 * xx - 9.92877231001918586564e1) * xx
                           - 1.61468768441708447952e3)
                          / (((xx + 1.12811678491632931402e2) * xx + 2.23548839060100448583e3) * xx
                             + 4.84406305325125486048e3))
    large = 1.0 - 2.0 / (exp_float(2.0 * min(ax, 22.0)) + 1.0)
    large = large if x >= 0.0 else -large
    small = small if x != 0.0 else x  # tanh(-0) = -0 (the rational form gives +0)
    return small if ax < 0.625 else large


@overload(activations.tanh, inline="always")
def _tanh(z):
    if isinstance(z, types.Float):
        return lambda z: tanh_float(z)
    return lambda z: np.tanh(z)


def _module_functions(module: pytypes.ModuleType) -> list:
    return [f for _, f in inspect.getmembers(module, inspect.isfunction) if f.__module__ == module.__name__]


_HELPERS = {activations.where, activations.rowmax, activations.rowsum, activations.tanh}
for _f in _module_functions(activations) + _module_functions(losses) + _module_functions(optimizers):
    if _f not in _HELPERS:
        register_jitable(_f)  # the plain function stays as it is; compiled code may now call it


@functools.cache
def params_of(fn) -> tuple[str, ...]:
    """The parameter names of an activation function after z, in its signature's order."""
    return tuple(inspect.signature(fn).parameters)[1:]


# The elementwise activations, in registry order, then the row-wise ones (softmax, an output only):
# a layer's code is the activation's index in this list, a loss's code its index in LOSS_LIST.
ELEMENTWISE = [a for a in ACTIVATIONS.values() if a.elementwise and a.df is not None]
ROWWISE = [a for a in ACTIVATIONS.values() if not a.elementwise]
LOSS_LIST = list(LOSSES.values())
N_ELEMENTWISE = len(ELEMENTWISE)  # the first row-wise code
MAX_PARAMS = max([1] + [len(params_of(a.f)) for a in ACTIVATIONS.values()])


# --- dispatch on a code: one if/elif chain per use, written out from the registries ----------
# numba compiles each case with the registry's function inlined; a layer branches once per sample,
# not once per unit.


def _dispatch(name: str, args: str, cases: list[str], names: dict) -> Callable:
    """A compiled `name(code, args)` running `cases[code]` (statements, with `names` as globals)."""
    lines = [f"def {name}(code, {args}):"]
    for i, case in enumerate(cases):
        lines.append(f"    {'if' if i == 0 else 'elif'} code == {i}:")
        lines += ["        " + line for line in case.splitlines()]
    namespace = dict(names)
    exec("\n".join(lines), namespace)  # the source is built below from the registries' names
    return njit(namespace[name], error_model="numpy")


def _call(fn: str, act, z: str, learned: str = "") -> str:
    """Source of a call of `fn` (one of act's functions): its parameters from p, a learned one from `learned`."""
    args = [learned if name == act.learned and learned else f"p[{i}]" for i, name in enumerate(params_of(act.f))]
    return f"{fn}({', '.join([z, *args])})"


def _each_unit(body: str) -> str:
    """`body` for every unit j < n and member k < kb, the members innermost (contiguous, vectorisable)."""
    return f"for j in range(n):\n    for k in range(kb):\n        {body}"


_names = {f"F{i}": a.f for i, a in enumerate(ELEMENTWISE)} | {f"D{i}": a.df for i, a in enumerate(ELEMENTWISE)}
_names |= {f"P{i}": a.dparam for i, a in enumerate(ELEMENTWISE) if a.dparam}
_names |= {f"R{i}": a.f for i, a in enumerate(ROWWISE)} | {f"L{i}": loss.delta for i, loss in enumerate(LOSS_LIST)}
_SLOPE = "slope[j, k]"  # a learned parameter (PReLU's slope): one per unit and member

# a = f(z) over units x members
activate = _dispatch("activate", "z, a, n, kb, p, slope", [
    _each_unit(f"a[j, k] = {_call(f'F{i}', a, 'z[j, k]', _SLOPE)}") for i, a in enumerate(ELEMENTWISE)], _names)

# g (dC/da) becomes dC/dz = g f'(z) in place; with a learned parameter, first glearned += g df/dparam
backward_through = _dispatch("backward_through", "z, g, n, kb, p, slope, glearned", [
    (_each_unit(f"glearned[j, k] += g[j, k] * {_call(f'P{i}', a, 'z[j, k]', _SLOPE)}") + "\n" if a.learned else "")
    + _each_unit(f"g[j, k] = g[j, k] * {_call(f'D{i}', a, 'z[j, k]', _SLOPE)}")
    for i, a in enumerate(ELEMENTWISE)], _names)

# dfz = f'(z) of an elementwise output
output_df = _dispatch("output_df", "z, dfz, n, kb, p", [
    _each_unit(f"dfz[j, k] = {_call(f'D{i}', a, 'z[j, k]')}") for i, a in enumerate(ELEMENTWISE)], _names)

# a = f(z) over each member's whole row of outputs, for the row-wise outputs (softmax)
rowwise_output = _dispatch("rowwise_output", "z, a, n, kb", [
    f"for k in range(kb):\n    a[:n, k] = R{i}(z[:n, k].copy())" for i in range(len(ROWWISE))], _names)

# d = dL/dz of the output by the registry's delta: one output at a time, or each member's row for softmax
_ROW = "z[:n, k].copy(), a[:n, k].copy(), y[:n, k].copy(), dfz[:n, k].copy()"  # one member's outputs
loss_delta = _dispatch("loss_delta", "z, a, y, dfz, d, n, kb, rowwise", [
    f"if rowwise:\n    for k in range(kb):\n        d[:n, k] = L{i}({_ROW})\nelse:\n"
    + textwrap.indent(_each_unit(f"d[j, k] = L{i}(z[j, k], a[j, k], y[j, k], dfz[j, k])"), "    ")
    for i in range(len(LOSS_LIST))], _names)


CODES = {a.name: i for i, a in enumerate(ELEMENTWISE)} | {a.name: N_ELEMENTWISE + i for i, a in enumerate(ROWWISE)}
LOSS_CODES = {loss.name: i for i, loss in enumerate(LOSS_LIST)}

# --- the update rules (optimizers.py), by code: rule_update(code, F, g, S1, S2, rate, t, args, n, kb, c1, c2)
# steps every parameter q < n of every member k < kb: F, g, S1, S2 are (n, kb), rate and t (kb,), args the
# rule's arguments in its signature's order after (p, g, s1, s2, lr, c1, c2); its per_step factors of t are
# worked out once per member into c1, c2 (kb,) first.
RULES = list(OPTIMIZERS.values())
RULE_CODES = {rule.name: i for i, rule in enumerate(RULES)}
SGD = RULE_CODES["sgd"]  # the kernels update in place for it, with no state
if optimizers.SLOTS != 2:
    raise ImportError(f"the kernels carry 2 state slots, and a registered rule keeps {optimizers.SLOTS}")


def rule_arguments(rule) -> tuple[str, ...]:
    return tuple(inspect.signature(rule.step).parameters)[7:]


MAX_RULE_ARGS = max([1] + [len(rule_arguments(r)) for r in RULES])
_rule_names = {f"U{i}": r.step for i, r in enumerate(RULES)} | {f"C{i}": r.per_step for i, r in enumerate(RULES)
                                                               if r.per_step}


def _factors(i: int, rule) -> str:
    """Source setting c1[k], c2[k]: the rule's per_step of t[k], or 1 for a rule without one."""
    args = "".join(f", a[{j}]" for j in range(len(rule_arguments(rule))))
    return f"c1[k], c2[k] = C{i}(t[k]{args})" if rule.per_step else "c1[k], c2[k] = 1.0, 1.0"


rule_update = _dispatch("rule_update", "F, g, S1, S2, rate, t, a, n, kb, c1, c2", [
    f"for k in range(kb):\n    {_factors(i, rule)}\n"
    "for q in range(n):\n    for k in range(kb):\n        "
    f"F[q, k], S1[q, k], S2[q, k] = U{i}(F[q, k], g[q, k], S1[q, k], S2[q, k], rate[k], c1[k], c2[k]"
    + "".join(f", a[{j}]" for j in range(len(rule_arguments(rule)))) + ")"
    for i, rule in enumerate(RULES)], _rule_names)

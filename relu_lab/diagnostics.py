"""What happens inside the network, measured per layer at every logged epoch.

Layers are numbered 1..L by weight matrix; hidden layer l is the output of W_l.
For every member (arrays of shape (K,)):

    dead_L{l}      share of hidden units that pass no gradient on any training
                   sample: f'(z) = 0 for every sample (for ReLU, z <= 0 everywhere;
                   a leaky unit is never dead, a saturated tanh one can be)
    sparsity_L{l}  share of exact zeros among the hidden layer's outputs
    identical_L{l} 1 when every unit of hidden layer l has the same incoming weights, bias
                   (and learned slope) as its first, within 1e-9 of the largest: the units
                   compute one function (zero initialisation never breaks that symmetry);
                   NaN for a layer of one unit
    grad_L{l}      Frobenius norm of dC/dW_l on the full training set
    wnorm_L{l}     Frobenius norm of W_l
    slope_L{l}     mean learned slope of a PReLU layer
    act_mean_L{l}  mean of hidden layer l's outputs over the training samples and its units
    act_std_L{l}   their standard deviation (Glorot and Bengio 2010, figure 2)
    saturated_L{l} share of hidden layer l's outputs where |f'(z)| is below 1 % of the largest |f'|
                   (sigmoid and tanh pinned at their bounds; for ReLU the outputs at 0)
"""

from __future__ import annotations

import re

import numpy as np

from .activations import SATURATED, Activation, peak_slope
from .engines import Pass
from .network import Ensemble
from .tally import Tally

# The one place that knows how a diagnostic column is named: kind, then the 1-based layer.
COLUMN = re.compile(r"(dead|sparsity|identical|grad|wnorm|slope|act_mean|act_std|saturated)_L(\d+)")
VANISHING_RATIO = 1e-4  # grad_L1 / grad_LL below this: gradients vanish towards the input


def is_diagnostic(column: str) -> bool:
    """Whether a metrics column is a per-layer diagnostic (dead_L1, grad_L3, ...)."""
    return COLUMN.fullmatch(column) is not None


def diagnostic_names(layers: list[int], learned_layers: set[int], output_can_die: bool = False) -> list[str]:
    """Column names, in a fixed order, for a net with these sizes; `learned_layers` are 1-based.

    The output layer gets dead/sparsity columns too when its activation has zero slope
    for z <= 0 (a ReLU output, seed 002): then a dead output means a net that never moves.
    """
    L = len(layers) - 1
    names = []
    for l in range(1, L + 1):
        if l < L or output_can_die:
            names += [f"dead_L{l}", f"sparsity_L{l}"]
        if l < L:
            names += [f"identical_L{l}", f"act_mean_L{l}", f"act_std_L{l}", f"saturated_L{l}"]
        names += [f"grad_L{l}", f"wnorm_L{l}"]
        if l in learned_layers:
            names.append(f"slope_L{l}")
    return names


def diagnose(net: Ensemble, p: Pass, names: list[str]) -> dict:
    """The diagnostics of every member from an engine's pass over the training set (engines.Pass)."""
    dW = net._views(p.grad, net._shapes)[0 : 2 * len(net.W) : 2]
    out = {}
    for l in range(1, len(net.W) + 1):
        if f"dead_L{l}" in names:
            # a member whose layer holds NaN or inf has no meaningful dead share: null, not 0
            known = p.finite[l - 1]
            out[f"dead_L{l}"] = np.where(known, np.mean(p.silent[l - 1], axis=-1), np.nan)
            out[f"sparsity_L{l}"] = np.where(known, p.zero_share[l - 1], np.nan)
        if f"identical_L{l}" in names:
            out[f"identical_L{l}"] = _identical(net, l - 1)
        if f"act_mean_L{l}" in names:
            known = p.finite[l - 1]
            for kind, values in (("act_mean", p.act_mean), ("act_std", p.act_std), ("saturated", p.saturated)):
                out[f"{kind}_L{l}"] = np.where(known, values[l - 1], np.nan)
        out[f"grad_L{l}"] = np.sqrt(np.sum(dW[l - 1] ** 2, axis=(1, 2)))
        out[f"wnorm_L{l}"] = np.sqrt(np.sum(net.W[l - 1] ** 2, axis=(1, 2)))
        if f"slope_L{l}" in names:
            out[f"slope_L{l}"] = (net.learned[l - 1].mean(axis=(1, 2)) if l - 1 in net.learned
                                  else np.full(net.K, np.nan))
    return {k: out[k] for k in names}


IDENTICAL_TOLERANCE = 1e-9  # relative to the layer's largest incoming parameter (or 1)


def _identical(net: Ensemble, l: int) -> np.ndarray:
    """Per member: 1.0 when all units after weight matrix l share incoming weights, bias and learned
    slope (each unit is a column of this stack), 0.0 when two differ, NaN when a value is not finite or the
    layer has one unit."""
    if net.W[l].shape[2] < 2:  # one unit: "all identical" says nothing
        return np.full(net.K, np.nan)
    stack = [net.W[l], net.b[l]] + ([net.learned[l]] if l in net.learned else [])
    v = np.concatenate(stack, axis=1)  # (K, fan_in + 1 [+ 1], units)
    with np.errstate(invalid="ignore"):
        spread = np.max(np.abs(v - v[:, :, :1]), axis=(1, 2))
        size = np.maximum(np.max(np.abs(v), axis=(1, 2)), 1.0)
        return np.where(np.isfinite(size), (spread <= IDENTICAL_TOLERANCE * size).astype(float), np.nan)


def can_die(act: Activation) -> bool:
    """Whether the activation passes no gradient for z < 0 (ReLU), so that a unit can die."""
    return act.elementwise and act.learned is None and float(act.df(np.array([-1.0]))[0]) == 0.0


def saturates(act: Activation, params: dict | None = None) -> bool:
    """Whether the activation flattens out at both ends (sigmoid, tanh, softsign, hard_tanh): |f'| below 1 % of
    its peak at z = -20 and z = +20. Such a unit never dies, but saturates; one that can die (relu6) is said
    to die."""
    if not act.elementwise or can_die(act):
        return False
    params = {**act.params, **(params or {})}
    below = SATURATED * peak_slope(act.df, params)
    with np.errstate(all="ignore"):
        ends = np.abs(np.asarray(act.df(np.array([-20.0, 20.0]), **params), dtype=float))
    return bool(np.all(ends < below))


def warnings_for(epochs: list[int], metrics: list[dict], layers: list[int], k: int = 0) -> list[str]:
    """The warnings of member k from its logged rows (see `warnings_of`)."""
    tally = Tally()
    for epoch, row in zip(epochs, metrics):
        tally.add(epoch, row)
    return warnings_of(tally, layers, k)


def warnings_of(tally: Tally, layers: list[int], k: int = 0) -> list[str]:
    """Warnings a user would want about member k, from the tally of its logged rows with a finite cost.

    Units that died (a dead_L column above 0 at the end), e.g.
    "layer 2: 17 of 20 units dead since epoch 40"; a hidden layer whose units all
    ended identical; and gradients that vanish towards the input: the largest
    gradient norm layer 1 received during the run below 1e-4 times the largest the
    last layer received.
    """
    out = []
    if tally.last_ok is None or tally.last_ok[k] < 0:  # no row with a finite cost
        return out
    L = len(layers) - 1
    for l in range(1, L + 1):
        key = f"dead_L{l}"
        if key not in tally.dead or tally.dead_known[key][k] < 0:  # no such column, or NaN from the start
            continue
        count = int(round(float(tally.dead[key][k]) * layers[l]))
        if count == 0:
            continue
        since = int(tally.dead_since[key][k])
        where = "from the start" if since == tally.first_ok[k] else f"since epoch {since}"
        if tally.dead_known[key][k] != tally.last_ok[k]:
            where += f" (last known at epoch {tally.dead_known[key][k]}, before the run diverged)"
        what = "output" if l == L else f"layer {l}"
        out.append(f"{what}: {count} of {layers[l]} units dead {where}")
    for l in range(1, L):
        identical = tally.identical.get(f"identical_L{l}")  # NaN for a layer of one unit
        if identical is not None and float(identical[k]) == 1.0:
            out.append(f"layer {l}: all {layers[l]} units are identical (one function; the symmetry of equal "
                       "initial weights was never broken)")
    first, last = "grad_L1", f"grad_L{L}"
    if L > 1 and first in tally.grad_max:
        top_first, top_last = float(tally.grad_max[first][k]), float(tally.grad_max[last][k])
        if top_last > 0 and top_first / top_last < VANISHING_RATIO:
            out.append(f"vanishing gradient: layer 1's largest gradient norm was {top_first / top_last:.1e} times "
                       f"layer {L}'s")
    return out

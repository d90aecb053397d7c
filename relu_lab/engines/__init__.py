"""Engines: what runs the SGD steps between two log points.

Both engines take the same inputs (the ensemble's flat `(K, P)` parameters, a `Plan` of
the phase, each member's sample order drawn in Python by its own Generator, per-member
learning rates) and differ only in the order of floating-point sums:

    numpy     the reference: batched matmuls over the member axis (numpy_engine.py)
    compiled  a numba kernel, one call per log interval, members in blocks on threads
              (compiled.py; the registries' functions compiled for it in scalar.py)

Each also evaluates, at the log points: `evaluate_pass(net, X, Y, loss, reduction, inside) -> Pass`
runs every member over a whole set (and, with `inside`, gathers what the diagnostics need).

`steps(net, X, Y, plan, orders, epochs, lr, alive) -> dead_at` trains `epochs` epochs in
place: `lr` (K,) is multiplied by the phase's decay after every epoch, a member whose last
weight matrix stops being finite is frozen (`alive[k] = False`, `dead_at[k]` = the epoch
within the call, 1-based; 0 for the others). Only `compiled` imports numba, on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..losses import Loss
from ..optimizers import OPTIMIZERS, Optimizer

ENGINES = {"numpy": "numpy_engine", "compiled": "compiled"}  # name -> module with `steps`
CHOICES = ("auto", *ENGINES)
# Called with one line before a long pause the user should know about (the first compile); the CLI
# sets it to print, the library stays silent.
notify: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Plan:
    """What stays fixed over a phase."""

    loss: Loss
    reduction: str
    batch: int  # samples per step (the last step of an epoch may have fewer)
    decay: np.ndarray  # (K,) lr factor per epoch
    clip: float | None
    weight_decay: float
    clipped: np.ndarray | None = None  # (K,) int: steps whose gradient the clip scaled down, counted in place
    l1: float = 0.0  # L1 penalty on the weights
    rule: Optimizer = OPTIMIZERS["sgd"]  # the update rule, and its arguments
    rule_args: dict = field(default_factory=dict)


@dataclass
class Pass:
    """Every member over a whole set, for the figures of a log point; per layer l (the output of W_l):"""

    z: np.ndarray  # (K, n, outputs): the output's pre-activation
    a: np.ndarray  # (K, n, outputs): the output
    silent: list[np.ndarray] | None = None  # (K, units) each: f'(z) = 0 on every sample (the unit passes no gradient)
    zero_share: list[np.ndarray] | None = None  # (K,) each: share of the layer's outputs that are exactly 0
    finite: list[np.ndarray] | None = None  # (K,) each: whether every z of the layer is finite
    grad: np.ndarray | None = None  # (K, P): the gradient of the cost over the whole set, laid out like `flat`
    # per hidden layer, over its samples x units: the outputs' mean and standard deviation, and the share
    # saturated, |f'(z)| below Ensemble.saturated_below[l] (NaN where that threshold is unknown)
    act_mean: list[np.ndarray] | None = None  # (K,) each
    act_std: list[np.ndarray] | None = None
    saturated: list[np.ndarray] | None = None


def load(name: str):
    """The engine module `name`, ready to run (the compiled one's kernels loaded, or compiled the first time)."""
    module = importlib.import_module(f".{ENGINES[name]}", __name__)
    if hasattr(module, "warm"):
        module.warm()
    return module

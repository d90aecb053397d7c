"""Loss functions: one registry, each value next to its gradient.

Shapes: `z`, `a` and `y` are `(K, n, outputs)` (pre-activation, output, target).
`value` returns the per-sample loss `(K, n)`; `delta(z, a, y, dfz)` returns dL/dz
per sample `(K, n, outputs)`, given `dfz` = f'(z) of the output activation (None
for the losses that pair with a fixed output and do not need it). The deltas
are elementwise but for `rowsum`, so the compiled engine runs the same
functions on one output at a time. Losses that pair with a fixed output activation
(sigmoid + bce, softmax + cross-entropy) are computed from the logit `z`, which
keeps them finite and their delta simply `a - y` (scikit-learn's pairing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import Activation, rowmax, rowsum, softplus

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    name: str
    value: Callable[[Array, Array, Array], Array]
    delta: Callable[[Array, Array, Array, Array | None], Array]
    formula: str
    outputs: tuple[str, ...] | None = None  # output activations it requires; None: any elementwise one

    def __repr__(self) -> str:
        return f"Loss({self.name}: {self.formula})"

    @property
    def needs_df(self) -> bool:
        """Whether `delta` uses f'(z) of the output (not for the fixed pairings, whose delta is a - y)."""
        return self.outputs is None


def mse(z, a, y):
    return np.sum((a - y) ** 2, axis=-1)


def dmse(z, a, y, dfz):
    return 2.0 * (a - y) * dfz


def half_mse(z, a, y):
    return 0.5 * np.sum((a - y) ** 2, axis=-1)


def dhalf_mse(z, a, y, dfz):
    return (a - y) * dfz


def bce(z, a, y):
    # -y log s(z) - (1-y) log(1 - s(z)) = softplus(z) - y z, finite for any z.
    return np.sum(softplus(z) - y * z, axis=-1)


def dbce(z, a, y, dfz):
    return a - y  # a = sigmoid(z)


def cross_entropy(z, a, y):
    # -sum_i y_i log softmax(z)_i = logsumexp(z) - sum_i y_i z_i
    m = rowmax(z)
    lse = m[..., 0] + np.log(np.sum(np.exp(z - m), axis=-1))
    return np.sum(y, axis=-1) * lse - np.sum(y * z, axis=-1)


def dcross_entropy(z, a, y, dfz):
    return a * rowsum(y) - y  # a = softmax(z); = a - y for one-hot y


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in [
        Loss("mse", mse, dmse, "L = sum_o (a_o - y_o)^2"),
        Loss("half_mse", half_mse, dhalf_mse, "L = 1/2 sum_o (a_o - y_o)^2 (seed 004's backprop)"),
        Loss("bce", bce, dbce, "L = -y log a - (1-y) log(1-a), a = sigmoid(z)", outputs=("sigmoid",)),
        Loss(
            "cross_entropy",
            cross_entropy,
            dcross_entropy,
            "L = -sum_i y_i log softmax(z)_i",
            outputs=("softmax",),
        ),
    ]
}


def output_fits(loss: Loss, output: Activation) -> bool:
    """Whether `output` may end a network trained with `loss`."""
    if loss.outputs is not None:
        return output.name in loss.outputs
    return output.elementwise


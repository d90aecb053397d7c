"""An ensemble of K multilayer perceptrons stored as stacked NumPy arrays.

Layer `l` maps `a_l` to `z_{l+1} = a_l W_l + b_l`, `a_{l+1} = f_l(z_{l+1})`.
Shapes, with K members, n samples and layer sizes `layers`:

    W[l]        (K, layers[l], layers[l+1])
    b[l]        (K, 1, layers[l+1])
    learned[l]  (K, 1, layers[l+1])   a learned activation parameter (PReLU slope)
    X           (n, inputs) shared by all members, or (K, n, inputs) per member

There is no Python loop over members: every operation is one batched matmul or
elementwise expression over the leading axis K.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from .activations import SATURATED, Activation, peak_slope
from .initializers import INITIALIZERS
from .losses import Loss
from .optimizers import SLOTS


@dataclass(frozen=True)
class Act:
    """An activation bound to its fixed parameters (e.g. leaky_relu with slope 0.1)."""

    fn: Activation
    params: dict

    @property
    def name(self) -> str:
        return self.fn.name


class Ensemble:
    """K networks with the same layer sizes and activations.

    All parameters of a member live in one row of `flat` `(K, P)`; `W`, `b` and
    `learned` are views into it, so one SGD update is a single array operation.
    """

    def __init__(self, W: list[np.ndarray], b: list[np.ndarray], hidden: list[Act], output: Act):
        self.output = output
        self._output_df = partial(output.fn.df, **output.params) if output.fn.df else None
        self._ones = np.ones((1, 0))
        self.hidden: list[Act] = []
        self.learned: dict[int, np.ndarray] = {}
        # an update rule's per-parameter state (optimizers.py), laid out like `flat`, one array per slot; made on
        # first use (plain SGD keeps none) and re-laid with the parameters when a phase adds a learned slope
        self.slots: np.ndarray | None = None  # (SLOTS, K, P)
        self.steps = np.zeros(len(W[0]), dtype=np.int64)  # the rule's step count t per member
        self._pack(W, b, {})
        self.set_hidden(hidden)

    def optimizer_state(self) -> np.ndarray:
        """The slots, made (zeros) on first use."""
        if self.slots is None:
            self.slots = np.zeros((SLOTS, *self.flat.shape))
        return self.slots

    def reset_optimizer(self) -> None:
        """A new update rule starts afresh: no state, step count 0."""
        self.slots = None
        self.steps[...] = 0

    def _pack(self, W: list[np.ndarray], b: list[np.ndarray], learned: dict[int, np.ndarray]) -> None:
        """Copy the arrays into a fresh flat buffer and point W, b, learned at views of it."""
        arrays = [p for pair in zip(W, b) for p in pair] + [learned[l] for l in sorted(learned)]
        K = W[0].shape[0]
        self.flat = np.empty((K, sum(a[0].size for a in arrays)))
        views = self._views(self.flat, [a.shape[1:] for a in arrays])
        for view, a in zip(views, arrays):
            view[...] = a
        L = len(W)
        self.W, self.b = views[0 : 2 * L : 2], views[1 : 2 * L : 2]
        self.learned = dict(zip(sorted(learned), views[2 * L :]))
        self._shapes = [a.shape[1:] for a in arrays]
        # one gradient buffer, reused by every step, and its views (building views costs time)
        self._grad = np.empty_like(self.flat)
        self._grad_views = self._views(self._grad, self._shapes)
        self._dlearned = dict(zip(sorted(learned), self._grad_views[2 * L :]))
        # 1 where the flat entry is a weight (not a bias or learned slope): weight decay applies there
        self.weight_mask = np.concatenate([np.full(int(np.prod(s)), float(i < 2 * L and i % 2 == 0))
                                           for i, s in enumerate(self._shapes)])

    @staticmethod
    def _views(flat: np.ndarray, shapes: list[tuple]) -> list[np.ndarray]:
        out, off = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            out.append(flat[:, off : off + size].reshape((flat.shape[0], *shape)))
            off += size
        return out

    @property
    def offsets(self) -> np.ndarray:
        """Where each array of `parameters()` (W0, b0, W1, b1, ..., learned) starts in a row of `flat`."""
        return np.cumsum([0] + [int(np.prod(s)) for s in self._shapes[:-1]])

    @property
    def K(self) -> int:
        return self.W[0].shape[0]

    @property
    def layers(self) -> list[int]:
        return [self.W[0].shape[1]] + [w.shape[2] for w in self.W]

    def __repr__(self) -> str:
        acts = ", ".join(a.name for a in self.hidden)
        return f"Ensemble(K={self.K}, layers={self.layers}, hidden=[{acts}], output={self.output.name})"

    @classmethod
    def create(
        cls,
        layers: list[int],
        rngs: list[np.random.Generator],
        hidden: list[Act],
        output: Act,
        init: str = "he",
        scale: float = 1.0,
        bias_init: str = "zeros",
    ) -> Ensemble:
        """Draw each member's weights from its own generator (one per member)."""
        draw = INITIALIZERS[init].draw
        K, L = len(rngs), len(layers) - 1
        W = [np.empty((K, layers[l], layers[l + 1])) for l in range(L)]
        b = [np.zeros((K, 1, layers[l + 1])) for l in range(L)]
        for k, rng in enumerate(rngs):  # initialisation only, not the training loop
            for l in range(L):
                W[l][k] = draw(rng, (layers[l], layers[l + 1]), scale)
                if bias_init == "like_weights":
                    # seed 004 draws biases like weights: a row of the same distribution
                    b[l][k, 0] = draw(rng, (1, layers[l + 1]), scale)[0]
        return cls(W, b, hidden, output)

    def state(self) -> dict[str, np.ndarray]:
        """Every parameter array by name (W0, b0, ..., learned0, ...), for np.savez."""
        out = {f"W{l}": w for l, w in enumerate(self.W)} | {f"b{l}": b for l, b in enumerate(self.b)}
        return out | {f"learned{l}": v for l, v in self.learned.items()}

    @classmethod
    def from_state(cls, state, hidden: list[Act], output: Act) -> Ensemble:
        """The ensemble saved by `state()`, with the activations it was trained with last."""
        L = sum(1 for k in state if k.startswith("W"))
        net = cls([np.array(state[f"W{l}"]) for l in range(L)], [np.array(state[f"b{l}"]) for l in range(L)],
                  hidden, output)
        for l in net.learned:
            net.learned[l][...] = state[f"learned{l}"]
        return net

    def set_hidden(self, hidden: list[Act]) -> None:
        """Switch hidden activations (a new phase); learned parameters start at their default."""
        if len(hidden) != len(self.W) - 1:
            raise ValueError(f"{len(hidden)} hidden activations for {len(self.W) - 1} hidden layers")
        learned = {}
        for l, act in enumerate(hidden):
            if act.fn.learned:
                keep = self.learned.get(l)
                same = l < len(self.hidden) and self.hidden[l].fn is act.fn
                start = act.params.get(act.fn.learned, act.fn.params[act.fn.learned])
                learned[l] = keep if same and keep is not None else np.full((self.K, 1, self.W[l].shape[2]), start)
        self.hidden = list(hidden)
        if learned.keys() != self.learned.keys() or any(learned[l] is not self.learned[l] for l in learned):
            kept = {l for l in learned if learned[l] is self.learned.get(l)}
            before = self._slot_views(kept)
            self._pack(self.W, self.b, learned)
            self._relay_slots(before)
        # Each layer's functions with their parameters bound once, not per step. A learned
        # parameter is bound as its view into `flat`, which SGD updates in place.
        params = [self._params(l, act) for l, act in enumerate(self.hidden)]
        self._f = [partial(act.fn.f, **p) for act, p in zip(self.hidden, params)]
        self._f.append(partial(self.output.fn.f, **self.output.params))
        self._df = [partial(act.fn.df, **p) for act, p in zip(self.hidden, params)]
        self._dparam = {l: partial(self.hidden[l].fn.dparam, **params[l]) for l in self.learned}
        # |f'(z)| below this is saturated (a share of the largest |f'|, the fixed parameters'; a learned slope at its
        # starting value): the diagnostics' saturated_L columns
        self.saturated_below = [SATURATED * peak_slope(act.fn.df, {**act.fn.params, **act.params}) for act in hidden]

    def _slot_views(self, kept: set[int]) -> dict[tuple[str, int, int], np.ndarray] | None:
        """The slots' parts by (kind, layer, slot): W and b of every layer, the learned slopes of the layers `kept`."""
        if self.slots is None:
            return None
        L, out = len(self.W), {}
        for j, slot in enumerate(self.slots):
            views = self._views(slot, self._shapes)
            for l in range(L):
                out[("W", l, j)], out[("b", l, j)] = views[2 * l], views[2 * l + 1]
            for i, l in enumerate(sorted(self.learned)):
                if l in kept:
                    out[("learned", l, j)] = views[2 * L + i]
        return out

    def _relay_slots(self, before: dict | None) -> None:
        """Lay the slots out like the new `flat`: each parameter keeps its state; a new learned slope starts at 0."""
        if before is None:
            return
        self.slots = np.zeros((SLOTS, *self.flat.shape))
        L = len(self.W)
        names = [(kind, l) for l in range(L) for kind in ("W", "b")] + [("learned", l) for l in sorted(self.learned)]
        for j, slot in enumerate(self.slots):
            for view, (kind, l) in zip(self._views(slot, self._shapes), names):
                if (kind, l, j) in before:
                    view[...] = before[(kind, l, j)]

    def _params(self, l: int, act: Act) -> dict:
        if l in self.learned:
            return {**act.params, act.fn.learned: self.learned[l]}
        return act.params

    def derivative(self, l: int, z: np.ndarray) -> np.ndarray:
        """f'(z) of the activation after weight matrix l (0-based; the last is the output's)."""
        return self._df[l](z) if l < len(self._df) else self._output_df(z)

    def forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations `zs` and activations `as_` (as_[0] is X) of every layer."""
        zs, as_ = [], [X]
        a = X
        for W, b, f in zip(self.W, self.b, self._f):
            z = a @ W
            z += b
            a = f(z)
            zs.append(z)
            as_.append(a)
        return zs, as_

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Network outputs `(K, n, outputs)`."""
        return self.forward(X)[1][-1]

    def cost(self, X: np.ndarray, Y: np.ndarray, loss: Loss, reduction: str = "mean") -> np.ndarray:
        """The cost of each member `(K,)` on (X, Y)."""
        zs, as_ = self.forward(X)
        per_sample = loss.value(zs[-1], as_[-1], Y)
        return per_sample.mean(axis=-1) if reduction == "mean" else per_sample.sum(axis=-1)

    def parameters(self) -> list[np.ndarray]:
        """Every trained array, in the order `gradients` returns them: W0, b0, W1, b1, ..., learned."""
        out = [p for pair in zip(self.W, self.b) for p in pair]
        return out + [self.learned[l] for l in sorted(self.learned)]

    def gradients(
        self, X: np.ndarray, Y: np.ndarray, loss: Loss, reduction: str = "mean"
    ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Costs `(K,)`, gradients in `parameters()` order, and the pre-activations zs."""
        zs, as_ = self.forward(X)
        per_sample = loss.value(zs[-1], as_[-1], Y)
        costs = per_sample.mean(axis=-1) if reduction == "mean" else per_sample.sum(axis=-1)
        grad = self.backward(zs, as_, Y, loss, reduction).copy()
        return costs, self._views(grad, self._shapes), zs

    def backward(self, zs, as_, Y: np.ndarray, loss: Loss, reduction: str = "mean") -> np.ndarray:
        """Backpropagation into one flat gradient `(K, P)`, laid out like `flat`.

        delta_l = dC/dz_l; dC/dW_{l-1} = a_{l-1}^T delta_l; dC/da_{l-1} = delta_l W_{l-1}^T.
        The returned buffer is reused by the next call: consume it (or copy it) first.
        """
        L = len(self.W)
        dfz = self._output_df(zs[-1]) if loss.needs_df else None
        delta = loss.delta(zs[-1], as_[-1], Y, dfz)
        n = delta.shape[-2]
        if reduction == "mean" and n > 1:
            delta /= n
        grad, views = self._grad, self._grad_views
        dlearned = self._dlearned
        if self._ones.shape[1] != n:
            self._ones = np.ones((1, n))  # db = 1^T delta: a matmul beats np.sum over a short middle axis
        ones = self._ones
        for l in range(L - 1, -1, -1):
            np.matmul(as_[l].mT, delta, out=views[2 * l])
            np.matmul(ones, delta, out=views[2 * l + 1])
            if l == 0:
                break
            g = delta @ np.ascontiguousarray(self.W[l].mT)  # dC/da for the hidden layer below
            if l - 1 in dlearned:
                np.sum(g * self._dparam[l - 1](zs[l - 1]), axis=-2, keepdims=True, out=dlearned[l - 1])
            delta = np.multiply(g, self._df[l - 1](zs[l - 1]), out=g)
        return grad

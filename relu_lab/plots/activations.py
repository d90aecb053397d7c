"""Every registered activation and its derivative, and seed 004's differences of shifted rectifiers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..activations import ACTIVATIONS, relu, sigmoid, softplus
from ..errors import UserError, did_you_mean
from .style import COLORS, break_jumps, plt, save


def plot_activations(names: list[str] | None, path: str | Path) -> Path:
    """Panels of f and f' over z in [-4, 4] for registered activations (all when `names` is empty),
    plus one panel comparing (ReLU(z+2) - ReLU(z-2))/4 and (softplus(z+2) - softplus(z-2))/4 with
    the sigmoid (seed 004: a difference of two shifted rectifiers looks like a sigmoid)."""
    names = list(dict.fromkeys(names or ACTIVATIONS))
    for n in names:
        if n not in ACTIVATIONS:
            raise UserError(did_you_mean("activation", n, ACTIVATIONS))
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give a file name such as {path / 'activations.png'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{path.parent}: cannot create the directory ({err.strerror or err})") from None
    z = np.linspace(-4, 4, 801)
    n_panels = len(names) + 1
    ncols = min(4, n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig = plt.figure(figsize=(3.6 * ncols, 3.0 * nrows), layout="constrained")
    gs = fig.add_gridspec(nrows, ncols)
    axes = [fig.add_subplot(gs[i // ncols, i % ncols]) for i in range(len(names))]
    row, col = divmod(len(names), ncols)
    span = 2 if ncols - col >= 2 else 1  # the comparison panel is wider when the last row has room
    extra = fig.add_subplot(gs[row, col : col + span])
    for ax, name in zip(axes, names):
        act = ACTIVATIONS[name]
        with np.errstate(all="ignore"):
            if act.elementwise:
                f = act.f(z, **act.params)
                df = act.df(z, **act.params) if act.df is not None else np.gradient(f, z)
                title = name
            else:  # softmax: the first of two outputs for logits (z, 0), which is sigmoid(z)
                f = act.f(np.stack([z, np.zeros_like(z)], axis=-1))[:, 0]
                df = np.gradient(f, z)
                title = f"{name} of (z, 0), first output"
        params = ", ".join(f"{k}={v:g}" for k, v in act.params.items())
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.plot(z, f, color=COLORS[0], lw=2, label="f(z)")
        numerical = act.df is None or not act.elementwise
        ax.plot(z, break_jumps(df), "--", color=COLORS[3], lw=1.6,
                label="f'(z)" + (" (numerical)" if numerical else ""))
        ax.set_title(title + (f" ({params})" if params else ""), fontsize=10)
        ax.set_xlabel("z", fontsize=9)
        ax.set_ylabel("f(z), f'(z)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    ax = extra
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.plot(z, sigmoid(z), color="black", lw=2, label="sigmoid(z)")
    ax.plot(z, (relu(z + 2) - relu(z - 2)) / 4, color=COLORS[0], lw=1.8, label="[ReLU(z+2) - ReLU(z-2)] / 4")
    ax.plot(z, (softplus(z + 2) - softplus(z - 2)) / 4, "--", color=COLORS[2], lw=1.8,
            label="[softplus(z+2) - softplus(z-2)] / 4")
    ax.set_title("Differences of shifted rectifiers vs sigmoid", fontsize=10)
    ax.set_xlabel("z", fontsize=9)
    ax.set_ylabel("value", fontsize=9)
    ax.set_ylim(-0.1, 1.25)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Activation functions f (solid) and derivatives f' (dashed) with default parameters")
    return save(fig, path)

"""The trained net over its input space: decision regions for 2-D classification, the fitted
curve (with each ReLU unit's kink) for 1-D regression."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap, TwoSlopeNorm, to_rgb
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from .style import COLORS, class_colours, class_labels, plt, save

GRID_POINTS = 250  # per side of the input plane in decision_boundary.png
RELU_FAMILY = {"relu", "leaky_relu", "prelu"}  # piecewise linear: one kink per unit at z = 0


def plane(X: np.ndarray, n: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """A grid over the data's bounding box with 10 % padding: (xx, yy, extent)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.maximum(0.15 * (hi - lo), 0.1)
    lo, hi = lo - pad, hi + pad
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, (lo[0], hi[0], lo[1], hi[1])


def input_labels(ax, cfg) -> None:
    suffix = " (standardised)" if cfg.data.normalize else ""
    ax.set_xlabel("$x_1$" + suffix)
    ax.set_ylabel("$x_2$" + suffix)


def decision_boundary(run_dir: Path, name: str, cfg, data, net) -> Path:
    fig, ax = plt.subplots(figsize=(6.8, 5.6), layout="constrained")
    draw_boundary(fig, ax, cfg, data, net)
    acc = _accuracy(net, data.X, data.Y, data.task)
    hidden = "-".join(map(str, cfg.model.layers))
    ax.set_title(f"{name}: decision boundary\n{hidden} net, train accuracy {acc:.1%}", fontsize=11)
    return save(fig, run_dir / "decision_boundary.png")


def output_span(data, nets, points: int = GRID_POINTS) -> tuple[float, float]:
    """The range of a one-output net's output over the input plane, over all of `nets` (an animation's
    frames): one colour scale for every frame."""
    xx, yy, _ = plane(data.X, points)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    lo, hi = np.inf, -np.inf
    for net in nets:
        with np.errstate(all="ignore"):
            out = net.predict(grid)[0][:, 0]
        out = out[np.isfinite(out)]
        if out.size:
            lo, hi = min(lo, float(out.min())), max(hi, float(out.max()))
    return (lo, hi) if lo <= hi else (0.0, 1.0)


def draw_boundary(fig, ax, cfg, data, net, colorbar: bool = True, points: int = GRID_POINTS,
                  span: tuple[float, float] | None = None) -> None:
    """The net's output over the input plane (`points` per side), its 0.5 contour or class regions,
    and the data. `span`: the output range to colour by (output_span), instead of this net's own."""
    xx, yy, extent = plane(data.X, points)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    with np.errstate(all="ignore"):
        out = net.predict(grid)[0]
    dot = marker_size(len(data.X))
    if data.task == "binary":
        z = out[:, 0].reshape(xx.shape)
        finite = z[np.isfinite(z)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if span is not None:
            lo, hi = span
        if lo >= 0 and hi <= 1:
            norm = TwoSlopeNorm(vcenter=0.5, vmin=0.0, vmax=1.0)
        else:
            norm = TwoSlopeNorm(vcenter=0.5, vmin=min(lo, 0.5 - 1e-6), vmax=max(hi, 0.5 + 1e-6))
        im = ax.imshow(z, origin="lower", extent=extent, cmap="RdBu_r", norm=norm, aspect="auto",
                       interpolation="bilinear", alpha=0.85)
        if colorbar:
            fig.colorbar(im, ax=ax, label="network output", shrink=0.9)
        if np.isfinite(z).any() and np.nanmin(z) < 0.5 < np.nanmax(z):
            ax.contour(xx, yy, z, levels=[0.5], colors="black", linewidths=2)
        labels = class_labels(data)
        for k, colour in enumerate(class_colours(data.task, 2)):
            pts = data.X[labels == k]
            ax.scatter(pts[:, 0], pts[:, 1], s=dot, color=colour, edgecolors="black", linewidths=0.5,
                       label=f"label {k} ({len(pts)})")
        handles, names = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="black", lw=2))
        names.append("output = 0.5")
        ax.legend(handles, names, loc="upper right", fontsize=8, framealpha=0.85)
    else:
        C = out.shape[1]
        cls = np.argmax(np.nan_to_num(out), axis=1).reshape(xx.shape)
        conf = np.nan_to_num(out.max(axis=1)).reshape(xx.shape)
        strength = np.clip((conf - 1 / C) / (1 - 1 / C), 0, 1)[..., None]
        colours = class_colours(data.task, C)
        palette = np.array([to_rgb(c) for c in colours])
        rgb = 1 - (1 - palette[cls]) * (0.25 + 0.5 * strength)  # pale where the network is unsure
        ax.imshow(rgb, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
        ax.contour(xx, yy, cls, levels=np.arange(C) + 0.5, colors="black", linewidths=1.5)
        labels = class_labels(data)
        for k in range(C):
            pts = data.X[labels == k]
            ax.scatter(pts[:, 0], pts[:, 1], s=dot, color=colours[k], edgecolors="black", linewidths=0.5,
                       label=f"class {k} ({len(pts)})")
        handles, names = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="black", lw=1.5))
        names.append("class boundary")
        ax.legend(handles, names, loc="upper right", fontsize=8, framealpha=0.85)
        if colorbar:
            bar = fig.colorbar(plt.cm.ScalarMappable(cmap=ListedColormap(palette)), ax=ax, shrink=0.9,
                               label="predicted class (pale: unsure)", ticks=(np.arange(C) + 0.5) / C)
            bar.set_ticklabels([str(k) for k in range(C)])
    _note_if_not_finite(ax, out)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if data.name == "circle":
        ax.set_aspect("equal")
    input_labels(ax, cfg)


def _note_if_not_finite(ax, output: np.ndarray) -> None:
    """Say so on the picture when the network's output is not finite (a diverged run)."""
    bad = ~np.isfinite(output)
    if bad.any():
        share = "" if bad.all() else f" at {bad.mean():.0%} of the grid"
        ax.text(0.5, 0.5, f"network output is not finite{share}\n(the run diverged)", transform=ax.transAxes,
                ha="center", va="center", color="red", fontsize=11, bbox={"facecolor": "white", "alpha": 0.85})


def marker_size(n: int) -> float:
    """Big dots for a handful of points (XOR's four corners), small ones for a cloud."""
    return float(np.clip(3000 / max(n, 1), 14, 90))


def _accuracy(net, X: np.ndarray, Y: np.ndarray, task: str) -> float:
    with np.errstate(all="ignore"):
        a = net.predict(X)[0]
    if task == "multiclass":
        return float(np.mean(a.argmax(-1) == Y.argmax(-1)))
    return float(np.mean((a > 0.5) == (Y > 0.5)))


def fit(run_dir: Path, name: str, cfg, data, net) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    r2 = draw_fit(ax, cfg, data, net)
    layers = "-".join(map(str, cfg.model.layers))
    ax.set_title(f"{name}: fitted curve ({layers} net, train R² = {r2:.3f})")
    return save(fig, run_dir / "fit.png")


def draw_fit(ax, cfg, data, net) -> float:
    """The data, the net's curve (and its ReLU kinks with one hidden layer); returns the train R²."""
    x = data.X[:, 0]
    lo, hi = x.min(), x.max()
    pad = max(0.05 * (hi - lo), 0.05)
    grid = np.linspace(lo - pad, hi + pad, 1000)[:, None]
    with np.errstate(all="ignore"):
        curve = net.predict(grid)[0]
        fitted = net.predict(data.X)[0]
        sse = np.sum((fitted - data.Y) ** 2)
        sst = np.sum((data.Y - data.Y.mean(axis=0)) ** 2)
        r2 = 1 - sse / sst if sst > 0 else math.nan
    for j in range(data.n_outputs):
        tag = f" (output {j + 1})" if data.n_outputs > 1 else ""
        ax.scatter(x, data.Y[:, j], s=12, color="0.45" if j == 0 else COLORS[j % 10], alpha=0.7,
                   label=f"training data{tag} ({len(x)})")
        if data.X_test is not None:
            ax.scatter(data.X_test[:, 0], data.Y_test[:, j], s=12, facecolors="none", edgecolors="0.45",
                       alpha=0.6, label=f"test data{tag} ({len(data.X_test)})")
        ax.plot(grid[:, 0], curve[:, j], color="red", lw=2, label=f"network{tag}")
    hidden = [a.fn.name for a in net.hidden]  # as the net has them (a phase's)
    if len(hidden) == 1 and hidden[0] in RELU_FAMILY:  # one hidden layer: unit k bends at x = -b_k / w_k
        w, b = net.W[0][0, 0], net.b[0][0, 0]
        with np.errstate(all="ignore"):
            kinks = -b / w
        kinks = kinks[np.isfinite(kinks) & (kinks >= grid[0, 0]) & (kinks <= grid[-1, 0])]
        if kinks.size:
            trans = blended_transform_factory(ax.transData, ax.transAxes)
            ax.plot(kinks, np.full(kinks.shape, 0.02), "|", color="red", ms=12, mew=1.5, transform=trans,
                    label=f"kinks of the {hidden[0]} units ({kinks.size})")
    ys = np.concatenate([data.Y.ravel()] + ([] if data.Y_test is None else [data.Y_test.ravel()]))
    span = max(float(ys.max() - ys.min()), 1e-9)
    finite = curve[np.isfinite(curve)]
    if finite.size == 0 or finite.min() < ys.min() - 0.5 * span or finite.max() > ys.max() + 0.5 * span:
        ax.set_ylim(ys.min() - 0.5 * span, ys.max() + 0.5 * span)  # the data, not a runaway extrapolation
    bottom, top = ax.get_ylim()
    if np.isfinite(curve).all() and not ((curve >= bottom) & (curve <= top)).any():
        ax.text(0.5, 0.5, f"network output is off the scale (up to {np.abs(curve).max():.3g})\n"
                "(the run diverged or failed)", transform=ax.transAxes, ha="center", va="center", color="red",
                fontsize=11, bbox={"facecolor": "white", "alpha": 0.85})
    _note_if_not_finite(ax, curve)
    ax.set_xlabel("x" + (" (standardised)" if cfg.data.normalize else ""))
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return r2

"""Pictures of finished runs: learning curves, decision boundaries, fits, sweeps and activations.

Every function reads only what a run directory holds (config.yaml, metrics.csv,
summary.json, params.npz; grid.json, members.csv, summary.csv for grids), writes
PNG files next to them and returns their paths. Figures are drawn with the
non-interactive Agg backend, saved to a temporary name and renamed, so a PNG is
never half-written. Problems with the directory or its files are `UserError`s.

    plot_run(run_dir)            curves.png, decision_boundary.png | fit.png, diagnostics.png
    plot_sweep(run_dir)          sweep.png; compare_curves.png, compare_success.png | compare_cost.png
    plot_activations(names, p)   f and f' of each activation, and two shifted ReLUs / softpluses vs sigmoid
    plot_any(run_dir)            whichever of plot_run and plot_sweep fits the directory
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import ListedColormap, TwoSlopeNorm, to_rgb  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter, NullLocator  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from .activations import ACTIVATIONS, relu, sigmoid, softplus  # noqa: E402
from .diagnostics import COLUMN as DIAGNOSTIC_COLUMN  # noqa: E402
from .errors import UserError, did_you_mean  # noqa: E402
from .runfiles import (  # noqa: E402
    LR_KEYS,
    SweepDir,
    cell_float,
    compare_choices,
    lr_key,
    read_yaml_or_none,
    run_kind,
    short_value,
)
from .runfiles import compare_key as _compare_key  # noqa: E402
from .runfiles import read_json as _read_json  # noqa: E402
from .runfiles import read_rows as _read_rows  # noqa: E402
from .runfiles import score_key as _score_key  # noqa: E402

DPI = 120
GRID_POINTS = 250  # per side of the input plane in decision_boundary.png
COLORS = plt.get_cmap("tab10").colors
RELU_FAMILY = {"relu", "leaky_relu", "prelu"}  # piecewise linear: one kink per unit at z = 0


# --- reading run directories ----------------------------------------------------------------


def _columns(rows: list[dict[str, str]], path: Path) -> dict[str, np.ndarray]:
    """Numeric columns of a metrics.csv; raises UserError when it has no rows."""
    if not rows:
        raise UserError(f"{path}: no logged rows yet")
    return {key: np.array([cell_float(r.get(key)) for r in rows]) for key in rows[0] if key is not None}


def _run_name(run_dir: Path) -> str:
    try:
        name = _read_json(run_dir / "summary.json").get("name")
    except UserError:
        name = None
    return str(name) if name else re.sub(r"^\d{8}-\d{6}-", "", run_dir.name)


def _score_label(score: str) -> str:
    return "R²" if score == "r2" else "accuracy"


# --- saving ---------------------------------------------------------------------------------


def _save(fig, path: Path) -> Path:
    """Write `fig` as a PNG through a temporary file in the same directory, then close it."""
    tmp = path.with_name(f".{path.stem}.tmp.png")
    try:
        fig.savefig(tmp, format="png", dpi=DPI)
        os.replace(tmp, path)
    except OSError as err:
        raise UserError(f"{path}: cannot write the picture: {err.strerror or err}") from None
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
    return path


def palette(n: int) -> list[tuple[float, float, float]]:
    """n distinct colours: tab10, or tab20 (dark shades first) for more than ten lines."""
    if n <= 10:
        return list(COLORS[:n])
    tab20 = plt.get_cmap("tab20").colors
    colours = list(tab20[0::2]) + list(tab20[1::2])
    return [colours[i % 20] for i in range(n)]


def _band_alpha(n_lines: int) -> float:
    return 0.18 if n_lines <= 2 else 0.12 if n_lines <= 5 else 0.07


OFF_SCALE = 1e30  # values beyond this (a run blowing up) are left out of plots: log axes cannot span them


def _on_scale(values: np.ndarray) -> np.ndarray:
    """`values` with NaN where they are not finite or beyond OFF_SCALE (so that axes stay drawable)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (np.abs(values) < OFF_SCALE), values, np.nan)


def _positive(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all(finite > 0))


def _log_y(ax, values: np.ndarray) -> None:
    """A log y axis; within less than a decade the ticks read 0.6, 0.7 rather than 6x10^-1."""
    ax.set_yscale("log")
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size and finite.max() / finite.min() < 10:
        ax.yaxis.set_major_locator(MaxNLocator(6))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))


def _break_jumps(y: np.ndarray, limit: float = 0.2) -> np.ndarray:
    """y with NaN where it jumps (a step derivative), so the line is not drawn vertically there."""
    y = y.astype(float).copy()
    jump = np.abs(np.diff(y)) > limit
    y[1:][jump] = np.nan
    return y


# --- one training run -----------------------------------------------------------------------


def plot_run(run_dir: str | Path) -> list[Path]:
    """The pictures of a `train` run directory; returns the PNG paths written.

    curves.png always; decision_boundary.png for 2-D classification and fit.png for 1-D
    regression (both need params.npz and a rebuildable dataset, else they are skipped with
    a warning); diagnostics.png when metrics.csv has per-layer columns (grad_L1, dead_L1, ...).
    """
    run_dir = Path(run_dir)
    metrics_path = run_dir / "metrics.csv"
    cols = _columns(_read_rows(metrics_path), metrics_path)
    if "epoch" not in cols or "cost" not in cols:
        raise UserError(f"{metrics_path}: not a train run's metrics (no epoch or cost column)")
    name = _run_name(run_dir)
    cfg = _try_config(run_dir)
    summary = _try_json(run_dir / "summary.json")
    out = [_curves(run_dir, name, cols, cfg, summary)]
    if _diagnostic_columns(cols):
        out.append(_diagnostics(run_dir, name, cols, cfg))
    if (run_dir / "params.npz").exists() and cfg is not None:
        from .run import load_network  # imported here: plotting a sweep never needs the network

        try:
            cfg, data, net = load_network(run_dir)
        except UserError as err:
            warnings.warn(f"{run_dir}: no decision boundary or fit: {err}", stacklevel=2)
            return out
        if data.n_inputs == 2 and data.task in ("binary", "multiclass"):
            out.append(_decision_boundary(run_dir, name, cfg, data, net))
        elif data.n_inputs == 1 and data.task == "regression":
            out.append(_fit(run_dir, name, cfg, data, net))
    return out


def _try_config(run_dir: Path):
    from .loading import load_config

    try:
        return load_config(run_dir / "config.yaml")
    except UserError:
        return None


def _try_json(path: Path) -> dict[str, Any]:
    try:
        return _read_json(path)
    except UserError:
        return {}


def _phase_marks(ax, cfg, until: Any = None) -> None:
    """Dotted lines where a new training phase starts, labelled with its hidden activation.

    Phases that start after epoch `until` (a run that diverged or was interrupted before them)
    are not marked: they never ran.
    """
    if cfg is None or len(cfg.train.phases) < 2:
        return
    last = until if isinstance(until, (int, float)) else math.inf
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    start = 0
    for phase in cfg.phases():
        if start > last or (start == last and start > 0):
            break
        if start > 0:
            ax.axvline(start, color="0.4", ls=":", lw=1)
        hidden = phase.hidden if isinstance(phase.hidden, str) else "/".join(phase.hidden)
        ax.text(start, 0.98, f" {hidden}", transform=trans, va="top", ha="left", fontsize=8, color="0.3")
        start += phase.epochs


def _few_points(n: int) -> dict[str, Any]:
    """Marker options for a curve of n finite points: a line of one or two points is invisible."""
    return {"marker": "o", "ms": 5} if n <= 2 else {}


def _curves(run_dir: Path, name: str, cols: dict[str, np.ndarray], cfg, summary: dict) -> Path:
    cols = {k: _on_scale(v) for k, v in cols.items()}
    epoch = cols["epoch"]
    score = _score_key(cols)
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for ax, key, label in ((ax_c, "cost", "cost"), (ax_s, score, _score_label(score))):
        for prefix, style, what in (("", "-", "train"), ("test_", "--", "test")):
            values = cols.get(prefix + key)
            if values is None:
                continue
            ok = np.isfinite(values)
            ax.plot(epoch[ok], values[ok], style, lw=1.6, color=COLORS[0] if not prefix else COLORS[1],
                    label=f"{what} {label}", **_few_points(int(ok.sum())))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        _phase_marks(ax, cfg, until=summary.get("epochs_done"))
        diverged = summary.get("diverged_epoch")
        if isinstance(diverged, (int, float)):
            ax.axvline(diverged, color="red", lw=1.2, label=f"diverged (epoch {int(diverged)})")
        ax.legend(loc="best", fontsize=9)
    costs = np.concatenate([cols[k] for k in ("cost", "test_cost") if k in cols])
    if _positive(costs):
        _log_y(ax_c, costs)
    ax_c.set_title("Cost")
    if score == "r2":
        finite = np.concatenate([cols[k][np.isfinite(cols[k])] for k in ("r2", "test_r2") if k in cols])
        if finite.size and finite.min() < -1:  # early R² can be hugely negative: keep the end readable
            ax_s.set_ylim(-1.05, 1.05)
            ax_s.set_title("R² (axis clipped at -1)")
        else:
            ax_s.set_title("R²")
    else:
        ax_s.set_ylim(-0.02, 1.02)
        ax_s.set_title("Accuracy")
    status = summary.get("status")
    fig.suptitle(f"{name}: learning curves" + (f" ({status})" if status and status != "completed" else ""))
    return _save(fig, run_dir / "curves.png")


def _diagnostic_columns(cols: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    """{'grad': [(1, 'grad_L1'), ...], 'dead': [...], ...} for the per-layer columns present."""
    found: dict[str, list[tuple[int, str]]] = {}
    for key in cols:
        m = DIAGNOSTIC_COLUMN.fullmatch(key)
        if m:
            found.setdefault(m.group(1), []).append((int(m.group(2)), key))
    return {kind: sorted(v) for kind, v in found.items()}


def _diagnostics(run_dir: Path, name: str, cols: dict[str, np.ndarray], cfg) -> Path:
    cols = {k: _on_scale(v) for k, v in cols.items()}
    diag = _diagnostic_columns(cols)
    epoch = cols["epoch"]
    panels = []
    if "dead" in diag or "sparsity" in diag:
        panels.append("dead")
    if "grad" in diag:
        panels.append("grad")
    if "wnorm" in diag:
        panels.append("wnorm")
    if "slope" in diag:
        panels.append("slope")
    ncols = len(panels) if len(panels) <= 3 else 2
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, 4 * nrows), layout="constrained", squeeze=False,
                             sharex=True)
    for ax in axes.flat[len(panels):]:
        ax.remove()
    for ax, panel in zip(axes.flat, panels):
        if panel == "dead":
            for l, key in diag.get("dead", []):
                ax.plot(epoch, cols[key], "-", color=COLORS[(l - 1) % 10], lw=1.6, label=f"dead units, layer {l}")
            for l, key in diag.get("sparsity", []):
                ax.plot(epoch, cols[key], ":", color=COLORS[(l - 1) % 10], lw=1.4, label=f"zero outputs, layer {l}")
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("share of units / outputs")
            ax.set_title("Dead units (solid) and sparsity (dotted) per hidden layer", fontsize=10)
        elif panel in ("grad", "wnorm"):
            for l, key in diag[panel]:
                v = cols[key]
                ok = np.isfinite(v) & (v > 0)
                ax.plot(epoch[ok], v[ok], color=COLORS[(l - 1) % 10], lw=1.6, label=f"W{l}")
            values = np.concatenate([cols[k] for _, k in diag[panel]])
            if panel == "grad" and _positive(values):
                _log_y(ax, values)
            what = "gradient norm" if panel == "grad" else "weight norm"
            ax.set_ylabel(what)
            ax.set_title(f"{what.capitalize()} per weight layer", fontsize=10)
        else:
            for l, key in diag["slope"]:
                ax.plot(epoch, cols[key], color=COLORS[(l - 1) % 10], lw=1.6, label=f"layer {l}")
            ax.set_ylabel("PReLU slope")
            ax.set_title("Learned PReLU slope per hidden layer", fontsize=10)
        ax.set_xlabel("epoch")
        ax.tick_params(labelbottom=True)
        ax.grid(alpha=0.3)
        _phase_marks(ax, cfg, until=float(np.nanmax(epoch)) if np.isfinite(epoch).any() else None)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(f"{name}: per-layer diagnostics")
    return _save(fig, run_dir / "diagnostics.png")


def _plane(X: np.ndarray, n: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """A grid over the data's bounding box with 10 % padding: (xx, yy, extent)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.maximum(0.15 * (hi - lo), 0.1)
    lo, hi = lo - pad, hi + pad
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, (lo[0], hi[0], lo[1], hi[1])


def _input_labels(ax, cfg) -> None:
    suffix = " (standardised)" if cfg.data.normalize else ""
    ax.set_xlabel("$x_1$" + suffix)
    ax.set_ylabel("$x_2$" + suffix)


def _decision_boundary(run_dir: Path, name: str, cfg, data, net) -> Path:
    xx, yy, extent = _plane(data.X)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    with np.errstate(all="ignore"):
        out = net.predict(grid)[0]
    fig, ax = plt.subplots(figsize=(6.8, 5.6), layout="constrained")
    dot = _marker_size(len(data.X))
    if data.task == "binary":
        z = out[:, 0].reshape(xx.shape)
        finite = z[np.isfinite(z)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if lo >= 0 and hi <= 1:
            norm = TwoSlopeNorm(vcenter=0.5, vmin=0.0, vmax=1.0)
        else:
            norm = TwoSlopeNorm(vcenter=0.5, vmin=min(lo, 0.5 - 1e-6), vmax=max(hi, 0.5 + 1e-6))
        im = ax.imshow(z, origin="lower", extent=extent, cmap="RdBu_r", norm=norm, aspect="auto",
                       interpolation="bilinear", alpha=0.85)
        fig.colorbar(im, ax=ax, label="network output", shrink=0.9)
        if np.isfinite(z).any() and np.nanmin(z) < 0.5 < np.nanmax(z):
            ax.contour(xx, yy, z, levels=[0.5], colors="black", linewidths=2)
        labels = (data.Y[:, 0] > 0.5).astype(int)
        cmap = plt.get_cmap("RdBu_r")
        for k, colour in ((0, cmap(0.08)), (1, cmap(0.92))):
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
        palette = np.array([to_rgb(COLORS[k % 10]) for k in range(C)])
        rgb = 1 - (1 - palette[cls]) * (0.25 + 0.5 * strength)  # pale where the network is unsure
        ax.imshow(rgb, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
        ax.contour(xx, yy, cls, levels=np.arange(C) + 0.5, colors="black", linewidths=1.5)
        labels = np.argmax(data.Y, axis=1)
        for k in range(C):
            pts = data.X[labels == k]
            ax.scatter(pts[:, 0], pts[:, 1], s=dot, color=COLORS[k % 10], edgecolors="black", linewidths=0.5,
                       label=f"class {k} ({len(pts)})")
        handles, names = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="black", lw=1.5))
        names.append("class boundary")
        ax.legend(handles, names, loc="upper right", fontsize=8, framealpha=0.85)
        bar = fig.colorbar(plt.cm.ScalarMappable(cmap=ListedColormap(palette)), ax=ax, shrink=0.9,
                           label="predicted class (pale: unsure)", ticks=(np.arange(C) + 0.5) / C)
        bar.set_ticklabels([str(k) for k in range(C)])
    _note_if_not_finite(ax, out)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if data.name == "circle":
        ax.set_aspect("equal")
    _input_labels(ax, cfg)
    acc = _accuracy(net, data.X, data.Y, data.task)
    hidden = "-".join(map(str, cfg.model.layers))
    ax.set_title(f"{name}: decision boundary\n{hidden} net, train accuracy {acc:.1%}", fontsize=11)
    return _save(fig, run_dir / "decision_boundary.png")


def _note_if_not_finite(ax, output: np.ndarray) -> None:
    """Say so on the picture when the network's output is not finite (a diverged run)."""
    bad = ~np.isfinite(output)
    if bad.any():
        share = "" if bad.all() else f" at {bad.mean():.0%} of the grid"
        ax.text(0.5, 0.5, f"network output is not finite{share}\n(the run diverged)", transform=ax.transAxes,
                ha="center", va="center", color="red", fontsize=11, bbox={"facecolor": "white", "alpha": 0.85})


def _marker_size(n: int) -> float:
    """Big dots for a handful of points (XOR's four corners), small ones for a cloud."""
    return float(np.clip(3000 / max(n, 1), 14, 90))


def _accuracy(net, X: np.ndarray, Y: np.ndarray, task: str) -> float:
    with np.errstate(all="ignore"):
        a = net.predict(X)[0]
    if task == "multiclass":
        return float(np.mean(a.argmax(-1) == Y.argmax(-1)))
    return float(np.mean((a > 0.5) == (Y > 0.5)))


def _fit(run_dir: Path, name: str, cfg, data, net) -> Path:
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
    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    for j in range(data.n_outputs):
        tag = f" (output {j + 1})" if data.n_outputs > 1 else ""
        ax.scatter(x, data.Y[:, j], s=12, color="0.45" if j == 0 else COLORS[j % 10], alpha=0.7,
                   label=f"training data{tag} ({len(x)})")
        if data.X_test is not None:
            ax.scatter(data.X_test[:, 0], data.Y_test[:, j], s=12, facecolors="none", edgecolors="0.45",
                       alpha=0.6, label=f"test data{tag} ({len(data.X_test)})")
        ax.plot(grid[:, 0], curve[:, j], color="red", lw=2, label=f"network{tag}")
    hidden = cfg.model.hidden_list(cfg.phases()[-1].hidden)
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
    layers = "-".join(map(str, cfg.model.layers))
    ax.set_title(f"{name}: fitted curve ({layers} net, train R² = {r2:.3f})")
    return _save(fig, run_dir / "fit.png")


# --- sweeps and comparisons -----------------------------------------------------------------


def plot_sweep(run_dir: str | Path) -> list[Path]:
    """The pictures of a `sweep` or `compare` directory; returns the PNG paths written.

    sweep.png: success rate and median final cost against the learning rate (against the first
    grid key when there is no train.lr axis in a sweep). compare: compare_curves.png and
    compare_success.png (compare_cost.png when the config has no success criterion).
    """
    g = SweepDir(Path(run_dir))
    out = []
    lr = lr_key(g.keys)
    if g.kind == "compare":
        if lr is not None and len(g.axes[lr]) > 1:
            out.append(_sweep_figure(g, lr))
        out.append(_compare_curves(g))
        out.append(_compare_bars(g))
    else:
        x_key = lr or (g.keys[0] if g.keys else None)
        out.append(_sweep_figure(g, x_key))
    return out


def _series(g: SweepDir, x_key: str | None) -> dict[str, list[dict[str, str]]]:
    """Summary rows grouped into lines by the values of every grid key except `x_key`."""
    others = [k for k in g.keys if k != x_key]
    lines: dict[str, list[dict[str, str]]] = {}
    for row in g.summary:
        lines.setdefault(g.label(row, others) or "all", []).append(row)
    return lines


def _sweep_figure(g: SweepDir, x_key: str | None) -> Path:
    lines = _series(g, x_key)
    xs_all = [r.get(x_key, "") for r in g.summary] if x_key else ["all"] * len(g.summary)
    numeric = all(math.isfinite(cell_float(v)) for v in xs_all)
    categories = list(dict.fromkeys(xs_all))

    def xpos(rows):
        if numeric:
            return np.array([cell_float(r.get(x_key)) for r in rows]) if x_key else np.zeros(len(rows))
        return np.array([categories.index(r.get(x_key, "all") if x_key else "all") for r in rows], dtype=float)

    panels = ["success", "cost"] if g.has_success else ["cost"]
    colours, alpha = palette(len(lines)), _band_alpha(len(lines))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.6), layout="constrained", squeeze=False,
                             sharex=True)
    best = g.best()
    for ax, panel in zip(axes[0], panels):
        for i, (label, rows) in enumerate(lines.items()):
            order = np.argsort(xpos(rows), kind="stable")
            rows = [rows[j] for j in order]
            x, colour = xpos(rows), colours[i]
            if panel == "success":
                y, lo, hi = (g.num(k, rows) for k in ("success_rate", "success_low", "success_high"))
            else:
                y, lo, hi = (g.num(k, rows) for k in ("cost_median", "cost_q1", "cost_q3"))
            ax.plot(x, y, "o-", color=colour, lw=1.8, ms=5, label=label if len(lines) > 1 else None)
            ax.fill_between(x, lo, hi, color=colour, alpha=alpha, lw=0)
            if best in rows:
                k = rows.index(best)
                if math.isfinite(y[k]):
                    ax.plot(x[k], y[k], "*", color="gold", ms=16, mec="black", zorder=5)
            if panel == "cost":
                _mark_diverged(ax, x, y, rows)
        if numeric and x_key:
            xv = np.array([cell_float(v) for v in xs_all])
            if np.all(xv > 0) and (x_key in LR_KEYS or xv.max() / xv.min() >= 20):
                ax.set_xscale("log")
                if xv.max() / xv.min() < 100:  # under two decades: label the grid values, not minor ticks
                    ax.set_xticks(sorted(set(xv)))
                    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                    ax.xaxis.set_minor_formatter(NullFormatter())
        elif not numeric:
            ax.set_xticks(range(len(categories)), [short_value(c) for c in categories], rotation=20)
        ax.set_xlabel(("learning rate" if x_key == "train.lr" else f"learning rate ({x_key})") if x_key in LR_KEYS
                      else (x_key or "grid point"))
        ax.grid(alpha=0.3)
        if panel == "success":
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel("success rate")
            crit = _criterion(g)
            ax.set_title(f"Success rate ({crit}) with 95% Wilson interval", fontsize=10)
        else:
            costs = np.concatenate([g.num(k) for k in ("cost_median", "cost_q1", "cost_q3")])
            if _positive(costs):
                _log_y(ax, costs)
            ax.set_ylabel("final training cost")
            ax.set_title("Median final cost with inter-quartile range", fontsize=10)
        handles, names = ax.get_legend_handles_labels()
        if panel == panels[0]:
            handles.append(Line2D([], [], ls="none", marker="*", color="gold", ms=14, mec="black"))
            names.append("best grid point")
        if handles:
            ax.legend(handles, names, fontsize=8, loc="best")
    if numeric and x_key:  # every grid point in view, also those whose members all diverged (no cost)
        xv = np.array([cell_float(v) for v in xs_all])
        if axes[0][0].get_xscale() == "log":
            axes[0][0].set_xlim(xv.min() / 1.6, xv.max() * 1.6)
        else:
            pad = 0.05 * (xv.max() - xv.min()) or 0.5
            axes[0][0].set_xlim(xv.min() - pad, xv.max() + pad)
    n_seeds = len(g.seeds) or "?"
    what = "learning-rate sweep" if x_key in LR_KEYS else "sweep"
    fig.suptitle(f"{g.name}: {what} ({n_seeds} seeds per grid point)")
    return _save(fig, g.dir / "sweep.png")


def _mark_diverged(ax, x: np.ndarray, y: np.ndarray, rows: list[dict[str, str]]) -> None:
    """Red text '3/8 div.' at grid points where members diverged (at the top when all did)."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for xi, yi, r in zip(x, y, rows):
        d, n = cell_float(r.get("diverged")), cell_float(r.get("members"))
        if not (math.isfinite(d) and d > 0):
            continue
        text = f"{int(d)}/{int(n) if math.isfinite(n) else '?'} div."
        if math.isfinite(yi):
            ax.annotate(text, (xi, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7,
                        color="red")
        else:
            ax.plot([xi], [0.97], "x", color="red", ms=8, mew=2, transform=trans)
            ax.text(xi, 0.93, text, transform=trans, ha="center", va="top", fontsize=7, color="red")


def _criterion(g: SweepDir) -> str:
    cfg = read_yaml_or_none(g.dir / "config.yaml")
    s = cfg.get("success") if isinstance(cfg, dict) else None
    if isinstance(s, dict) and s.get("metric"):
        if s.get("at_least") is not None:
            return f"{s['metric']} ≥ {s['at_least']}"
        if s.get("at_most") is not None:
            return f"{s['metric']} ≤ {s['at_most']}"
    return "criterion met"


def _choice_label(g: SweepDir, name: str, row: dict[str, str]) -> str:
    others = [k for k in g.keys if k != _compare_key(g)]
    extra = g.label(row, others).replace("train.lr=", "lr=")
    return f"{name} ({extra})" if extra else name


def _member_curves(g: SweepDir) -> dict[str, dict[int, tuple[float, float]]]:
    """metrics.csv as {member: {epoch: (cost, score)}}, for members listed in members.csv."""
    path = g.dir / "metrics.csv"
    rows = _read_rows(path)
    if rows and ("member" not in rows[0] or "epoch" not in rows[0] or "cost" not in rows[0]):
        raise UserError(f"{path}: not a sweep's long-form metrics (needs member, epoch, cost)")
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for r in rows:
        epoch = int(cell_float(r["epoch"]))
        out.setdefault(r["member"], {})[epoch] = (cell_float(r["cost"]), cell_float(r.get(g.score)))
    return out


def _compare_curves(g: SweepDir) -> Path:
    curves = _member_curves(g)
    choices = compare_choices(g)
    epochs = sorted({e for c in curves.values() for e in c})
    if not epochs:
        raise UserError(f"{g.dir / 'metrics.csv'}: no logged rows")
    ep = np.array(epochs, dtype=float)
    index = {e: i for i, e in enumerate(epochs)}
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    all_costs = []
    colours, alpha = palette(len(choices)), _band_alpha(len(choices))
    for i, (name, row) in enumerate(choices):
        ids = [m["member"] for m in g.members if all(m.get(k) == row[k] for k in g.keys)]
        if not ids:
            continue
        # After its last logged epoch a member has stopped: it diverged. It counts as the worst value
        # (cost +inf, score -inf), so a median is not taken over the survivors only. Epochs that
        # some running member did not log (others logged a divergence there) are left out.
        cost = np.full((len(ids), len(epochs)), np.nan)
        score = np.full((len(ids), len(epochs)), np.nan)
        for j, mid in enumerate(ids):
            logged = curves.get(mid, {})
            for e, (c, s) in logged.items():
                ok = math.isfinite(c)
                cost[j, index[e]] = c if ok else np.inf
                score[j, index[e]] = s if ok and math.isfinite(s) else -np.inf
            stopped = index[max(logged)] + 1 if logged else 0
            cost[j, stopped:], score[j, stopped:] = np.inf, -np.inf
        keep = ~np.isnan(cost).any(axis=0)
        cost, score = cost[:, keep], score[:, keep]
        colour = colours[i]
        style = "-" if i < 10 else "--"
        label = f"{_choice_label(g, name, row)}, n={len(ids)}"
        q = _quartiles(cost, worst=np.inf)
        all_costs.append(q[np.isfinite(q)])
        _median_line(ax_c, ep[keep], q, style, colour, alpha, label)
        _median_line(ax_s, ep[keep], _quartiles(score, worst=-np.inf), style, colour, alpha, label)
    if all_costs and _positive(np.concatenate(all_costs)):
        _log_y(ax_c, np.concatenate(all_costs))
    ax_c.set_ylabel("training cost")
    ax_c.set_title("Median training cost, inter-quartile band", fontsize=10)
    ax_s.set_ylabel(f"training {_score_label(g.score)}")
    ax_s.set_title(f"Median training {_score_label(g.score)}, inter-quartile band", fontsize=10)
    if g.score == "accuracy":
        ax_s.set_ylim(-0.02, 1.02)
    elif ax_s.get_ylim()[0] < -1:  # R² is at most 1; early values can be hugely negative
        ax_s.set_ylim(-1.05, 1.05)
        ax_s.set_title("Median training R², inter-quartile band (axis clipped at -1)", fontsize=10)
    for ax in (ax_c, ax_s):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    lr_note = "; each at its best grid point" if len(g.keys) > 1 else ""
    fig.suptitle(f"{g.name}: activations compared over epochs ({len(g.seeds) or '?'} seeds each{lr_note})")
    return _save(fig, g.dir / "compare_curves.png")


def _quartiles(values: np.ndarray, worst: float) -> np.ndarray:
    """Quartiles over members (axis 0) where `worst` (±inf) marks a diverged member; NaN where infinite."""
    with np.errstate(invalid="ignore"):
        q = np.nan_to_num(np.quantile(values, [0.25, 0.5, 0.75], axis=0), nan=worst)
    q[~np.isfinite(q)] = np.nan
    return q


def _median_line(ax, ep: np.ndarray, q: np.ndarray, style: str, colour, alpha: float, label: str) -> None:
    """The median with its inter-quartile band, up to where half the members had diverged.

    From there on the median is the diverged members' (infinite): the line stops and a cross at
    the top of the panel marks the epoch, with the legend saying so.
    """
    finite = np.isfinite(q[1])
    gone = np.flatnonzero(~finite & (np.cumsum(finite) > 0))  # infinite after a finite start
    if finite.any() and gone.size:
        label += f" (median diverged at epoch {ep[gone[0]]:g})"
    elif not finite.any():
        label += " (median diverged before the first log)"
    ax.plot(ep, q[1], style, color=colour, lw=1.8, label=label, **_few_points(int(finite.sum())))
    ax.fill_between(ep, q[0], q[2], color=colour, alpha=alpha, lw=0)
    if gone.size:
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot([ep[gone[0]]], [0.97], "x", color=colour, ms=9, mew=2.2, transform=trans, clip_on=False)


def _compare_bars(g: SweepDir) -> Path:
    choices = compare_choices(g)
    names = [_choice_label(g, n, r) for n, r in choices]
    rows = [r for _, r in choices]
    x = np.arange(len(rows))
    colours = palette(len(rows))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(rows) + 2), 4.8), layout="constrained")
    if g.has_success:
        y, lo, hi = (g.num(k, rows) for k in ("success_rate", "success_low", "success_high"))
        ax.bar(x, y, color=colours, alpha=0.85, edgecolor="black", lw=0.6)
        ax.scatter(x, y, color=colours, edgecolors="black", s=30, zorder=3)  # visible even at 0 %
        ax.errorbar(x, y, yerr=[np.maximum(y - lo, 0), np.maximum(hi - y, 0)], fmt="none", ecolor="black",
                    capsize=6, lw=1.2)
        for xi, r, yi, top in zip(x, rows, y, hi):
            n = cell_float(r.get("members"))
            k = round(yi * n) if math.isfinite(n) and math.isfinite(yi) else "?"
            ax.text(xi, (top if math.isfinite(top) else yi) + 0.02, f"{k}/{int(n) if math.isfinite(n) else '?'}",
                    ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("success rate (error bars: 95% Wilson interval)")
        ax.set_title(f"{g.name}: success rate per activation ({_criterion(g)})")
        path = g.dir / "compare_success.png"
    else:
        # dots, not bars: a cost axis need not start at 0, and bars would exaggerate small differences
        y, lo, hi = (g.num(k, rows) for k in ("cost_median", "cost_q1", "cost_q3"))
        for xi, yi, l, h, c in zip(x, y, lo, hi, colours):
            if math.isfinite(yi):
                ax.errorbar([xi], [yi], yerr=[[max(yi - l, 0)], [max(h - yi, 0)]], fmt="o", color=c, ms=9,
                            mec="black", ecolor="black", capsize=6, lw=1.2)
        _mark_diverged(ax, x, y, rows)
        values = np.concatenate([y, lo, hi])
        finite = values[np.isfinite(values)]
        if _positive(values) and finite.max() / finite.min() >= 10:
            ax.set_yscale("log")
        ax.set_xlim(-0.6, len(rows) - 0.4)
        ax.set_ylabel("final training cost: median and inter-quartile range")
        ax.set_title(f"{g.name}: final cost per activation")
        path = g.dir / "compare_cost.png"
    ax.set_xticks(x, names, rotation=20 if len(rows) > 4 else 0, ha="right" if len(rows) > 4 else "center")
    ax.set_xlabel("hidden activation" if _compare_key(g) == "model.hidden" else (_compare_key(g) or ""))
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


# --- activation functions -------------------------------------------------------------------


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
        ax.plot(z, _break_jumps(df), "--", color=COLORS[3], lw=1.6,
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
    return _save(fig, path)


# --- dispatch -------------------------------------------------------------------------------


def plot_any(run_dir: str | Path) -> list[Path]:
    """plot_run for a train run, plot_sweep for a sweep or compare; raises UserError otherwise."""
    kind = run_kind(run_dir)
    return plot_run(run_dir) if kind == "train" else plot_sweep(run_dir)

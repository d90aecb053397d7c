"""A train run's pictures: learning curves, per-layer diagnostics, and (through output.py) what
the trained net computes over its inputs."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from ..diagnostics import COLUMN as DIAGNOSTIC_COLUMN
from ..errors import PictureWarning, UserError
from ..runfiles import read_json, score_key
from ..snapshots import SNAPSHOTS
from .depth import run_depth
from .layer_outputs import plot_layer_outputs
from .output import decision_boundary, fit
from .style import (
    COLORS,
    epoch_axis,
    few_points,
    log_y,
    on_scale,
    palette,
    phase_marks,
    plt,
    positive,
    read_metrics,
    run_name,
    save,
    score_label,
    thin,
)
from .units import plot_raster, plot_units, plot_weights

# --- one training run -----------------------------------------------------------------------


def plot_run(run_dir: str | Path) -> list[Path]:
    """The pictures of a `train` run directory; returns the PNG paths written.

    curves.png always; decision_boundary.png for 2-D classification and fit.png for 1-D
    regression (both need params.npz and a rebuildable dataset, else they are skipped with
    a warning); diagnostics.png when metrics.csv has per-layer columns (grad_L1, dead_L1, ...);
    units.png (1 or 2 inputs), units_raster.png and weights.png from snapshots.npz (see units.py).
    """
    run_dir = Path(run_dir)
    metrics_path = run_dir / "metrics.csv"
    cols = read_metrics(metrics_path)
    if "epoch" not in cols or "cost" not in cols:
        raise UserError(f"{metrics_path}: not a train run's metrics (no epoch or cost column)")
    name = run_name(run_dir)
    cfg = try_config(run_dir)
    summary = try_json(run_dir / "summary.json")
    out = [_curves(run_dir, name, cols, cfg, summary)]
    if diagnostic_columns(cols):
        out.append(_diagnostics(run_dir, name, cols, cfg))
        for extra in (run_depth(run_dir, name, cols), plot_layer_outputs(run_dir, name, cols, cfg)):
            if extra is not None:
                out.append(extra)
    if (run_dir / "params.npz").exists() and cfg is not None:
        from ..run import load_network  # imported here: plotting a sweep never needs the network

        try:
            cfg, data, net = load_network(run_dir)
        except UserError as err:
            warnings.warn(f"{run_dir}: no decision boundary or fit: {err}", PictureWarning, stacklevel=2)
            return out
        if data.n_inputs == 2 and data.task in ("binary", "multiclass"):
            out.append(decision_boundary(run_dir, name, cfg, data, net))
        elif data.n_inputs == 1 and data.task == "regression":
            out.append(fit(run_dir, name, cfg, data, net))
        if (run_dir / SNAPSHOTS).exists() and len(cfg.model.layers) > 2:
            try:
                if data.n_inputs in (1, 2):
                    out.append(plot_units(run_dir, cfg, data, name=name))
                out.append(plot_raster(run_dir, cfg, data, summary, name=name))
                out.append(plot_weights(run_dir, cfg, data, name=name))
            except UserError as err:
                warnings.warn(f"no unit pictures: {err}", PictureWarning, stacklevel=2)
    return out


def try_config(run_dir: Path):
    from ..loading import load_config

    try:
        return load_config(run_dir / "config.yaml")
    except UserError:
        return None


def try_json(path: Path) -> dict[str, Any]:
    try:
        return read_json(path)
    except UserError:
        return {}


def _curves(run_dir: Path, name: str, cols: dict[str, np.ndarray], cfg, summary: dict) -> Path:
    drawn = ("epoch", "cost", "test_cost", "accuracy", "test_accuracy", "r2", "test_r2")
    cols = {k: on_scale(v) for k, v in cols.items() if k in drawn}  # a copy of what is drawn only
    epoch = cols["epoch"]
    score = score_key(cols)
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for ax, key, label in ((ax_c, "cost", "cost"), (ax_s, score, score_label(score))):
        for prefix, style, what in (("", "-", "train"), ("test_", "--", "test")):
            values = cols.get(prefix + key)
            if values is None:
                continue
            ok = np.isfinite(values)
            x, y = epoch[ok], values[ok]
            drawn = thin(len(x), y)
            ax.plot(x[drawn], y[drawn], style, lw=1.6, color=COLORS[0] if not prefix else COLORS[1],
                    label=f"{what} {label}", **few_points(int(ok.sum())))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        phase_marks(ax, cfg, until=summary.get("epochs_done"))
        diverged = summary.get("diverged_epoch")
        if isinstance(diverged, (int, float)):
            ax.axvline(diverged, color="red", lw=1.2, label=f"diverged (epoch {int(diverged)})")
        ax.legend(loc="best", fontsize=9)
    costs = np.concatenate([cols[k] for k in ("cost", "test_cost") if k in cols])
    if positive(costs):
        log_y(ax_c, costs)
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
    return save(fig, run_dir / "curves.png")


PER_LAYER = ("dead", "sparsity", "grad", "wnorm", "slope")  # the kinds of column diagnostics.png draws


def diagnostic_columns(cols: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    """{'grad': [(1, 'grad_L1'), ...], 'dead': [...], ...} for the per-layer columns present."""
    found: dict[str, list[tuple[int, str]]] = {}
    for key in cols:
        m = DIAGNOSTIC_COLUMN.fullmatch(key)
        if m:
            found.setdefault(m.group(1), []).append((int(m.group(2)), key))
    return {kind: sorted(v) for kind, v in found.items()}


def _diagnostics(run_dir: Path, name: str, cols: dict[str, np.ndarray], cfg) -> Path:
    diag = diagnostic_columns(cols)
    wanted = {"epoch"} | {key for kind in PER_LAYER for _, key in diag.get(kind, [])}
    cols = {k: on_scale(v) for k, v in cols.items() if k in wanted}  # a copy of what is drawn only
    epoch = cols["epoch"]
    drawn = thin(len(epoch), *(cols[k] for kind in ("dead", "sparsity", "slope") for _, k in diag.get(kind, [])))
    panels = [p for p, kinds in (("dead", ("dead", "sparsity")), ("grad", ("grad",)), ("wnorm", ("wnorm",)),
                                 ("slope", ("slope",))) if any(k in diag for k in kinds)]
    ncols = len(panels) if len(panels) <= 3 else 2
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, 4 * nrows), layout="constrained", squeeze=False,
                             sharex=True)
    for ax in axes.flat[len(panels):]:
        ax.remove()
    layers = sorted({l for kind in PER_LAYER for l, _ in diag.get(kind, [])})
    colour = dict(zip(layers, palette(len(layers))))  # one colour per layer, never shared (W1 and W11)
    floored = False
    for ax, panel in zip(axes.flat, panels):
        if panel == "dead":
            for l, key in diag.get("dead", []):
                ax.plot(epoch[drawn], cols[key][drawn], "-", color=colour[l], lw=1.6)
            for l, key in diag.get("sparsity", []):
                ax.plot(epoch[drawn], cols[key][drawn], ":", color=colour[l], lw=1.4)
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("share of units / outputs")
            ax.set_title("Dead units (solid) and zero outputs (dotted)", fontsize=10)
        elif panel in ("grad", "wnorm"):
            values = np.concatenate([cols[k] for _, k in diag[panel]])
            log = panel == "grad" and np.any(values > 0)
            floor = float(np.nanmin(values[values > 0])) / 10 if log else 0.0
            for l, key in diag[panel]:
                v = cols[key]
                zero = log & (v == 0)  # a log axis cannot show 0: drawn at the floor, marked
                v = np.where(zero, floor, v)
                ok = np.isfinite(v)
                x, y = epoch[ok], v[ok]
                shown = thin(len(x), y)
                ax.plot(x[shown], y[shown], color=colour[l], lw=1.6)
                if zero.any():
                    ax.plot(epoch[zero], v[zero], "v", color=colour[l], ms=5, mfc="none")
                    floored = True
            if log:
                log_y(ax, np.where(values == 0, floor, values))
            what = "gradient norm" if panel == "grad" else "weight norm"
            ax.set_ylabel(what)
            ax.set_title(f"{what.capitalize()} per weight layer", fontsize=10)
        else:
            for l, key in diag["slope"]:
                ax.plot(epoch[drawn], cols[key][drawn], color=colour[l], lw=1.6)
            ax.set_ylabel("PReLU slope")
            ax.set_title("Learned PReLU slope per hidden layer", fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelbottom=True)
    series = [cols[k] for kind in PER_LAYER for _, k in diag.get(kind, []) if kind != "wnorm"]
    for ax in axes.flat[: len(panels)]:
        epoch_axis(ax, epoch, series)
        phase_marks(ax, cfg, until=float(np.nanmax(epoch)) if np.isfinite(epoch).any() else None)
    handles = [Line2D([], [], color=colour[l], lw=3, label=f"layer {l}") for l in layers]
    if floored:
        handles.append(Line2D([], [], color="0.3", ls="none", marker="v", mfc="none", label="0 (at the axis floor)"))
    fig.legend(handles=handles, loc="outside right center", fontsize=8, ncols=1 if len(handles) <= 16 else 2)
    fig.suptitle(f"{name}: per-layer diagnostics")
    return save(fig, run_dir / "diagnostics.png")
